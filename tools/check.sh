#!/usr/bin/env bash
# Set up, then run the whole test suite: lint (ruff, with C901: no function above complexity
# 15), format, types, and pytest (real LibreOffice), in two processes: each takes a test file
# at a time (its module's servers and offices shared by its tests), so while one waits on
# a subprocess the other's work goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
