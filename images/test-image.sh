#!/usr/bin/env bash
# Boots the built SD image under qemu-system-aarch64 (-M virt, the image's own kernel and
# initrd from its boot partition) against a cloud-lite hub on the host's loopback, and
# checks that the kiosk applies kiosk.conf, enrols, starts kioskd on simulated hardware
# and connects to the hub. Slow (emulated arm64): several minutes.
#
#   images/test-image.sh              # or: npm run test:image   (builds the image if missing)
#   IMAGE=path/to.img images/test-image.sh
#   BOOT_TIMEOUT=3600 images/test-image.sh   (default 2400 s)
#
# The guest's network is QEMU user mode with restrict=on: it reaches nothing but the hub,
# forwarded from 10.0.2.100:8080 in the guest to 127.0.0.1:<hub port> on the host
# (guestfwd cmd: a small Node pipe per connection).
# kiosk.conf says HARDWARE=sim: apply-config.mjs then gives kioskd every device's
# simulator (QEMU has no slot board, relays or slot hubs).
# Two test-only units are written into the root partition of the test's copy of the
# image (debugfs; the built image is not changed): one runs `kioskctl status` as a user
# whose only extra group is kiosk-tech (a technician), one asks the storage helper for
# a refusal as the kiosk user (kioskd's account reaches the root helper's socket).
# Logs stay in images/work/test-image/ (console.log, hub.log).
# Runs QEMU under nice/ionice (the build machine is shared); BOOT_TIMEOUT is generous.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
version=${IMAGE_VERSION:-$(node -p "require('$repo/package.json').version")}
img=${IMAGE:-$here/work/disk-kiosk-$version-arm64.img}
t=$here/work/test-image
timeout_s=${BOOT_TIMEOUT:-2400}
kiosk_id=qemu-kiosk-1
say() { printf '[test-image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "FAIL: $*"; exit 1; }

for pair in qemu-system-aarch64:qemu-system-arm mcopy:mtools sfdisk:fdisk debugfs:e2fsprogs; do
  command -v "${pair%%:*}" >/dev/null || {
    say "installing ${pair#*:}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pair#*:}" >/dev/null
  }
done
if [ ! -f "$img" ]; then
  xz=$here/out/disk-kiosk-$version-arm64.img.xz
  if [ -f "$xz" ]; then
    say "decompressing $xz"
    mkdir -p "$(dirname "$img")" && xz -dc "$xz" >"$img"
  else
    say "no image yet: building it (npm run image:build)"
    "$here/build.sh"
  fi
fi

rm -rf "$t" && mkdir -p "$t/hub"
qemu_pid='' hub_pid=''
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  rm -f "$t/disk.img"
  true
}
trap cleanup EXIT INT TERM

