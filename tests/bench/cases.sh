#!/usr/bin/env bash
# The cases benchmark: submissions a second into one commune and over 50 (the protocol counter
# is per commune), and reading with 1,000,000 cases in the database (100,000 in one office):
# an office's queue page, a search, "my cases", the status by number and code. SQLite and
# PostgreSQL, through the services (no HTTP). Writes the tables into README.md between the
# bench-cases markers.
#   bash tests/bench/cases.sh      (a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
n=${BENCH_SUBMISSIONS:-2000}
at_once=${BENCH_AT_ONCE:-32}
export SPORTELLO_TEST_PG_ADMIN=${SPORTELLO_TEST_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p sportello-tests --example cases_bench >/dev/null 2>&1
tool=$target/release/examples/cases_bench
submit=""
read=""
for db in sqlite postgres; do
  name=$([ "$db" = sqlite ] && echo SQLite || echo PostgreSQL)
  while IFS= read -r row; do submit+="| $name ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=$db "$tool" submit "$n" "$at_once")
  while IFS= read -r row; do read+="| $name ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=$db "$tool" read)
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
table="Measured $(date +%F) on $(nproc) cores ($cpu), release build, database on the same machine; through the services (what a case costs, not the web layer). Submissions: each a whole case (answers checked, case, history entry, the citizen's e-mail in the outbox, draft removed, protocol number). First arriving at the aimed rate whether or not the earlier ones are done (latency counted from when each was due, so a backlog shows), then $at_once at a time for the most it does.

| database | into | submissions | load | rate | p50 | p99 |
|---|---|---|---|---|---|---|
$submit
With 1,000,000 cases in the database (100,000 in Pisa's URP office, the rest over 49 other communes); 300 runs each:

| database | what | p50 | p99 |
|---|---|---|---|
$read"
python3 - "$table" <<'PY'
import re, sys
p = "README.md"
s = open(p).read()
block = "<!-- bench-cases:start -->\n" + sys.argv[1].rstrip("\n") + "\n<!-- bench-cases:end -->"
s = re.sub(r"<!-- bench-cases:start -->.*?<!-- bench-cases:end -->", lambda m: block, s, flags=re.S)
open(p, "w").write(s)
PY
echo "$table"
