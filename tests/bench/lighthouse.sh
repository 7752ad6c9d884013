#!/usr/bin/env bash
# Lighthouse (npm `lighthouse` 12.2.3, Debian's Chromium, mobile emulation with its default
# throttling) on the pages the issue names: a commune's home, a service card, an office page and
# the federation portal, against the release build of `sportello serve --demo`. Writes the
# scores into README.md (between the lighthouse markers) and prints them.
#   bash tests/bench/lighthouse.sh        (a few minutes after the release build)
# Lighthouse and the server share this machine's cores: performance scores vary by a few points.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bash infra/system-deps.sh test
tool=$root/tests/bench/.lighthouse
if [ ! -x "$tool/node_modules/.bin/lighthouse" ]; then
  mkdir -p "$tool"
  (cd "$tool" && echo '{"name": "sportello-lighthouse", "private": true}' >package.json && npm install --no-audit --no-fund --loglevel=error lighthouse@12.2.3 >/dev/null)
fi
cargo build --release --locked -p sportello-cli >/dev/null
work=$(mktemp -d)
SPORTELLO_DATABASE_URL="sqlite://$work/db.sqlite?mode=rwc" SPORTELLO_MAIL_OUTBOX="$work/mail" \
  SPORTELLO_TENANTS_DIR="$root/tenants" SPORTELLO_LOG=warn \
  "$target/release/sportello" serve --demo --bind 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/^sportello listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")
  [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] || { cat "$work/err"; exit 1; }
pages=(
  "Commune home|http://pisa.localhost:$port/"
  "Service card|http://pisa.localhost:$port/servizi/carta-identita-elettronica"
  "Office page|http://pisa.localhost:$port/uffici/anagrafe"
  "Federation portal|http://localhost:$port/"
)
rows=""
for entry in "${pages[@]}"; do
  name=${entry%%|*}; url=${entry#*|}
  CHROME_PATH=/usr/bin/chromium "$tool/node_modules/.bin/lighthouse" "$url" --quiet \
    --output=json --output-path="$work/lh.json" \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null 2>"$work/lh.err" ||
    { cat "$work/lh.err"; exit 1; }
  row=$(node -e '
    const r = require(process.argv[1]);
    const s = (k) => Math.round(r.categories[k].score * 100);
    console.log(`| ${process.argv[2]} | ${s("performance")} | ${s("accessibility")} | ${s("best-practices")} | ${s("seo")} |`);
  ' "$work/lh.json" "$name")
  echo "$row"
  rows+="$row"$'\n'
done
table="Lighthouse 12.2.3, mobile, measured $(date -u +%Y-%m-%d) on $(nproc) cores, release build, SQLite:

| Page | Performance | Accessibility | Best practices | SEO |
|---|---|---|---|---|
${rows}"
python3 - "$table" <<'PY'
import sys, re
table = sys.argv[1]
p = 'README.md'
s = open(p).read()
start, end = '<!-- lighthouse:start -->', '<!-- lighthouse:end -->'
block = f"{start}\n{table}{end}"
if start in s:
    s = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: block, s, flags=re.S)
else:
    s = s.rstrip('\n') + '\n\n' + block + '\n'
open(p, 'w').write(s)
PY
