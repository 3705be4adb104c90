# Shared by build.sh, install-app.sh and the pi-gen stage: chroot mounts with cleanup.
# Source it, set $rootfs, call chroot_mount; chroot_umount runs from the caller's trap.

mounted=()
chroot_mount() {
  local m
  # boot/firmware: raspi-firmware's kernel hooks want it to be a mount point.
  for m in proc sys dev dev/pts boot/firmware; do
    mkdir -p "$rootfs/$m"
    mountpoint -q "$rootfs/$m" && continue
    case $m in
      proc) mount -t proc proc "$rootfs/proc" ;;
      sys) mount -t sysfs sysfs "$rootfs/sys" ;;
      dev) mount --bind /dev "$rootfs/dev" ;;
      dev/pts) mount -t devpts devpts "$rootfs/dev/pts" -o gid=5,mode=620,ptmxmode=666 ;;
      boot/firmware) mount --bind "$rootfs/boot/firmware" "$rootfs/boot/firmware" ;;
    esac
    mounted+=("$rootfs/$m")
  done
  # Daemons must not start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  if [ -e /etc/resolv.conf ]; then
    rm -f "$rootfs/etc/resolv.conf"
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  fi
}

chroot_umount() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
  rm -f "$rootfs/usr/sbin/policy-rc.d"
}

in_chroot() {
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
