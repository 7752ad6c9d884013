#!/usr/bin/env bash
# The README's first command, run as a newcomer would, in this checkout: `bash infra/demo.sh`
# (which installs the build's system packages when missing, builds and starts the demo portal;
# on port 8080 as the README says, unless something else holds it), then: /healthz answers, a
# commune's home page and the federation portal answer through their host names, the console
# invitations are printed, and a newcomer signs in with the demo identity provider at level 2
# and opens a service that needs it; then the demo is stopped. Also: demo mode asked for by
# configuration instead of `--demo` is refused at start-up.
# .ci/run calls this before anything else installs packages, so on a fresh machine it proves the
# command works alone (on a machine kept from an earlier run the packages are already there).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# The check's own tool (not something the demo needs).
if ! command -v curl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq curl >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq curl >/dev/null; fi
fi
work=$(mktemp -d)
log="$work/demo.log"
jar="$work/cookies"
listening() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=8080
while listening "$port"; do port=$((20000 + RANDOM % 20000)); done
fail() {
  echo "newcomer check FAILED: $*" >&2
  echo "--- last lines of the demo's output:" >&2
  tail -n 40 "$log" >&2
  exit 1
}
# GET (or POST with -d …) through a host name; the body on stdout, redirects followed, cookies
# kept per host; fails on HTTP errors.
fetch() {
  local host=$1 path=$2
  shift 2
  curl -fsS -L --max-time 20 -b "$jar" -c "$jar" --connect-to "::127.0.0.1:$port" "$@" \
    "http://$host:$port$path"
}
has() { grep -q -- "$2" <<<"$1"; }

echo "== The README's first command: bash infra/demo.sh (port $port)"
args=()
[ "$port" = 8080 ] || args=(--bind "127.0.0.1:$port")
# Its own session, so that stopping it stops cargo and the server together.
setsid bash infra/demo.sh "${args[@]}" >"$log" 2>&1 &
demo=$!
stop() { kill -TERM -- "-$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; }
trap 'stop; rm -rf "$work"' EXIT
# A first run compiles everything: allow up to 50 minutes on a cold machine.
deadline=$((SECONDS + 3000))
until curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
  kill -0 "$demo" 2>/dev/null || fail "the demo stopped before answering /healthz"
  [ $SECONDS -lt $deadline ] || fail "no answer on /healthz within 50 minutes"
  sleep 2
done
echo "answering after ${SECONDS} s"
page=$(fetch pisa.localhost /) || fail "Pisa's home page through pisa.localhost"
has "$page" 'Pisa' || fail "Pisa's home page does not name Pisa"
page=$(fetch localhost /) || fail "the federation portal through localhost"
has "$page" 'Pisa' || fail "the federation portal does not list Pisa"
grep -q "Pisa's console: .*http://pisa.localhost:$port/console" "$log" ||
  fail "the demo did not print the link to Pisa's console"

# A newcomer opens a service that needs SPID level 2 and signs in as a demo person.
service=/servizi/certificato-residenza/avvia
page=$(fetch pisa.localhost "$service") || fail "the level-2 service's page"
has "$page" 'href="/demo/identita"' || fail "the sign-in page does not offer the demo identities"
page=$(fetch login.localhost /demo/identita) || fail "the demo identity provider's page"
has "$page" 'Solo dimostrazione' || fail "the demo page does not say it is a demonstration"
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1)
[ -n "$csrf" ] || fail "no form token on the demo page"
page=$(fetch login.localhost /demo/identita -H "Origin: http://login.localhost:$port" \
  --data-urlencode person=giulia-bianchi --data-urlencode "csrf=$csrf") ||
  fail "signing in as Giulia Bianchi"
has "$page" 'Giulia Bianchi' || fail "after the demo sign-in, the service does not greet Giulia"
page=$(fetch pisa.localhost "$service") || fail "the service after signing in"
has "$page" 'Giulia Bianchi' || fail "Pisa forgot the demo sign-in"
stop
echo "the demo portal ran, signed a demo person in at level 2, and stopped"

echo "== Demo mode from configuration is refused at start-up"
if out=$(SPORTELLO_DEMO=true SPORTELLO_BIND=127.0.0.1:0 timeout 120 cargo run --locked --quiet -- serve 2>&1); then
  fail "SPORTELLO_DEMO=true started a server"
fi
has "$out" 'serve --demo' || fail "the refusal does not say why: $out"
echo "refused: $out"
echo "newcomer check passed"