# A copy of the image, 1 GiB larger so that first boot has a data partition to grow.
say "copying $img"
cp --sparse=always "$img" "$t/disk.img"
truncate -s +1G "$t/disk.img"
boot_start=$(sfdisk -d "$t/disk.img" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p')
[ -n "$boot_start" ] || die "no partition 1 in $img"
boot="$t/disk.img@@$((boot_start * 512))"
kernel=$(mdir -b -i "$boot" ::/ | sed 's|^::/||' | grep -E '^vmlinuz' | sort -V | tail -1)
initrd=$(mdir -b -i "$boot" ::/ | sed 's|^::/||' | grep -E '^initrd' | sort -V | tail -1)
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no vmlinuz/initrd on the boot partition"
mcopy -n -i "$boot" "::$kernel" "$t/vmlinuz"
mcopy -n -i "$boot" "::$initrd" "$t/initrd"
say "kernel $kernel, initrd $initrd"

# --- test-only units in the copy's root partition ------------------------------------
root_start=$(sfdisk -d "$t/disk.img" | sed -n 's/.*2 : start= *\([0-9]*\),.*/\1/p')
mkdir -p "$t/units"
cat >"$t/units/disk-kiosk-test-tech.service" <<'UNIT'
[Unit]
Description=test-image: kioskctl status as a technician (kiosk-tech only)
After=kioskd.service
[Service]
Type=oneshot
User=nobody
Group=nogroup
SupplementaryGroups=kiosk-tech
StandardOutput=journal+console
StandardError=journal+console
ExecStart=/bin/sh -c 'for i in $(seq 240); do [ -S /run/disk-kiosk/kioskd.sock ] && break; sleep 2; done; \
  id; ls -ld /run/disk-kiosk /run/disk-kiosk/kioskd.sock; \
  if kioskctl status; then echo "test-image: technician kioskctl status: ok"; else echo "test-image: technician kioskctl status: FAILED"; fi'
[Install]
WantedBy=multi-user.target
UNIT
cat >"$t/units/disk-kiosk-test-helper.service" <<'UNIT'
[Unit]
Description=test-image: the kiosk user reaches the storage helper
After=disk-kiosk-storage.socket
[Service]
Type=oneshot
User=kiosk
Group=kiosk
StandardOutput=journal+console
StandardError=journal+console
ExecStart=/bin/sh -c 'out=$(node /usr/libexec/disk-kiosk/storage-client.mjs umount test-probe 2>&1); rc=$?; echo "$out"; \
  if [ $rc = 2 ] && echo "$out" | grep -q "nothing is mounted"; then echo "test-image: storage helper as kiosk: ok"; else echo "test-image: storage helper as kiosk: FAILED (exit $rc)"; fi'
[Install]
WantedBy=multi-user.target
UNIT
{
  for u in disk-kiosk-test-tech.service disk-kiosk-test-helper.service; do
    echo "write $t/units/$u /etc/systemd/system/$u"
    echo "symlink /etc/systemd/system/multi-user.target.wants/$u /etc/systemd/system/$u"
  done
} >"$t/units/debugfs.cmd"
debugfs -w -f "$t/units/debugfs.cmd" "$t/disk.img?offset=$((root_start * 512))" >"$t/units/debugfs.log" 2>&1 \
  || die "debugfs could not add the test units: $(cat "$t/units/debugfs.log")"
grep -qiE 'error|not found|could not' "$t/units/debugfs.log" && die "debugfs: $(cat "$t/units/debugfs.log")"

# --- hub ---------------------------------------------------------------------------
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
admin=$(node -e 'console.log(require("crypto").randomBytes(24).toString("base64url"))')
hub=http://127.0.0.1:$port
(
  cd "$t/hub"
  CLOUD_LITE_HOST=127.0.0.1 CLOUD_LITE_PORT=$port CLOUD_LITE_ADMIN_TOKEN=$admin \
    CLOUD_LITE_DATABASE_PATH=$t/hub/hub.db CLOUD_LITE_SIGNING_KEY_PATH=$t/hub/key.pem \
    CLOUD_LITE_PUBLIC_URL=http://10.0.2.100:8080 exec node "$repo/bin/cloud-lite.js"
) >"$t/hub.log" 2>&1 &
hub_pid=$!
# http METHOD PATH [JSON]: prints the body, fails on a non-2xx answer.
http() {
  node -e '
    const [m, url, token, body] = process.argv.slice(1);
    fetch(url, { method: m, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body || undefined })
      .then(async (r) => { const t = await r.text(); process.stdout.write(t); process.exit(r.ok ? 0 : 1); })
      .catch((e) => { process.stderr.write(String(e.message)); process.exit(2); });' "$1" "$hub$2" "$admin" "${3:-}"
}
for _ in $(seq 60); do
  http GET /healthz >/dev/null 2>&1 && break
  kill -0 "$hub_pid" 2>/dev/null || die "cloud-lite exited: $(tail -5 "$t/hub.log")"
  sleep 1
done
http GET /healthz >/dev/null || die "cloud-lite /healthz does not answer"
token=$(http POST /api/operator/kiosks "{\"id\":\"$kiosk_id\",\"name\":\"QEMU test kiosk\"}" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).enrolmentToken))') \
  || die "could not create the kiosk on the hub"
say "hub on $hub, kiosk $kiosk_id created"

cat >"$t/kiosk.conf" <<CONF
KIOSK_ID=$kiosk_id
HUB_URL=http://10.0.2.100:8080
ENROL_TOKEN=$token
TIMEZONE=Europe/Berlin
HARDWARE=sim
SLOTS=4
LOG_LEVEL=debug
CONF
mcopy -o -i "$boot" "$t/kiosk.conf" ::kiosk.conf

