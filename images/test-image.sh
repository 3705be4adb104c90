#!/usr/bin/env bash
# Boots the built SD image under qemu-system-aarch64 (-M virt) against a cloud-lite hub on the
# host's loopback, and checks that the kiosk applies kiosk.conf, enrols, starts kioskd on
# simulated hardware and connects to the hub. Slow (emulated arm64): several minutes.
#
#   images/test-image.sh              # or: npm run test:image   (builds the image if missing)
#   images/test-image.sh --update     # or: npm run test:image -- --update (images/test-update.sh):
#                                     # then an update to version B over the hub (committed) and
#                                     # one to version C whose kioskd cannot start (rolled back)
#   IMAGE=path/to.img images/test-image.sh
#   BOOT_TIMEOUT=3600 images/test-image.sh   (default 2400 s)
#
# The harness plays the Raspberry Pi firmware: at every power-on it reads the image's FAT
# partition, config.txt (or tryboot.txt when the guest rebooted with `reboot '0 tryboot'`: the
# kernel's "Restarting system with command '0 tryboot'" on the console is the one-shot flag
# the Pi's firmware would get), and boots the kernel, initrd and command line it names
# (`kernel=`, `initramfs`, `cmdline=`; console= replaced by the virt board's ttyAMA0). QEMU
# runs with -no-reboot: a guest reboot ends QEMU and the harness powers it on again
# (--update only; in the plain test a reboot is a failure).
# The guest's network is QEMU user mode with restrict=on: it reaches nothing but the hub,
# forwarded from 10.0.2.100:8080 in the guest to 127.0.0.1:<hub port> on the host
# (guestfwd cmd: a small Node pipe per connection).
# kiosk.conf says HARDWARE=sim: apply-config.mjs then gives kioskd every device's
# simulator (QEMU has no slot board, relays or slot hubs).
# Two test-only units are written into the root partition of the test's copy of the
# image (debugfs; the built image is not changed): one runs `kioskctl status` as a user
# whose only extra group is kiosk-tech (a technician), one asks the storage helper for
# a refusal as the kiosk user (kioskd's account reaches the root helper's socket).
# Logs stay in images/work/test-image/ (console-<boot>.log, console.log = the last boot,
# hub.log). Runs QEMU under nice/ionice (the build machine is shared); BOOT_TIMEOUT is generous.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
mode=boot
while [ $# -gt 0 ]; do
  case $1 in
    --update) mode=update; shift ;;
    -h | --help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "test-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
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
qemu_pid='' hub_pid='' bg_pids=()
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  # Background jobs run in their own process group (set -m): the group goes with them.
  for p in "${bg_pids[@]}"; do kill -- "-$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -f "$t/disk.img"
  true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy of the image, larger so that first boot has a data partition to grow (by 1 GiB; by
# 2 GiB for --update: the data partition holds a downloaded bundle).
say "copying $img"
cp --sparse=always "$img" "$t/disk.img"
if [ "$mode" = update ]; then truncate -s +2G "$t/disk.img"; else truncate -s +1G "$t/disk.img"; fi
if [ "$mode" = update ]; then
  # shellcheck source=test-update.sh
  . "$here/test-update.sh"
  set -m
  make_bundles >"$t/bundles.log" 2>&1 &
  bundles_pid=$!
  set +m
  bg_pids+=("$bundles_pid")
  say "making the bundles of $vb and $vc in the background (log: $t/bundles.log)"
fi
part_start() { sfdisk -d "$1" | sed -n "s/.*$2 : start= *\([0-9]*\),.*/\1/p"; }
boot_start=$(part_start "$t/disk.img" 1)
[ -n "$boot_start" ] || die "no partition 1 in $img"
boot="$t/disk.img@@$((boot_start * 512))"

# --- test-only units in the copy's root partition (slot A) ---------------------------
root_start=$(part_start "$t/disk.img" 2)
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
# The hub's settings, also for `cloud-lite rollout ...` (test-update.sh). Rollout passes
# every 2 s instead of 10 s.
hub_env=(CLOUD_LITE_HOST=127.0.0.1 "CLOUD_LITE_PORT=$port" "CLOUD_LITE_ADMIN_TOKEN=$admin"
  "CLOUD_LITE_DATABASE_PATH=$t/hub/hub.db" "CLOUD_LITE_SIGNING_KEY_PATH=$t/hub/key.pem"
  CLOUD_LITE_PUBLIC_URL=http://10.0.2.100:8080 CLOUD_LITE_ROLLOUT_TICK_MS=2000)
(cd "$t/hub" && exec env "${hub_env[@]}" node "$repo/bin/cloud-lite.js") >"$t/hub.log" 2>&1 &
hub_pid=$!
# http METHOD PATH [JSON]: prints the body, fails on a non-2xx answer.
http() {
  node -e '
    const [m, url, token, body] = process.argv.slice(1);
    fetch(url, { method: m, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body || undefined })
      .then(async (r) => { const t = await r.text(); process.stdout.write(t); process.exit(r.ok ? 0 : 1); })
      .catch((e) => { process.stderr.write(String(e.message)); process.exit(2); });' "$1" "$hub$2" "$admin" "${3:-}"
}
# jget PATH: a field of the JSON on stdin (PATH like rollout.state or kiosks.0.code).
jget() {
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{let v=JSON.parse(s);
    for(const k of process.argv[1].split(".")) v=v==null?v:v[k];
    console.log(v==null?"":typeof v==="object"?JSON.stringify(v):String(v))})' "$1"
}
for _ in $(seq 60); do
  http GET /healthz >/dev/null 2>&1 && break
  kill -0 "$hub_pid" 2>/dev/null || die "cloud-lite exited: $(tail -5 "$t/hub.log")"
  sleep 1
done
http GET /healthz >/dev/null || die "cloud-lite /healthz does not answer"
token=$(http POST /api/operator/kiosks "{\"id\":\"$kiosk_id\",\"name\":\"QEMU test kiosk\"}" | jget enrolmentToken) \
  || die "could not create the kiosk on the hub"
say "hub on $hub, kiosk $kiosk_id created"

# UPDATE_TRIAL_SECONDS: how long a trial boot's kioskd has to commit (the trial guard).
cat >"$t/kiosk.conf" <<CONF
KIOSK_ID=$kiosk_id
HUB_URL=http://10.0.2.100:8080
ENROL_TOKEN=$token
TIMEZONE=Europe/Berlin
HARDWARE=sim
SLOTS=4
LOG_LEVEL=debug
UPDATE_TRIAL_SECONDS=${TRIAL_SECONDS:-600}
CONF
mcopy -o -i "$boot" "$t/kiosk.conf" ::kiosk.conf

# --- the firmware stand-in and the power switch ------------------------------------------
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
# QEMU_WATCHDOG=1: an emulated hardware watchdog (i6300esb; the image's systemd arms it with
# RuntimeWatchdogSec=30s, and its reset ends QEMU like a reboot). Off by default: on a loaded
# host an emulated guest can miss 30 s of pings and be reset for no fault of its own.
watchdog=()
[ "${QEMU_WATCHDOG:-0}" = 1 ] && watchdog=(-device i6300esb -action watchdog=reset)
boots=0 boot_slot='' boot_cfg='' boot_at=0 console=''
boot_history=()
# power_on TRYBOOT: what the Pi's firmware does at power-on or reset. TRYBOOT=1 when the last
# reboot carried the one-shot tryboot flag: then tryboot.txt, if present, instead of config.txt.
power_on() {
  local cfg=config.txt fw=$t/firmware k i c cmdline
  boots=$((boots + 1))
  rm -rf "$fw" && mkdir -p "$fw"
  if [ "$1" = 1 ]; then
    if mdir -b -i "$boot" ::tryboot.txt >/dev/null 2>&1; then cfg=tryboot.txt
    else say "tryboot flag set but there is no tryboot.txt: the firmware reads config.txt"; fi
  fi
  mcopy -n -i "$boot" "::$cfg" "$fw/$cfg" || die "no $cfg on the boot partition"
  k=$(sed -n 's/^kernel=\([^[:space:]]*\).*/\1/p' "$fw/$cfg" | tail -1)
  i=$(sed -n 's/^initramfs[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$fw/$cfg" | tail -1)
  c=$(sed -n 's/^cmdline=\([^[:space:]]*\).*/\1/p' "$fw/$cfg" | tail -1)
  c=${c:-cmdline.txt}
  [ -n "$k" ] && [ -n "$i" ] || die "$cfg names no kernel= and initramfs"
  for f in "$k" "$i" "$c"; do
    mcopy -n -i "$boot" "::$f" "$fw/$f" 2>/dev/null || die "$cfg names $f, which is not on the boot partition"
  done
  cmdline=$(tr ' ' '\n' <"$fw/$c" | grep -v -e '^console=' -e '^$' | tr '\n' ' ')
  cmdline="${cmdline}console=ttyAMA0 systemd.journald.forward_to_console=1 systemd.log_color=0"
  boot_slot=$(tr ' ' '\n' <<<"$cmdline" | sed -n 's/^rauc\.slot=//p' | tail -1)
  boot_cfg=$cfg boot_at=$SECONDS console=$t/console-$boots.log
  ln -sfn "console-$boots.log" "$t/console.log"
  say "power-on #$boots: the firmware reads $cfg: slot ${boot_slot:-?} ($k, $i, $c) (console: $console)"
  boot_history+=("#$boots $(date +%H:%M:%S) $cfg -> slot ${boot_slot:-?}")
  nice -n 19 ionice -c3 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 2048 -no-reboot \
    -display none -monitor none -serial "file:$console" "${watchdog[@]}" \
    -kernel "$fw/$k" -initrd "$fw/$i" -append "$cmdline" \
    -drive if=none,id=hd,file="$t/disk.img",format=raw -device virtio-blk-pci,drive=hd \
    -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:node $t/hub-pipe.cjs $port" \
    -device virtio-net-pci,netdev=n0 &
  qemu_pid=$!
}
# How the last boot ended, from its console: tryboot (reboot '0 tryboot'), reboot, poweroff,
# or reset (no shutdown message: a crash or a watchdog reset).
exit_kind() {
  if grep -qF "Restarting system with command '0 tryboot'" "$console"; then echo tryboot
  elif grep -qF 'reboot: Restarting system' "$console"; then echo reboot
  elif grep -qF 'reboot: Power down' "$console"; then echo poweroff
  else echo reset; fi
}
# Any of these on the console fails the test at once.
fatal=('Failure: overlayroot' 'EROFS' 'test-image: technician kioskctl status: FAILED'
  'test-image: storage helper as kiosk: FAILED')
check_console() {
  local f
  for f in "${fatal[@]}"; do
    if grep -qF -- "$f" "$console" 2>/dev/null; then
      grep -F -- "$f" "$console" | head -3 | sed 's/^/  | /'
      die "console shows '$f' (console: $console)"
    fi
  done
}

# --- boot: slot A, first boot ---------------------------------------------------------
power_on 0
milestones=(
  'overlay root:Success: overlayroot'
  'kiosk.conf applied:apply-config: done'
  'data partition grown:grow-data: /var/lib/disk-kiosk is'
  'enrolled:enrol: enrolled'
  'kioskd started:Started kioskd.service'
  'technician reaches kioskctl:test-image: technician kioskctl status: ok'
  'kiosk user reaches the storage helper:test-image: storage helper as kiosk: ok'
)
declare -A seen=()
start=$SECONDS
connected=0
while [ $((SECONDS - start)) -lt "$timeout_s" ]; do
  kill -0 "$qemu_pid" 2>/dev/null || { say "QEMU exited ($(exit_kind))"; qemu_pid=''; break; }
  for m in "${milestones[@]}"; do
    name=${m%%:*} pat=${m#*:}
    if [ -z "${seen[$name]:-}" ] && grep -qF -- "$pat" "$console" 2>/dev/null; then
      seen[$name]=$((SECONDS - start))
      say "after ${seen[$name]} s: $name"
    fi
  done
  check_console
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
if [ "$connected" = 0 ] || [ "${#seen[@]}" != "${#milestones[@]}" ]; then
  say "last console lines:"
  tail -25 "$console" | sed 's/^/  | /'
  [ "$connected" != 0 ] && die "connected after $connected s, but not every milestone was seen within ${timeout_s}s (console: $console)"
  die "the kiosk did not connect within ${timeout_s}s (console: $console, hub: $t/hub.log)"
fi
grep -E 'test-image: |apply-config: kioskd.json|grow-data: |enrol: ' "$console" | sed 's/^/  | /'
say "PASS: kiosk $kiosk_id booted, enrolled and connected in $connected s from power-on ($(http GET "/api/operator/kiosks/$kiosk_id"))"
[ "$mode" = update ] || exit 0
run_updates
