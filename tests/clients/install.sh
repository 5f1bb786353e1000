#!/usr/bin/env bash
# Idempotent setup for the JavaScript client tests (see README.md):
#   1. Debian's chromium (used headless by cesium-load.mjs through playwright-core),
#   2. node_modules from package-lock.json (npm ci), only when missing or stale,
#   3. .venv with the Python clients of requirements.txt (OWSLib, pmtiles), when missing or stale.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if [ -x /usr/bin/chromium ]; then
  echo "install.sh: chromium already present: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
else
  echo "install.sh: installing Debian chromium with apt-get"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
  echo "install.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
fi

if ! command -v npm >/dev/null; then
  echo "install.sh: installing Debian nodejs and npm with apt-get"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "install.sh: running npm ci"
  npm ci --no-audit --no-fund
  touch node_modules   # npm ci may keep an old mtime; mark it fresh
else
  echo "install.sh: node_modules is up to date with package-lock.json"
fi

if [ ! -x .venv/bin/python ] || [ requirements.txt -nt .venv ]; then
  echo "install.sh: creating .venv with requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv
else
  echo "install.sh: .venv is up to date with requirements.txt"
fi
