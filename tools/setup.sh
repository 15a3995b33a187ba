#!/usr/bin/env bash
# Install everything contractgen needs on Debian/Ubuntu: LibreOffice Writer, the fonts that
# generator/fonts/fonts.conf declares (the only ones LibreOffice is shown), poppler, Debian's
# python3-uno (for the PDF workers), a C compiler and Python headers (for the optional
# generator/pdf/_eexec.c), PostgreSQL (the tests start a throwaway server for the shared ledger),
# Chromium (the workbench's browser tests), Redis (the job queue's broker; the tests start their
# own), strace (a test watches a set's files flushed), then a venv with the package, the
# service's dependencies at the versions locked in requirements/service.lock (tools/lock.sh),
# so the tests run on the set the image ships.
# The container image's tools (podman, runc, mmdebstrap) are tools/image.sh's own business.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libreoffice-writer-nogui fonts-noto-cjk fonts-dejavu-core fonts-opensymbol fonts-hanazono
  poppler-utils python3-uno python3-venv fontconfig gcc libc6-dev python3-dev postgresql chromium redis-server strace)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -U pip
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements/service.lock -e '.[dev]'
# The checkout's bytecode, as pip compiles an installed package's: every command, batch worker
# and service process then starts about 0.2 s sooner, also where PYTHONDONTWRITEBYTECODE keeps
# Python from writing it on first use. A file changed later is compiled again in memory.
.venv/bin/python -m compileall -q -j 0 generator
echo "setup: ready (.venv/bin/contractgen)"
