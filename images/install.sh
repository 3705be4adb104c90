#!/usr/bin/env bash
# Installs disk-kiosk's system integration into a root file system: systemd units, udev
# rules, first-boot scripts, the kiosk user and its groups, fstab entries for the data
# partition, the read-only root (overlayroot), journald limits, the image version.
# Shared by the debootstrap recipe (build.sh) and the pi-gen stage; works offline on any
# directory that has etc/passwd and etc/group (useradd --root, systemctl --root).
#
#   install.sh --root DIR [--version V] [--board VID:PID[:SERIAL]] [--hub VID:PID[,VID:PID...]]
#              [--no-overlay]
#
# --board   the slot board's USB-serial adapter, linked as /dev/kiosk-board (default 10c4:ea60)
# --hub     the slot hubs (USB 2 and USB 3 halves of one hub are two ids; default
#           2109:2817,2109:0817); their disks become slot disks, their ports switchable
# --no-overlay  leave the root file system writable (development images)
# The application itself (Node in /opt/node, the app in /opt/disk-kiosk) is installed
# by install-app.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=''
version=''
board='10c4:ea60'
hubs='2109:2817,2109:0817'
overlay=1
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --board) board=${2:?}; shift 2 ;;
    --hub) hubs=${2:?}; shift 2 ;;
    --no-overlay) overlay=0; shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$root" ] || die "--root DIR is required"
root=$(cd "$root" && pwd)
[ -f "$root/etc/passwd" ] && [ -f "$root/etc/group" ] || die "$root has no etc/passwd and etc/group: not a root file system"
[ -n "$version" ] || version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$here/../package.json" | head -1)
[ -n "$version" ] || die "no --version and none in package.json"
hex4='[0-9a-fA-F]{4}'
[[ $board =~ ^$hex4:$hex4(:[A-Za-z0-9._-]+)?$ ]] || die "--board must be VID:PID[:SERIAL] (hex ids), got '$board'"
[[ $hubs =~ ^$hex4:$hex4(,$hex4:$hex4)*$ ]] || die "--hub must be VID:PID[,VID:PID...] (hex ids), got '$hubs'"

# 1. files ---------------------------------------------------------------------------
tar -C "$here/rootfs" -cf - . | tar -C "$root" -xf - --no-same-owner --no-overwrite-dir
install -D -m 0644 "$here/README.md" "$root/usr/share/doc/disk-kiosk/README.md"
install -D -m 0644 "$here/boot/kiosk.conf" "$root/usr/share/disk-kiosk/kiosk.conf.example"

# 2. udev rules: the board and hub ids --------------------------------------------------
rules=$root/etc/udev/rules.d/70-disk-kiosk.rules
IFS=: read -r bv bp bs <<<"$board"
board_rule="SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"${bv,,}\", ATTRS{idProduct}==\"${bp,,}\""
[ -n "${bs:-}" ] && board_rule+=", ATTRS{serial}==\"$bs\""
board_rule+=', SYMLINK+="kiosk-board", GROUP="dialout", MODE="0660"'
hub_rules=''
IFS=, read -ra hub_list <<<"$hubs"
for h in "${hub_list[@]}"; do
  h=${h,,}
  hub_rules+="SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"${h%%:*}\", ATTRS{idProduct}==\"${h##*:}\", ENV{DISK_KIOSK_SLOT_HUB}=\"1\""$'\n'
done
awk -v board="$board_rule" -v hubs="$hub_rules" '
  /^# DISK_KIOSK_BOARD_BEGIN/ { print; print board; skip = 1; next }
  /^# DISK_KIOSK_HUB_BEGIN/ { print; printf "%s", hubs; skip = 1; next }
  /^# DISK_KIOSK_(BOARD|HUB)_END/ { skip = 0 }
  !skip { print }' "$rules" >"$rules.tmp"
mv "$rules.tmp" "$rules"
chmod 0644 "$rules"

# 3. the kiosk user and its groups ------------------------------------------------------
has_group() { grep -q "^$1:" "$root/etc/group"; }
for g in kiosk gpio kiosk-slots kiosk-tech dialout; do
  has_group "$g" || groupadd --root "$root" --system "$g"
done
if grep -q '^kiosk:' "$root/etc/passwd"; then
  usermod --root "$root" --append --groups dialout,gpio,kiosk-slots,kiosk-tech kiosk
else
  useradd --root "$root" --system --gid kiosk --groups dialout,gpio,kiosk-slots,kiosk-tech \
    --home-dir /var/lib/disk-kiosk --no-create-home --shell /usr/sbin/nologin \
    --comment 'disk-kiosk runtime' kiosk
fi
kiosk_uid=$(awk -F: '$1 == "kiosk" { print $3 }' "$root/etc/passwd")
kiosk_gid=$(awk -F: '$1 == "kiosk" { print $3 }' "$root/etc/group")

# 4. directories, version ---------------------------------------------------------------
install -d -m 0750 -o "$kiosk_uid" -g "$kiosk_gid" "$root/var/lib/disk-kiosk"
install -d -m 0755 "$root/var/log/journal" "$root/etc/disk-kiosk" "$root/boot/firmware"
printf '%s\n' "$version" >"$root/etc/disk-kiosk/image-version"
chmod 0644 "$root/etc/disk-kiosk/image-version"
install -d -m 0755 "$root/usr/local/bin"
ln -sfn /opt/disk-kiosk/bin/kioskd.js "$root/usr/local/bin/kioskd"
ln -sfn /opt/disk-kiosk/bin/kioskctl.js "$root/usr/local/bin/kioskctl"

# 5. fstab: boot partition (read-only), data partition, journal on the data partition --
# Device timeout 3 min, not 30 s: on a slow first boot (udev coldplug under emulation, a
# slow card) 30 s ran out before the partitions showed up, and the mount failing failed
# everything that RequiresMountsFor= the data (config, enrolment, kioskd). A present
# partition costs nothing extra; nofail keeps the boot going without one.
fstab=$root/etc/fstab
touch "$fstab"
sed -i '/# disk-kiosk begin/,/# disk-kiosk end/d' "$fstab"
{
  echo '# disk-kiosk begin (images/install.sh)'
  grep -qE '^[^#]*[[:space:]]/boot/firmware[[:space:]]' "$fstab" \
    || echo 'LABEL=RASPIFIRM  /boot/firmware  vfat  ro,umask=0077,nofail,x-systemd.device-timeout=3min  0 2'
  echo 'LABEL=KIOSKDATA  /var/lib/disk-kiosk  ext4  defaults,noatime,commit=5,nofail,x-systemd.device-timeout=3min  0 2'
  echo '/var/lib/disk-kiosk/journal  /var/log/journal  none  bind,nofail,x-systemd.requires-mounts-for=/var/lib/disk-kiosk  0 0'
  echo '# disk-kiosk end'
} >>"$fstab"

# 6. read-only root: overlayroot, tmpfs upper layer; other mounts (data, boot) stay real
if [ "$overlay" = 1 ]; then
  printf '%s\n' '# disk-kiosk: the root file system is read-only; changes live in RAM until reboot.' \
    '# Maintenance: boot with overlayroot=disabled on the kernel command line, or use overlayroot-chroot.' \
    'overlayroot="tmpfs:recurse=0"' >"$root/etc/overlayroot.conf"
fi

# 7. units: enabled through the [Install] sections (symlinks in the rootfs's wants dirs)
systemctl --root "$root" --quiet enable kioskd.service disk-kiosk-storage.socket \
  disk-kiosk-config.service disk-kiosk-enrol.service disk-kiosk-growdata.service
echo "install.sh: disk-kiosk $version installed into $root"
