#!/usr/bin/env bash
# System packages the build and the tests need (idempotent: installs only what is missing).
# Called by tests/run.sh and, before the lints, by .ci/run (samael's build needs libxmlsec1).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v psql >/dev/null 2>&1 || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
# SAML (samael): bindgen needs libclang, and it links libxmlsec1/libxml2/OpenSSL.
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists xmlsec1 2>/dev/null || missing+=(libxmlsec1-dev libxml2-dev)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null || missing+=(libclang-dev)
# The SAML test IdP (pysaml2) signs with the xmlsec1 command.
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

