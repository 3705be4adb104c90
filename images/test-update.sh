#!/usr/bin/env bash
# The update part of `images/test-image.sh --update` (sourced by it; not run on its own):
# after image A (the built image) booted, enrolled and connected,
#   B  the hub rolls out version B (`cloud-lite rollout create --bundle`): the kiosk downloads
#      and installs it with RAUC into slot B, reboots with `reboot '0 tryboot'`, the harness's
#      firmware stand-in boots tryboot.txt (slot B) once, kioskd there passes its self-test,
#      reaches the hub and commits (rauc status mark-good: config.txt := tryboot.txt);
#   C  the hub rolls out version C, whose kioskd cannot start: the trial boot (slot A) is
#      rebooted by the trial guard after UPDATE_TRIAL_SECONDS (TRIAL_SECONDS, default 600), the
#      firmware stand-in boots config.txt (slot B, no tryboot flag), kioskd on B reports
#      rolled_back and the rollout halts.
# Prints the time of each step from the rollout command, and a summary.
#
# B and C are not built from scratch: their root file systems are partition 2 of the built
# image with another /etc/disk-kiosk/image-version (and, for C, /usr/local/bin/kioskd
# replaced by a script that exits 1), written with debugfs (no mounts), then signed with
# images/bundle.sh --rootfs. They are kept in images/work/test-update/ and remade when older
# than the image. Versions: <image version>-qemu-b and -qemu-c.
# Variables: TRIAL_SECONDS (test-image.sh: kiosk.conf UPDATE_TRIAL_SECONDS), UPDATE_TIMEOUT
# (per rollout, default 5400 s), MAX_BOOTS (default 8).

upd=$here/work/test-update
vb=$version-qemu-b
vc=$version-qemu-c
bundle_b=$upd/disk-kiosk-$vb-arm64.raucb
bundle_c=$upd/disk-kiosk-$vc-arm64.raucb
update_timeout=${UPDATE_TIMEOUT:-5400}
max_boots=${MAX_BOOTS:-8}

# derive_rootfs OUT VERSION [broken]: partition 2 of the image, with VERSION as its
# image-version; `broken`: kioskd replaced by a script that exits 1.
derive_rootfs() {
  local out=$1 v=$2 start size cmds=$upd/debugfs-$2.cmd
  read -r start size < <(sfdisk -d "$img" | sed -n 's/.*2 : start= *\([0-9]*\), *size= *\([0-9]*\),.*/\1 \2/p')
  [ -n "${start:-}" ] || { echo "no partition 2 in $img" >&2; return 1; }
  dd if="$img" of="$out.tmp" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
    count=$((size * 512)) conv=sparse status=none
  printf '%s\n' "$v" >"$upd/image-version-$v"
  {
    echo "rm /etc/disk-kiosk/image-version"
    echo "write $upd/image-version-$v /etc/disk-kiosk/image-version"
    echo "sif /etc/disk-kiosk/image-version mode 0100644"
    echo "sif /etc/disk-kiosk/image-version uid 0"
    echo "sif /etc/disk-kiosk/image-version gid 0"
  } >"$cmds"
  if [ "${3:-}" = broken ]; then
    printf '%s\n' '#!/bin/sh' \
      "echo \"kioskd: version $v of the QEMU update test cannot start (images/test-update.sh)\" >&2" \
      'exit 1' >"$upd/kioskd-broken"
    {
      echo "rm /usr/local/bin/kioskd"
      echo "write $upd/kioskd-broken /usr/local/bin/kioskd"
      echo "sif /usr/local/bin/kioskd mode 0100755"
      echo "sif /usr/local/bin/kioskd uid 0"
      echo "sif /usr/local/bin/kioskd gid 0"
    } >>"$cmds"
  fi
  debugfs -w -f "$cmds" "$out.tmp" >"$cmds.log" 2>&1 || { cat "$cmds.log" >&2; return 1; }
  if grep -qiE 'error|not found|could not|exists' "$cmds.log"; then cat "$cmds.log" >&2; return 1; fi
  [ "$(debugfs -R 'cat /etc/disk-kiosk/image-version' "$out.tmp" 2>/dev/null)" = "$v" ] \
    || { echo "image-version of the derived root file system is not $v" >&2; return 1; }
  e2fsck -fn "$out.tmp" >"$cmds.fsck" 2>&1 || { cat "$cmds.fsck" >&2; return 1; }
  mv "$out.tmp" "$out"
}
# The two bundles, in the background while image A boots (log: test-image/bundles.log).
make_bundles() {
  mkdir -p "$upd"
  local v b kind
  for v in "$vb" "$vc"; do
    b=$upd/disk-kiosk-$v-arm64.raucb kind=''
    [ "$v" = "$vc" ] && kind=broken
    if [ -f "$b" ] && [ "$b" -nt "$img" ]; then echo "$b: up to date"; continue; fi
    echo "$(date +%H:%M:%S) deriving the root file system of $v from $img${kind:+ (kioskd broken)}"
    derive_rootfs "$upd/rootfs-$v.ext4" "$v" $kind || return 1
    "$here/bundle.sh" --rootfs "$upd/rootfs-$v.ext4" --version "$v" --out "$b" || return 1
    rm -f "$upd/rootfs-$v.ext4"
  done
  echo "$(date +%H:%M:%S) bundles ready"
}

