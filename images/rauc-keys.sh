#!/usr/bin/env bash
# The development key pair for RAUC bundles, generated once when missing: a CA certificate
# (the keyring an image carries as /etc/rauc/keyring.pem) and a signing certificate and key
# under it (what `npm run image:bundle` signs with). Prints the directory.
#
#   images/rauc-keys.sh [DIR]       default images/dev-keys (git-ignored)
#
# DIR/ca.cert.pem       keyring (CA certificate)
# DIR/ca.key.pem        the CA's key (issues further signing certificates)
# DIR/signer.cert.pem   signing certificate (ECDSA P-256, digitalSignature, no EKU)
# DIR/signer.key.pem    its key
# For development only: kiosks flashed with an image built with this keyring accept any
# bundle signed with this key. Production keys: images/README.md "Keys".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${RAUC_DEV_KEY_DIR:-$here/dev-keys}}
mkdir -p "$dir"
chmod 0700 "$dir"
if [ ! -f "$dir/ca.cert.pem" ] || [ ! -f "$dir/signer.cert.pem" ] || [ ! -f "$dir/signer.key.pem" ]; then
  command -v openssl >/dev/null || { echo "rauc-keys.sh: openssl is missing (apt-get install openssl)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  subj="/O=disk-kiosk development/CN=disk-kiosk development"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$tmp/ca.key.pem" -out "$tmp/ca.cert.pem" -subj "$subj CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/signer.key.pem" -out "$tmp/signer.csr" -subj "$subj bundle signer" 2>/dev/null
  printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
    subjectKeyIdentifier=hash authorityKeyIdentifier=keyid >"$tmp/signer.ext"
  openssl x509 -req -in "$tmp/signer.csr" -CA "$tmp/ca.cert.pem" -CAkey "$tmp/ca.key.pem" \
    -set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$tmp/signer.ext" -out "$tmp/signer.cert.pem" 2>/dev/null
  chmod 0600 "$tmp"/*.key.pem
  mv "$tmp/ca.key.pem" "$tmp/ca.cert.pem" "$tmp/signer.key.pem" "$tmp/signer.cert.pem" "$dir/"
  echo "rauc-keys.sh: generated a development key pair in $dir" >&2
fi
echo "$dir"
