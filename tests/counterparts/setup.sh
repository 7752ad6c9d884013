#!/usr/bin/env bash
# Installs what the test counterparts need; idempotent and quiet on success.
#   - xmlsec1 (Debian package) when the command is missing
#   - the Python venv tests/counterparts/.venv with requirements.txt
#     (re-installed only when requirements.txt changed: sha256 stamp inside the venv)
#   - node_modules via `npm ci` when package-lock.json exists and node_modules is
#     missing or was installed from another lockfile (sha256 stamp inside node_modules)
# Usage: bash tests/counterparts/setup.sh   (from anywhere; COUNTERPARTS_SKIP_NODE=1 skips npm)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# Runs a command quietly; shows its output only if it fails.
quiet() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    echo "setup.sh: failed: $*" >&2
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# --- xmlsec1 -------------------------------------------------------------------------------
if ! command -v xmlsec1 >/dev/null 2>&1; then
  quiet as_root apt-get update -qq
  quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xmlsec1
fi

# --- Python venv -----------------------------------------------------------------------------
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian's own python3 keeps venv/ensurepip in a separate package.
  quiet as_root apt-get update -qq
  quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv
fi
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  quiet "$python" -m venv "$venv"
fi
want=$(sha requirements.txt)
stamp="$venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  quiet "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r requirements.txt
  echo "$want" >"$stamp"
fi

# --- Node (package.json / package-lock.json are maintained separately) ----------------------
if [ -f package-lock.json ] && [ "${COUNTERPARTS_SKIP_NODE:-}" != 1 ]; then
  want=$(sha package-lock.json)
  stamp="node_modules/.package-lock.sha256"
  if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    quiet npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
  fi
fi