rollout() { env "${hub_env[@]}" node "$repo/bin/cloud-lite.js" rollout "$@"; }
declare -A step_at=()
# supervise NAME T0: when QEMU has ended, power it on again as a Pi would (tryboot flag or not).
supervise() {
  local kind
  kill -0 "$qemu_pid" 2>/dev/null && return 0
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=''
  kind=$(exit_kind)
  say "$1: +$(($SECONDS - $2)) s: boot #$boots (slot $boot_slot) ended after $((SECONDS - boot_at)) s: $kind"
  grep -E "trial-guard: |update-reboot: |rauc-tryboot: |Rebooting with argument" "$console" | tail -5 | sed 's/^/  | /'
  step_at["$1.power-on #$((boots + 1)) ($kind)"]=$((SECONDS - $2))
  [ "$boots" -lt "$max_boots" ] || die "$max_boots power-ons: giving up"
  case $kind in
    tryboot) power_on 1 ;;
    reboot | reset) power_on 0 ;;
    *) die "the guest powered off (console: $console)" ;;
  esac
}
# run_rollout NAME VERSION BUNDLE WANT: a rollout of VERSION to the kiosk, followed until the
# hub shows the kiosk WANT (committed or rolled_back); sets rollout_id and rollout_view.
run_rollout() {
  local name=$1 v=$2 bundle=$3 want=$4 out st last='' code t0
  t0=$SECONDS
  out=$(rollout create --version "$v" --bundle "$bundle" --waves 100% --kiosks "$kiosk_id" 2>&1) \
    || die "$name: cloud-lite rollout create: $out"
  rollout_id=$(jget rollout.id <<<"$out")
  say "$name: rollout $rollout_id of version $v created (cloud-lite rollout create --bundle $(basename "$bundle"))"
  step_t0[$name]=$t0
  while :; do
    supervise "$name" "$t0"
    check_console
    rollout_view=$(http GET "/api/operator/rollouts/$rollout_id") || die "GET /api/operator/rollouts/$rollout_id"
    st=$(jget kiosks.0.state <<<"$rollout_view")
    if [ "$st" != "$last" ]; then
      code=$(jget kiosks.0.code <<<"$rollout_view")
      say "$name: +$((SECONDS - t0)) s: the hub shows the kiosk $st${code:+ ($code: $(jget kiosks.0.reason <<<"$rollout_view"))}"
      step_at[$name.$st]=$((SECONDS - t0))
      last=$st
    fi
    [ "$st" = "$want" ] && break
    case $st in committed | failed | rolled_back) die "$name: the kiosk ended $st, expected $want" ;; esac
    [ $((SECONDS - t0)) -lt "$update_timeout" ] || die "$name: not $want within $update_timeout s (console: $console)"
    sleep 5
  done
}
declare -A step_t0=()
# wait_until DESC SECONDS CMD...: polls CMD (supervising QEMU) until it succeeds.
wait_until() {
  local desc=$1 limit=$2 t0=$SECONDS
  shift 2
  until "$@"; do
    supervise "$desc" "$t0"
    [ $((SECONDS - t0)) -lt "$limit" ] || die "$desc: not within $limit s"
    sleep 5
  done
}
fat_slot() { mtype -i "$boot" ::config.txt | sed -n 's/^# disk-kiosk-slot=\([AB]\).*/\1/p' | tail -1; }
no_tryboot() { ! mdir -b -i "$boot" ::tryboot.txt >/dev/null 2>&1; }
rollout_state_is() { [ "$(http GET "/api/operator/rollouts/$rollout_id" | jget rollout.state)" = "$1" ]; }
# The image version the kiosk reported in its last Boot.
hub_version() { http GET "/api/operator/kiosks/$kiosk_id" | jget kiosk.imageVersion; }
# step_times NAME: the steps of rollout NAME, in seconds from its command.
step_times() {
  local k
  for k in "${!step_at[@]}"; do
    [ "${k%%.*}" = "$1" ] && printf '%6s s  %s\n' "${step_at[$k]}" "${k#*.}"
  done | sort -n | sed "s/^/  $1 | /"
}

