#!/usr/bin/env bash
# The quick start's set-up (README): installs what is missing, nothing else.
#   1. Node 20.19+ or 22.12+ (said, not installed: pick your way, https://nodejs.org);
#   2. the Debian packages (scripts/setup-system.sh; root only when some are missing);
#   3. npm ci, unless node_modules already matches package-lock.json.
# Each missing piece is named in one line with the command that installs it; exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null; then
  echo "setup: Node.js is not installed: install Node 20.19 or newer (https://nodejs.org/en/download, or NodeSource's Debian packages)" >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "setup: Node $(node --version) cannot run the hub: it needs Node 20.19+ or 22.12+ (fastify's dependencies are ES modules loaded with require()); install one (https://nodejs.org/en/download)" >&2
  exit 1
fi
scripts/setup-system.sh
if node scripts/node-modules-current.mjs; then
  echo "node_modules: matches package-lock.json"
else
  npm ci --no-audit --no-fund
fi
