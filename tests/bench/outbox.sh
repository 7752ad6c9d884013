#!/usr/bin/env bash
# The outbox benchmark: messages delivered per second by two delivery workers (each with its own
# pool) to the local SMTP sink (aiosmtpd) and to the test SMS gateway, and the delay from an
# event's commit to the hand-over to the provider at a steady rate (200 e-mails/s, 500 SMS/s).
# SQLite and PostgreSQL. Writes the table into README.md between the bench-outbox markers.
#   bash tests/bench/outbox.sh      (after tests/counterparts/setup.sh; a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
burst=${BENCH_BURST:-2000}
seconds=${BENCH_SECONDS:-10}
export PATH="$root/tests/counterparts/.venv/bin:$PATH"
export SPORTELLO_TEST_PG_ADMIN=${SPORTELLO_TEST_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p sportello-tests --example outbox_bench >/dev/null 2>&1
tool=$target/release/examples/outbox_bench
rows=""
for db in sqlite postgres; do
  for channel in email sms; do
    row=$(SPORTELLO_TEST_DB=$db "$tool" "$channel" "$burst" "$seconds" | tail -n1)
    name=$([ "$db" = sqlite ] && echo SQLite || echo PostgreSQL)
    rows+="| $name | ${row#| }"$'\n'
  done
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
table="Measured $(date +%F) on $(nproc) cores ($cpu), release build; two delivery workers on one node, each with its own pool; a burst of $burst messages written first, then drained; then one event a transaction at a steady rate, the workers running (woken by the commit on their node; another node's events wait at most the 250 ms poll).

| database | channel | burst drained | steady rate | commit → provider p50 | p99 |
|---|---|---|---|---|---|
$rows"
python3 - "$table" <<'PY'
import re, sys
p = "README.md"
s = open(p).read()
block = "<!-- bench-outbox:start -->\n" + sys.argv[1].rstrip("\n") + "\n<!-- bench-outbox:end -->"
s = re.sub(r"<!-- bench-outbox:start -->.*?<!-- bench-outbox:end -->", lambda m: block, s, flags=re.S)
open(p, "w").write(s)
PY
echo "$table"
