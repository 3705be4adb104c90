#!/usr/bin/env bash
# Installs the Debian packages disk-kiosk's tests, demo and kiosk runtime use, those that
# are missing only: rsync (cloning), exfatprogs + exfat-fuse (disk format and mount),
# bmap-tools (bmaptool: block maps of the cloning's disk images),
# socat (the board simulator's pseudo-terminal), udev + util-linux (loop devices,
# blockdev), tmux (terminal tests of kioskctl), systemd (unit checks), chromium (browser
# tests of the web pages, driven by playwright-core; fonts-wqy-microhei so that its screenshots
# of the Chinese pages show Chinese, not empty boxes), caddy (the TLS proxy of deploy/ and
# its test), groff-base (the man page check), rauc + squashfs-tools + dbus + fdisk + openssl
# (update bundles: images/bundle.sh and the RAUC tests, which run rauc's D-Bus service),
# postgresql-15 (the hub's PostgreSQL store: its tests start a throw-away cluster of their
# own, test/helpers/postgres.ts; Debian's own cluster is stopped and not started at boot),
# prometheus (promtool: the checks of deploy/prometheus/alerts.yml and of the /metrics
# scrapes; Debian's prometheus server it brings is stopped and not started at boot).
# With everything present it changes nothing and needs no root; otherwise run it as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(rsync exfatprogs exfat-fuse fuse3 bmap-tools socat udev util-linux e2fsprogs kmod tmux systemd chromium fonts-wqy-microhei caddy groff-base
  rauc squashfs-tools dbus fdisk openssl postgresql-15 prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-system.sh: missing Debian packages: ${missing[*]}; install them as root: sudo $0" >&2
  exit 1
fi
echo "system packages: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/disk-kiosk-apt.log 2>&1 \
  || { tail -20 /tmp/disk-kiosk-apt.log >&2; echo "setup-system.sh: apt-get install ${missing[*]} failed (log above)" >&2; exit 1; }
# Debian starts the caddy service on install; nothing here needs it (deploy/ configures it).
if [[ " ${missing[*]} " == *" caddy "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now caddy >/dev/null 2>&1 || true
fi
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
# Debian creates and starts a cluster (15/main, port 5432) on install; the tests use their own.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
echo "system packages installed: ${missing[*]}"
