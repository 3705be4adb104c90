#!/usr/bin/env bash
# Installs the disk-kiosk hub (cloud-lite) on a Debian 12 server, or into a root file
# system given by --root (what the tests check). Run as root on the server, from a checkout
# where `scripts/setup.sh` and `npm run build` have run.
#
#   deploy/install.sh [--root DIR] [--no-app] [--domain NAME] [--email ADDRESS]
#
# Puts in place (nothing that exists already is overwritten, except the units and the app):
#   /opt/disk-kiosk                        the app: package.json, lock, bin/, dist/, deploy/,
#                                          then npm ci --omit=dev (skipped with --no-app)
#   /etc/systemd/system/cloud-lite.service, cloud-lite-backup.{service,timer}
#   /usr/lib/sysusers.d/cloud-lite.conf    the cloud-lite user
#   /usr/lib/tmpfiles.d/cloud-lite.conf    /var/backups/cloud-lite
#   /etc/cloud-lite/cloud-lite.json        the hub's configuration (deploy/cloud-lite.json)
#   /etc/cloud-lite/env                    CLOUD_LITE_ADMIN_TOKEN, random, mode 0600
#   /etc/caddy/Caddyfile, cloud-lite-site.caddy   TLS in front (the old Caddyfile kept as .orig)
# then creates the user and directories, enables cloud-lite.service and the backup timer
# (and, on the live system, starts them and reloads caddy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
root=/
app=1
domain=''
email=''
die() { printf 'deploy/install.sh: %s\n' "$*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=${2:?}; shift 2 ;;
    --no-app) app=0; shift ;;
    --domain) domain=${2:?}; shift 2 ;;
    --email) email=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
root=$(cd "$root" && pwd)
live=0
[ "$root" = / ] && live=1
[ "$live" = 0 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
r() { printf '%s%s' "${root%/}" "$1"; }

# 1. the app -----------------------------------------------------------------------------
if [ "$app" = 1 ]; then
  [ -f "$repo/dist/cloud-lite/main.js" ] || die "no dist/: run npm run build first"
  command -v node >/dev/null || die "node is not installed: install Node 20.19 or newer"
  dest=$(r /opt/disk-kiosk)
  rm -rf "$dest.new" && mkdir -p "$dest.new"
  cp -a "$repo/package.json" "$repo/package-lock.json" "$repo/bin" "$repo/dist" "$repo/deploy" "$dest.new/"
  (cd "$dest.new" && npm ci --omit=dev --no-audit --no-fund --loglevel=warn)
  rm -rf "$dest.old" && { [ ! -e "$dest" ] || mv "$dest" "$dest.old"; } && mv "$dest.new" "$dest" && rm -rf "$dest.old"
fi

# 2. units, user, directories --------------------------------------------------------------
install -D -m 0644 -t "$(r /etc/systemd/system)" \
  "$here/systemd/cloud-lite.service" "$here/systemd/cloud-lite-backup.service" "$here/systemd/cloud-lite-backup.timer"
install -D -m 0644 "$here/sysusers.d/cloud-lite.conf" "$(r /usr/lib/sysusers.d/cloud-lite.conf)"
install -D -m 0644 "$here/tmpfiles.d/cloud-lite.conf" "$(r /usr/lib/tmpfiles.d/cloud-lite.conf)"
if [ "$live" = 1 ]; then
  systemd-sysusers cloud-lite.conf
  systemd-tmpfiles --create cloud-lite.conf
else
  systemd-sysusers --root="$root" cloud-lite.conf
  systemd-tmpfiles --root="$root" --create cloud-lite.conf
fi

# 3. configuration ---------------------------------------------------------------------------
# Readable by the hub (group cloud-lite), written by root; the secrets are in env (root only,
# systemd reads it for the unit).
gid=$(awk -F: '$1 == "cloud-lite" { print $3 }' "$(r /etc/group)")
[ -n "$gid" ] || die "no cloud-lite group after systemd-sysusers"
install -d -m 0750 -o 0 -g "$gid" "$(r /etc/cloud-lite)"
config=$(r /etc/cloud-lite/cloud-lite.json)
if [ ! -e "$config" ]; then
  sed ${domain:+-e "s|https://hub.example.com|https://$domain|"} -e '' "$here/cloud-lite.json" >"$config"
  chown 0:"$gid" "$config"
  chmod 0640 "$config"
fi
envfile=$(r /etc/cloud-lite/env)
if [ ! -e "$envfile" ]; then
  (umask 077 && printf 'CLOUD_LITE_ADMIN_TOKEN=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$envfile")
fi

# 4. caddy -----------------------------------------------------------------------------------
caddyfile=$(r /etc/caddy/Caddyfile)
mkdir -p "$(dirname "$caddyfile")"
if [ -e "$caddyfile" ] && ! grep -q 'import cloud-lite-site.caddy' "$caddyfile"; then
  mv "$caddyfile" "$caddyfile.orig"
fi
if [ ! -e "$caddyfile" ]; then
  sed ${domain:+-e "s|{\$CLOUD_LITE_DOMAIN:hub.example.com}|$domain|"} \
    ${email:+-e "s|{\$CLOUD_LITE_ACME_EMAIL:hostmaster@example.com}|$email|"} -e '' \
    "$here/caddy/Caddyfile" >"$caddyfile"
  chmod 0644 "$caddyfile"
fi
install -m 0644 "$here/caddy/cloud-lite-site.caddy" "$(r /etc/caddy/cloud-lite-site.caddy)"

# 5. enable (and on the live system start) -----------------------------------------------------
if [ "$live" = 1 ]; then
  systemctl daemon-reload
  systemctl enable --now cloud-lite.service cloud-lite-backup.timer
  # Enabled too: scripts/setup-system.sh disables the caddy Debian starts on install.
  systemctl enable caddy.service
  systemctl reload-or-restart caddy.service
  echo "cloud-lite: running; admin token in /etc/cloud-lite/env; https://${domain:-<your name>}/ once DNS points here"
else
  systemctl --root="$root" --quiet enable cloud-lite.service cloud-lite-backup.timer
  # Caddy as Debian's package installs it (absent from a bare root: nothing to enable).
  for d in lib/systemd/system usr/lib/systemd/system; do
    if [ -e "$root/$d/caddy.service" ]; then
      systemctl --root="$root" --quiet enable caddy.service
      break
    fi
  done
fi
