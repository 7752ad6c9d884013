#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what it needs (idempotently), then runs
#   1. every Rust test (unit + integration) against SQLite,
#   2. the integration tests against PostgreSQL (a throwaway database per test),
#   3. the browser tests (headless Chromium + axe-core) against the real server.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- system packages -------------------------------------------------------------------------
bash infra/system-deps.sh test

# --- PostgreSQL --------------------------------------------------------------------------------
pg_admin=${SPORTELLO_TEST_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# A freshly installed Debian cluster asks for passwords on TCP: let this machine's tests in.
if ! psql "$pg_admin" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | tail -n1)
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n1)" main reload
  sleep 1
fi
drop_test_databases() {
  psql "$pg_admin" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'sportello_t_%'" |
    while read -r db; do psql "$pg_admin" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done
}
drop_test_databases
trap drop_test_databases EXIT
export SPORTELLO_TEST_PG_ADMIN="$pg_admin"

# --- Test counterparts: OIDC provider (npm), SAML IdP + SMTP + SPID conformance tool (PyPI) ---
bash tests/counterparts/setup.sh

# --- 1. SQLite ---------------------------------------------------------------------------------
echo "== Rust tests on SQLite"
SPORTELLO_TEST_DB=sqlite cargo test --workspace --locked

# --- 2. PostgreSQL -----------------------------------------------------------------------------
echo "== Integration tests on PostgreSQL"
SPORTELLO_TEST_DB=postgres cargo test -p sportello-tests --locked

# --- 3. Browser --------------------------------------------------------------------------------
echo "== Browser tests (Chromium, axe-core)"
# The server, and the Stripe-compatible test server the card payment test pays through.
cargo build -p sportello-cli -p sportello-tests --bin sportello --example fake_stripe --locked
(cd web && npm ci --no-audit --no-fund --loglevel=error &&
  SPORTELLO_BIN="$target/debug/sportello" FAKE_STRIPE_BIN="$target/debug/examples/fake_stripe" npm test)
