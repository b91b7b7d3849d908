#!/usr/bin/env bash
# Installs everything Ember's example and tests need, idempotently: Debian packages, the newer
# Pythons (3.14/3.15), PyPI and npm packages for the test clients, and builds the binary.
# Lists of packages live beside the code that needs them:
#   scripts/apt-packages.txt, tests/requirements.txt, tests/package.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"

step() { printf '\n== %s\n' "$*" >&2; }

# Debian packages (chromium for the web UI tests, ...).
if [ -s scripts/apt-packages.txt ]; then
  missing=()
  while read -r p; do
    [ -z "$p" ] || [[ "$p" == \#* ]] && continue
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done < scripts/apt-packages.txt
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# CPython 3.14 and 3.15 from Debian unstable, into a private folder.
SHARED=${EMBER_SHARED:-"$ROOT/../shared"}
if [ -x "$SHARED/pythons/provision-sid.sh" ] || [ -f "$SHARED/pythons/provision-sid.sh" ]; then
  step "provisioning CPython 3.14/3.15"
  bash "$SHARED/pythons/provision-sid.sh" "$TOOLS/sid-pythons" >/dev/null
else
  echo "setup: $SHARED/pythons/provision-sid.sh not found; 3.14/3.15 tests will be skipped" >&2
fi

# A virtualenv for the Python-side tests and peers (py-spy, pytest-lsp, neovim).
PY="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")/versions/3.11.7/bin/python3"
[ -x "${PY:-}" ] || PY=$(command -v python3)
if [ ! -x "$TOOLS/venv/bin/python" ]; then
  step "creating $TOOLS/venv"
  "$PY" -m venv "$TOOLS/venv"
fi
if [ -s tests/requirements.txt ]; then
  stamp="$TOOLS/venv/.req-$(sha1sum tests/requirements.txt | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    step "pip install -r tests/requirements.txt"
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
    touch "$stamp"
  fi
fi

# npm packages for the JS test clients (DebugClient, playwright-core).
if [ -f tests/package.json ]; then
  stamp="tests/node_modules/.stamp-$(sha1sum tests/package.json | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    step "npm install (tests/)"
    (cd tests && npm install --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
fi

# The VS Code extension's own packages (its tests compile it and build the .vsix).
if [ -f clients/vscode/package-lock.json ] && [ ! -d clients/vscode/node_modules ]; then
  step "npm ci (clients/vscode)"
  (cd clients/vscode && npm ci --no-audit --no-fund --loglevel=error)
fi

# The Zed extension is built for WebAssembly by its test (tests/python/test_client_zed.py).
if command -v rustup >/dev/null && ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  step "rustup target add wasm32-wasip2"
  rustup target add wasm32-wasip2 >/dev/null || echo "setup: could not add wasm32-wasip2; the Zed extension's WebAssembly build test will be skipped" >&2
fi

step "cargo build --release"
cargo build --release --quiet
