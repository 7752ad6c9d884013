#!/usr/bin/env bash
# The registry benchmark: a CSV import of 100,000 people (and the same file again),
# certificates issued a second (PDF and stamp), stamps verified a second, and agency checks
# with 3,000,000 people in the registry. SQLite and PostgreSQL (the 3,000,000 on PostgreSQL
# only), through the services (no HTTP). Writes the table into README.md between the
# bench-registry markers.
#   bash tests/bench/registry.sh      (a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
n=${BENCH_PEOPLE:-100000}
certs=${BENCH_CERTIFICATES:-2000}
at_once=${BENCH_AT_ONCE:-4}
verifications=${BENCH_VERIFICATIONS:-5000}
region=${BENCH_REGION:-3000000}
export SPORTELLO_TEST_PG_ADMIN=${SPORTELLO_TEST_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p sportello-tests --example registry_bench >/dev/null 2>&1
tool=$target/release/examples/registry_bench
import=""
issue=""
checks=""
for db in sqlite postgres; do
  name=$([ "$db" = sqlite ] && echo SQLite || echo PostgreSQL)
  while IFS= read -r row; do import+="| $name ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=$db "$tool" import "$n")
  while IFS= read -r row; do issue+="| $name ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=$db "$tool" certificates "$certs" "$at_once")
  while IFS= read -r row; do issue+="| $name ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=$db "$tool" verify "$verifications")
done
while IFS= read -r row; do checks+="| PostgreSQL ${row}"$'\n'; done < <(SPORTELLO_TEST_DB=postgres "$tool" checks 2000 "$region" 100)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
table="Measured $(date +%F) on $(nproc) cores ($cpu), release build, database on the same machine; through the services (not the web layer). Aims of the issue: the import of 100,000 people under 20 s, at least 200 certificates a second, at least 5,000 verifications a second, agency checks p99 under 20 ms with 3,000,000 people on PostgreSQL.

| database | import | time | rate |
|---|---|---|---|
$import
| database | work | how many | rate | p50 (or each) | p99 |
|---|---|---|---|---|---|
$issue
| database | checks | how many | p50 | p99 |
|---|---|---|---|---|
$checks"
python3 - "$table" <<'PY'
import re, sys
p = "README.md"
s = open(p).read()
block = "<!-- bench-registry:start -->\n" + sys.argv[1].rstrip("\n") + "\n<!-- bench-registry:end -->"
if "<!-- bench-registry:start -->" in s:
    s = re.sub(r"<!-- bench-registry:start -->.*?<!-- bench-registry:end -->", lambda m: block, s, flags=re.S)
else:
    s = s.replace("### Authorization (`bash tests/bench/authz.sh`)", "### Registry (`bash tests/bench/registry.sh`)\n\n" + block + "\n\n### Authorization (`bash tests/bench/authz.sh`)", 1)
open(p, "w").write(s)
PY
echo "$table"
