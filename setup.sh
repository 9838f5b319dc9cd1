#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine (Python >= 3.11) to a working toolkit.
#   ./setup.sh demo    install everything, then run `verify demo` (no camera, scanner or network)
#   ./setup.sh test    install everything, including test-only tools, then run the test suite
#   ./setup.sh install install everything and stop
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-install}"; shift || true

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: zbar for pyzbar, Tesseract and the OCR-B face for UT-card MRZs, Tk for the
# camera preview window (python3-tk; opencv-python-headless has no windows); the test
# run also needs a real browser and a virtual display.
apt_pkgs=(libzbar0 tesseract-ocr tesseract-ocr-eng fonts-ocr-b python3-tk)
# pyscard (the UT card's chip over PC/SC) has no Linux wheel on PyPI: pip builds it with swig
# against the PC/SC library's headers.
apt_pkgs+=(swig libpcsclite-dev gcc libc6-dev python3-dev)
if [ "$what" = "test" ]; then apt_pkgs+=(chromium chromium-driver xvfb fonts-dejavu-core); fi
# The chip tests run a real PC/SC stack: pcscd with the vpcd reader driver (vsmartcard, GPL,
# test-only, never shipped) and an emulated card of the tests' own (docs/chip.md).
if [ "$what" = "test" ]; then apt_pkgs+=(pcscd vsmartcard-vpcd vsmartcard-vpicc openssl); fi
# systemd-analyze checks the desk service unit that `verify desk install-service` writes.
if [ "$what" = "test" ]; then apt_pkgs+=(systemd); fi
# The service for many desks is tested behind a real nginx with TLS (a certificate made by openssl).
if [ "$what" = "test" ]; then apt_pkgs+=(nginx-light openssl); fi
# python-evdev (keyboard-mode scanners, test extra) is built from source: compiler and headers.
if [ "$what" = "test" ]; then apt_pkgs+=(gcc libc6-dev python3-dev); fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "verify needs Python >= 3.11")'
  "$PY" -m venv .venv || { $SUDO apt-get install -y -qq python3-venv >/dev/null && "$PY" -m venv .venv; }
fi
extras="."
if [ "$what" = "test" ]; then extras=".[dev,test]"; fi
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${what}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$extras"
  touch "$stamp"
fi

case "$what" in
  demo) exec .venv/bin/verify demo "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  install) echo "setup: done; run .venv/bin/verify --help" ;;
  *) echo "usage: ./setup.sh demo|test|install" >&2; exit 2 ;;
esac
