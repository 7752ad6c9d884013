#!/usr/bin/env bash
# The system packages Sportello needs, installed only when missing (idempotent; Debian/Ubuntu).
#   bash infra/system-deps.sh build   what building needs: samael generates its xmlsec bindings
#                                     with bindgen (libclang) and links libxmlsec1, libxml2, OpenSSL
#   bash infra/system-deps.sh test    that, plus what the tests start: Chromium, PostgreSQL,
#                                     Node.js/npm, the xmlsec1 command (the pysaml2 test IdP signs
#                                     with it), curl, zbarimg (reads QR codes), pdftotext (reads
#                                     the PDF receipts)
# Called by infra/demo.sh (build), tests/run.sh (test) and .ci/run (test). Root installs directly;
# anyone else through sudo. Where neither works, it prints the one command to run and stops.
set -euo pipefail
what=${1:-build}

missing=()
# A C toolchain for the linker and the crates that compile C (ring, libsqlite3-sys).
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! command -v xmlsec1-config >/dev/null 2>&1 || ! pkg-config --exists xmlsec1 2>/dev/null; then
  missing+=(libxmlsec1-dev libxml2-dev)
fi
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
# bindgen needs libclang with its headers: the development link libclang.so (neither the runtime
# libclang.so.1 nor libclang-cpp alone does). LIBCLANG_PATH names it elsewhere.
if [ -z "${LIBCLANG_PATH:-}" ] && ! compgen -G '/usr/lib/llvm-*/lib/libclang.so' >/dev/null; then
  missing+=(libclang-dev)
fi
if [ "$what" = test ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # Reads the QR codes the pages draw, in the browser tests.
  command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
  # Reads back the PDF receipts the portal writes (a real reader, not our own parser).
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
  # The CA a test trusts when pdfsig (poppler-utils) checks a PAdES signature: an NSS database.
  command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
elif [ "$what" != build ]; then
  echo "usage: bash infra/system-deps.sh [build|test]" >&2
  exit 2
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  # Not Debian or Ubuntu: this script cannot tell what is installed where, nor install it. The
  # build checks again (crates/sysdeps knows more layouts) and names anything really missing.
  echo "note: no apt-get here; make sure the equivalents of these Debian packages are installed: ${missing[*]}" >&2
  exit 0
fi
command_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
  echo "Sportello needs system packages; installing them with sudo: ${missing[*]}"
else
  echo "Sportello needs system packages that are missing. As root, run:" >&2
  echo "  apt-get update && $command_line" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive $command_line -qq >/dev/null; }; then
  echo "Installing the system packages failed. Run, as root:" >&2
  echo "  apt-get update && $command_line" >&2
  exit 1
fi
