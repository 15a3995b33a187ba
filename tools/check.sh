#!/usr/bin/env bash
# Set up, then run the whole test suite: lint (ruff, with C901: no function above complexity
# 15), format, types, and pytest (real LibreOffice).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
