#!/usr/bin/env bash
# Sportello's benchmark: charter pages and API with 11 vs 7,896 communes, each against a bare
# actix-web ceiling answering with the very same bytes (same body, same content type); ISTAT
# import time on SQLite and PostgreSQL; server memory. Writes the table into
# README.md (between the bench markers) and prints it.
#   bash tests/bench/run.sh            (about 4 minutes after the release build)
# wrk and the server share this machine's cores: numbers are for comparing, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
dur=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p sportello-cli -p sportello-web --bins --example ceiling >/dev/null
bin=$target/release/sportello
ceiling=$target/release/examples/ceiling
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Starts the server on a free port with the database $1; sets $port and $pid.
start() {
  SPORTELLO_DATABASE_URL=$1 SPORTELLO_LOG=warn "$bin" serve --bind 127.0.0.1:0 >"$work/out" 2>"$work/err" &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^sportello listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
    [ -n "$port" ] && break; sleep 0.1
  done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }
# wrk → "req/s p50 p99" (latencies in ms)
load() {
  local host=$1 url=$2
  wrk -t2 -c"$conns" -d3s -H "Host: $host" "$url" >/dev/null 2>&1   # warm-up, discarded
  wrk -t2 -c"$conns" -d"${dur}s" --latency -H "Host: $host" "$url" >"$work/wrk" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps=$2 }
    $1=="50.000%" || $1=="50%" { p50=ms($2) }
    $1=="99.000%" || $1=="99%" { p99=ms($2) }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }' "$work/wrk"
}
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2/1024 }' "/proc/$1/status"; }

db="sqlite://$work/bench.db?mode=rwc"
SPORTELLO_DATABASE_URL=$db "$bin" migrate >/dev/null
SPORTELLO_DATABASE_URL=$db "$bin" tenants sync --dir "$root/tenants" >/dev/null

declare -A R
measure() { # $1 label
  start "$db"
  curl -sf -o /dev/null -H 'Host: pisa.localhost' "http://127.0.0.1:$port/servizi/certificato-residenza"
  R[$1,card]=$(load pisa.localhost "http://127.0.0.1:$port/servizi/certificato-residenza")
  R[$1,api]=$(load pisa.localhost "http://127.0.0.1:$port/api/v1/services")
  R[$1,rss]=$(rss_mb "$pid")
  stop
}
measure small
# The same page rendered on every request (page cache off).
SPORTELLO_PAGE_CACHE_SECONDS=0 start "$db"
R[nocache]=$(load pisa.localhost "http://127.0.0.1:$port/servizi/certificato-residenza")
stop
# The bodies the ceiling will answer with, byte for byte.
start "$db"
curl -s -H 'Host: pisa.localhost' "http://127.0.0.1:$port/servizi/certificato-residenza" >"$work/card"
curl -s -H 'Host: pisa.localhost' "http://127.0.0.1:$port/api/v1/services" >"$work/api"
stop
bytes=$(wc -c <"$work/card"); api_bytes=$(wc -c <"$work/api")

t0=$(date +%s.%N)
SPORTELLO_DATABASE_URL=$db "$bin" tenants import-istat "$root/tenants/istat/comuni.csv" >/dev/null
import_sqlite=$(calc "$(date +%s.%N) - $t0")
measure all

cport=$(( 20000 + RANDOM % 20000 ))
"$ceiling" "127.0.0.1:$cport" "$work/card:text/html; charset=utf-8" "$work/api:application/json" \
  >"$work/cout" 2>&1 & cpid=$!; pids+=("$cpid")
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$cport/0" && break; sleep 0.1; done
R[ceiling,card]=$(load localhost "http://127.0.0.1:$cport/0")
R[ceiling,api]=$(load localhost "http://127.0.0.1:$cport/1")
kill "$cpid"

# PostgreSQL import (migrated as the owner, imported as the application role).
pg_admin=${SPORTELLO_TEST_PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
pgdb=sportello_bench_$$
psql "$pg_admin" -qc "CREATE DATABASE $pgdb" >/dev/null
base=${pg_admin%/*}
SPORTELLO_DATABASE_URL="$base/$pgdb" "$bin" migrate >/dev/null
t0=$(date +%s.%N)
SPORTELLO_DATABASE_URL="postgres://sportello_app@${base#*@}/$pgdb" "$bin" tenants import-istat "$root/tenants/istat/comuni.csv" >/dev/null
import_pg=$(calc "$(date +%s.%N) - $t0")
psql "$pg_admin" -qc "DROP DATABASE $pgdb WITH (FORCE)" >/dev/null

row() { # label key
  read -r c_rps _ _ <<<"${R[ceiling,$2]}"
  read -r s_rps s_p50 s_p99 <<<"${R[small,$2]}"
  read -r a_rps a_p50 a_p99 <<<"${R[all,$2]}"
  printf '| %s | %s req/s · p50 %s ms · p99 %s ms | %s req/s · p50 %s ms · p99 %s ms | %+.1f %% | %.0f %% |\n' \
    "$1" "$s_rps" "$s_p50" "$s_p99" "$a_rps" "$a_p50" "$a_p99" \
    "$(calc "($a_rps - $s_rps) * 100 / $s_rps")" "$(calc "$a_rps * 100 / $c_rps")"
}
table=$(
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), release build, SQLite, wrk -t2 -c$conns -d${dur}s on the same machine."
  echo
  echo "| what | 11 communes | 7,896 communes | change | of its ceiling (7,896) |"
  echo "|---|---|---|---|---|"
  row "service card page (\`/servizi/certificato-residenza\`, $bytes bytes)" card
  row "\`/api/v1/services\` ($api_bytes bytes)" api
  read -r n_rps n_p50 n_p99 <<<"${R[nocache]}"
  echo "| service card rendered on every request (page cache off) | $n_rps req/s · p50 $n_p50 ms · p99 $n_p99 ms | | | |"
  read -r c_rps c_p50 c_p99 <<<"${R[ceiling,card]}"
  echo "| ceiling: bare actix-web answering the same $bytes bytes as the card | $c_rps req/s · p50 $c_p50 ms · p99 $c_p99 ms | | | 100 % |"
  read -r c_rps c_p50 c_p99 <<<"${R[ceiling,api]}"
  echo "| ceiling: bare actix-web answering the same $api_bytes bytes as the API | $c_rps req/s · p50 $c_p50 ms · p99 $c_p99 ms | | | 100 % |"
  echo
  echo "| import all 7,896 communes (starter charter included) | SQLite | PostgreSQL |"
  echo "|---|---|---|"
  printf '| time | %.1f s | %.1f s |\n' "$import_sqlite" "$import_pg"
  echo
  echo "| server resident memory after the load | 11 communes | 7,896 communes |"
  echo "|---|---|---|"
  echo "| RSS | ${R[small,rss]} MB | ${R[all,rss]} MB |"
)
echo "$table"
python3 - "$table" <<'PY'
import sys, re
table = sys.argv[1]
p = "README.md"
s = open(p).read()
s = re.sub(r"(<!-- bench:start -->\n).*?(\n<!-- bench:end -->)", lambda m: m.group(1) + table + m.group(2), s, flags=re.S)
open(p, "w").write(s)
PY
