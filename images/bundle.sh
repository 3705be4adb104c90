#!/usr/bin/env bash
# Builds a signed RAUC update bundle (verity format) from the same build as the SD image:
# the image's root file system (partition 2, slot A), which holds the kernel and initrd
# the boot partition needs (/boot/vmlinuz-*, /boot/initrd.img-*; RAUC's custom backend
# rauc-tryboot copies them to the boot partition as the new slot's boot files).
#
#   images/bundle.sh                       # or: npm run image:bundle
#   images/bundle.sh --image images/work/disk-kiosk-0.2.0-arm64.img --out /tmp/b.raucb
#   images/bundle.sh --rootfs root.ext4 --version 0.2.1
#
# --image FILE     the raw SD image (default: images/work/disk-kiosk-<version>-arm64.img,
#                  else images/out/disk-kiosk-<version>-arm64.img.xz decompressed)
# --rootfs FILE    an ext4 root file system to bundle instead of the image's partition 2
# --version V      the bundle's version; must equal the root file system's
#                  /etc/disk-kiosk/image-version (what kioskd reports); default: that file
# --out FILE       default images/out/disk-kiosk-<version>-arm64.raucb (+ .sha256)
# --format F       verity (default) or plain (only for kernels without device-mapper: the
#                  image's system.conf accepts verity bundles only)
# Signing: RAUC_CERT and RAUC_KEY (a file or a PKCS#11 URL), checked against RAUC_KEYRING;
# none given: the development key pair of images/rauc-keys.sh (generated when missing).
# Needs rauc, mksquashfs (squashfs-tools), debugfs (e2fsprogs), sfdisk; no root, no mounts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
die() { printf 'bundle.sh: %s\n' "$*" >&2; exit 1; }
log() { printf '[bundle %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

image='' rootfs='' version='' out='' format=verity
while [ $# -gt 0 ]; do
  case $1 in
    --image) image=${2:?}; shift 2 ;;
    --rootfs) rootfs=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --format) format=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $format =~ ^(verity|plain)$ ]] || die "--format must be verity or plain"
for pair in rauc:rauc mksquashfs:squashfs-tools debugfs:e2fsprogs sfdisk:fdisk; do
  command -v "${pair%%:*}" >/dev/null || die "${pair%%:*} is missing: apt-get install ${pair#*:}"
done
compatible=$(sed -n 's/^compatible=//p' "$here/rootfs/etc/rauc/system.conf")
[ -n "$compatible" ] || die "no compatible= in images/rootfs/etc/rauc/system.conf"

if [ -n "${RAUC_CERT:-}${RAUC_KEY:-}" ]; then
  [ -n "${RAUC_CERT:-}" ] && [ -n "${RAUC_KEY:-}" ] && [ -n "${RAUC_KEYRING:-}" ] \
    || die "production signing needs RAUC_CERT, RAUC_KEY and RAUC_KEYRING together"
  cert=$RAUC_CERT key=$RAUC_KEY keyring=$RAUC_KEYRING
else
  keys=$("$here/rauc-keys.sh")
  cert=$keys/signer.cert.pem key=$keys/signer.key.pem keyring=${RAUC_KEYRING:-$keys/ca.cert.pem}
  log "signing with the development key ($keys)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/disk-kiosk-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
if [ -n "$rootfs" ]; then
  [ -f "$rootfs" ] || die "--rootfs $rootfs: no such file"
  cp --sparse=always "$rootfs" "$work/content/rootfs.ext4"
else
  if [ -z "$image" ]; then
    pkg_version=$(node -p "require('$repo/package.json').version" 2>/dev/null || echo '')
    v=${IMAGE_VERSION:-$pkg_version}
    image=$here/work/disk-kiosk-$v-arm64.img
    if [ ! -f "$image" ] && [ -f "$here/out/disk-kiosk-$v-arm64.img.xz" ]; then
      log "decompressing $here/out/disk-kiosk-$v-arm64.img.xz"
      xz -dc "$here/out/disk-kiosk-$v-arm64.img.xz" >"$work/image.img"
      image=$work/image.img
    fi
  fi
  [ -f "$image" ] || die "no image $image: build it first (npm run image:build) or name one with --image"
  read -r start size < <(sfdisk -d "$image" | sed -n 's/.*2 : start= *\([0-9]*\), *size= *\([0-9]*\),.*/\1 \2/p')
  [ -n "${start:-}" ] || die "$image has no partition 2"
  log "root file system: partition 2 of $image ($((size / 2048)) MiB)"
  dd if="$image" of="$work/content/rootfs.ext4" bs=512 skip="$start" count="$size" conv=sparse status=none
fi
fs_version=$(debugfs -R 'cat /etc/disk-kiosk/image-version' "$work/content/rootfs.ext4" 2>/dev/null | head -1 | tr -d '[:space:]')
[ -n "$fs_version" ] || die "the root file system has no /etc/disk-kiosk/image-version: not a disk-kiosk image"
[ -z "$version" ] || [ "$version" = "$fs_version" ] \
  || die "--version $version differs from the root file system's image-version $fs_version (kioskd reports the latter)"
version=$fs_version
debugfs -R 'ls -l /boot' "$work/content/rootfs.ext4" 2>/dev/null | grep -q 'vmlinuz-' \
  || die "the root file system has no /boot/vmlinuz-*: the new slot could not boot"

cat >"$work/content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
description=disk-kiosk $version (root file system with its kernel and initrd)
build=$(date -u +%Y-%m-%dT%H:%M:%SZ)

[bundle]
format=$format

[image.rootfs]
filename=rootfs.ext4
MANIFEST
out=${out:-$here/out/disk-kiosk-$version-arm64.raucb}
mkdir -p "$(dirname "$out")"
rm -f "$out"
log "rauc bundle ($format, compatible $compatible, version $version)"
rauc bundle --cert="$cert" --key="$key" --keyring="$keyring" "$work/content" "$out" >"$work/rauc.log" 2>&1 \
  || { cat "$work/rauc.log" >&2; die "rauc bundle failed"; }
rauc info --keyring="$keyring" "$out" >/dev/null 2>"$work/info.log" \
  || { cat "$work/info.log" >&2; die "rauc info does not verify the new bundle with $keyring"; }
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
log "done: $out ($(du -h "$out" | cut -f1), sha256 $(cut -d' ' -f1 "$out.sha256"))"
log "roll it out from the hub: cloud-lite rollout create --bundle $out --version $version"