# --- boot ----------------------------------------------------------------------------
# guestfwd: QEMU runs this once per guest connection, stdin/stdout being the guest's TCP
# stream (a `tcp:` chardev target is one connection opened at QEMU's start: the hub
# never saw the kiosk's requests).
cat >"$t/hub-pipe.cjs" <<'PIPE'
const s = require('node:net').connect(Number(process.argv[2]), '127.0.0.1');
process.stdin.pipe(s).on('error', () => process.exit(1));
s.pipe(process.stdout);
s.on('error', () => process.exit(1));
s.on('close', () => process.exit(0));
PIPE
say "booting (console: $t/console.log)"
nice -n 19 ionice -c3 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 2048 -no-reboot \
  -display none -monitor none -serial "file:$t/console.log" \
  -kernel "$t/vmlinuz" -initrd "$t/initrd" \
  -append "root=PARTUUID=6b696f73-02 rauc.slot=A rootwait console=ttyAMA0 systemd.journald.forward_to_console=1 systemd.log_color=0" \
  -drive if=none,id=hd,file="$t/disk.img",format=raw -device virtio-blk-pci,drive=hd \
  -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:node $t/hub-pipe.cjs $port" \
  -device virtio-net-pci,netdev=n0 &
qemu_pid=$!

milestones=(
  'overlay root:Success: overlayroot'
  'kiosk.conf applied:apply-config: done'
  'data partition grown:grow-data: /var/lib/disk-kiosk is'
  'enrolled:enrol: enrolled'
  'kioskd started:Started kioskd.service'
  'technician reaches kioskctl:test-image: technician kioskctl status: ok'
  'kiosk user reaches the storage helper:test-image: storage helper as kiosk: ok'
)
# Any of these on the console fails the test at once.
fatal=('Failure: overlayroot' 'EROFS' 'test-image: technician kioskctl status: FAILED'
  'test-image: storage helper as kiosk: FAILED')
declare -A seen=()
start=$SECONDS
connected=0
while [ $((SECONDS - start)) -lt "$timeout_s" ]; do
  kill -0 "$qemu_pid" 2>/dev/null || { say "QEMU exited"; break; }
  for m in "${milestones[@]}"; do
    name=${m%%:*} pat=${m#*:}
    if [ -z "${seen[$name]:-}" ] && grep -qF -- "$pat" "$t/console.log" 2>/dev/null; then
      seen[$name]=$((SECONDS - start))
      say "after ${seen[$name]} s: $name"
    fi
  done
  for f in "${fatal[@]}"; do
    if grep -qF -- "$f" "$t/console.log" 2>/dev/null; then
      grep -F -- "$f" "$t/console.log" | head -3 | sed 's/^/  | /'
      die "console shows '$f' (console: $t/console.log)"
    fi
  done
  if [ "$connected" = 0 ] && state=$(http GET "/api/operator/kiosks/$kiosk_id" 2>/dev/null) \
    && grep -q '"connected":true' <<<"$state"; then
    connected=$((SECONDS - start))
    say "after $connected s: the hub lists $kiosk_id as connected"
  fi
  # Connected, and every milestone seen (the checks after kioskd may come a bit later).
  if [ "$connected" != 0 ] && [ "${#seen[@]}" = "${#milestones[@]}" ]; then break; fi
  sleep 5
done
for m in "${milestones[@]}"; do
  name=${m%%:*}
  [ -n "${seen[$name]:-}" ] || say "not seen: $name"
done
if [ "$connected" != 0 ] && [ "${#seen[@]}" = "${#milestones[@]}" ]; then
  grep -E 'test-image: |apply-config: kioskd.json|grow-data: |enrol: ' "$t/console.log" | sed 's/^/  | /'
  say "PASS: kiosk $kiosk_id booted, enrolled and connected in $connected s from power-on ($(http GET "/api/operator/kiosks/$kiosk_id"))"
  exit 0
fi
say "last console lines:"
tail -25 "$t/console.log" | sed 's/^/  | /'
[ "$connected" != 0 ] && die "connected after $connected s, but not every milestone was seen within ${timeout_s}s (console: $t/console.log)"
die "the kiosk did not connect within ${timeout_s}s (console: $t/console.log, hub: $t/hub.log)"
