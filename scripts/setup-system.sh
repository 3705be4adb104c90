#!/usr/bin/env bash
# Installs the Debian packages disk-kiosk's tests, demo and kiosk runtime use:
# rsync (cloning), exfatprogs + exfat-fuse (disk format and mount), socat (the
# board simulator's pseudo-terminal), udev + util-linux (loop devices, blockdev),
# tmux (terminal tests of kioskctl), systemd (unit checks), chromium (browser tests of the
# web pages, driven by playwright-core). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(rsync exfatprogs exfat-fuse fuse3 socat udev util-linux e2fsprogs kmod tmux systemd chromium)
if [ "$(id -u)" != 0 ]; then
  echo "setup-system.sh: run as root (sudo $0)" >&2
  exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/tmp/disk-kiosk-apt.log 2>&1 \
  || { tail -20 /tmp/disk-kiosk-apt.log >&2; exit 1; }
echo "system packages installed: ${packages[*]}"
