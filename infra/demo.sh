#!/usr/bin/env bash
# The README's first command: the portal with the demo federation, on a fresh machine.
# Installs the system libraries the build needs when they are missing (infra/system-deps.sh), then
# builds and serves (SQLite file sportello.db, migrated and seeded). Arguments go to `serve`,
# e.g. `bash infra/demo.sh --bind 127.0.0.1:9090`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is missing: install it from https://rustup.rs (version 1.94 or newer), then run" >&2
  echo "  bash infra/demo.sh" >&2
  exit 1
fi
bash infra/system-deps.sh build
exec cargo run --locked -- serve --demo "$@"