# ------------------------------------------------------------------------- the updates
run_updates() {
say "waiting for the bundles of $vb and $vc (log: $t/bundles.log)"
wait "$bundles_pid" || die "making the bundles failed: $(tail -5 "$t/bundles.log")"
bg_pids=()
grep -E 'bundle .*done|up to date' "$t/bundles.log" | sed 's/^/  | /'
[ "$(hub_version)" = "$version" ] || die "the hub says the kiosk runs $(hub_version), not $version"
[ "$(fat_slot)" = A ] || die "config.txt names slot $(fat_slot), not A"

# B: committed.
run_rollout B "$vb" "$bundle_b" committed
[ "$boot_slot" = B ] && [ "$boot_cfg" = tryboot.txt ] \
  || die "B: committed, but the running boot is slot $boot_slot from $boot_cfg (expected slot B from tryboot.txt)"
[ "$(fat_slot)" = B ] || die "B: committed, but config.txt names slot $(fat_slot)"
no_tryboot || die "B: committed, but tryboot.txt is still on the boot partition"
[ "$(hub_version)" = "$vb" ] || die "B: the hub says the kiosk runs $(hub_version)"
wait_until "B: rollout completed" 120 rollout_state_is completed
say "B: PASS: version $vb committed $((SECONDS - step_t0[B])) s after the rollout command; config.txt starts slot B"

# C: rolled back to B.
run_rollout C "$vc" "$bundle_c" rolled_back
[ "$(jget kiosks.0.code <<<"$rollout_view")" = ETRIALFAILED ] \
  || die "C: rolled_back with code $(jget kiosks.0.code <<<"$rollout_view"), expected ETRIALFAILED"
[ "$boot_slot" = B ] && [ "$boot_cfg" = config.txt ] \
  || die "C: rolled back, but the running boot is slot $boot_slot from $boot_cfg (expected B from config.txt)"
trial_log=$t/console-$((boots - 1)).log
grep -qF 'trial-guard: slot A was not committed' "$trial_log" \
  || die "C: the boot before ($trial_log) shows no trial-guard reboot"
grep -F 'cannot start (images/test-update.sh)' "$trial_log" | head -2 | sed 's/^/  | /'
[ "$(hub_version)" = "$vb" ] || die "C: the hub says the kiosk runs $(hub_version), not $vb"
[ "$(fat_slot)" = B ] || die "C: config.txt names slot $(fat_slot), not B"
wait_until "C: tryboot.txt removed (rauc status mark-bad other)" 300 no_tryboot
wait_until "C: rollout halted" 120 rollout_state_is halted
say "C: PASS: version $vc rolled back $((SECONDS - step_t0[C])) s after the rollout command: $(jget rollout.reason < <(http GET "/api/operator/rollouts/$rollout_id"))"

say "power-ons:"
printf '  | %s\n' "${boot_history[@]}"
say "steps, seconds from each rollout command:"
step_times B
step_times C
say "PASS: update to $vb committed in ${step_at[B.committed]} s from the command; $vc rolled back to $vb in ${step_at[C.rolled_back]} s"
}
