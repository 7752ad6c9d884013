#!/usr/bin/env bash
# The README's first command, run as a newcomer would, in this checkout: `bash infra/demo.sh`
# (which installs the build's system packages when missing, builds and starts the demo portal),
# then: /healthz answers, a commune's home page and the federation portal answer through their
# host names, the demo identity provider is offered; then it is stopped. Also: demo mode asked
# for by configuration instead of `--demo` is refused at start-up.
# .ci/run calls this before anything else installs packages, so on a fresh machine it proves the
# command works alone. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# The check's own tool (not something the demo needs).
if ! command -v curl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq curl >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq curl >/dev/null; fi
fi
log=$(mktemp)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fail() {
  echo "newcomer check FAILED: $*" >&2
  echo "--- last lines of the demo's output:" >&2
  tail -n 40 "$log" >&2
  exit 1
}
fetch() { # host path -> body on stdout (fails on HTTP errors)
  curl -fsS --max-time 20 --connect-to "::127.0.0.1:$port" "http://$1:$port$2"
}

echo "== The README's first command: bash infra/demo.sh (port $port)"
# Its own session, so that stopping it stops cargo and the server together.
setsid bash infra/demo.sh --bind "127.0.0.1:$port" >"$log" 2>&1 &
demo=$!
stop() { kill -TERM -- "-$demo" 2>/dev/null || true; wait "$demo" 2>/dev/null || true; }
trap stop EXIT
# A first run compiles everything: allow up to 50 minutes on a cold machine.
deadline=$((SECONDS + 3000))
until curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
  kill -0 "$demo" 2>/dev/null || fail "the demo stopped before answering /healthz"
  [ $SECONDS -lt $deadline ] || fail "no answer on /healthz within 50 minutes"
  sleep 2
done
echo "answering after ${SECONDS} s"
fetch pisa.localhost / | grep -q 'Pisa' ||
  fail "Pisa's home page through pisa.localhost"
fetch localhost / | grep -qi 'comune' || fail "the federation portal through localhost"
fetch login.localhost /demo/identita | grep -q 'Solo dimostrazione' ||
  fail "the demo identity provider on login.localhost"
grep -q "Pisa's console: " "$log" || fail "the demo prints the console invitations"
stop
trap - EXIT
echo "the demo portal ran and stopped"

echo "== Demo mode from configuration is refused at start-up"
if out=$(SPORTELLO_DEMO=true SPORTELLO_BIND=127.0.0.1:0 timeout 120 cargo run --locked --quiet -- serve 2>&1); then
  fail "SPORTELLO_DEMO=true started a server"
fi
echo "$out" | grep -q 'serve --demo' || fail "the refusal does not say why: $out"
echo "refused: $out"
rm -f "$log"
echo "newcomer check passed"
