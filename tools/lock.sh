#!/usr/bin/env bash
# Lock the service's tested set: requirements/service.lock, the exact version of every package
# `pip install '.[service,queue,postgres,signing]'` installs, resolved in a fresh throwaway venv.
# tools/setup.sh (so CI) and the container image install exactly these versions.
#
#   bash tools/lock.sh               keep the lock's versions; add what a new dependency needs,
#                                    drop what is no longer needed
#   bash tools/lock.sh --upgrade     the newest releases the ranges in pyproject.toml admit
#   bash tools/lock.sh --from FILE   start from the versions pinned in FILE (a `pip freeze`)
#
# Then run tools/check.sh (and the image test) before committing the new lock.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements/service.lock
from=$lock
case "${1:-}" in
  "") ;;
  --upgrade) from="" ;;
  --from) from=${2:?"--from FILE"} ;;
  *) echo "usage: tools/lock.sh [--upgrade | --from FILE]" >&2; exit 2 ;;
esac

# The image's interpreter, Debian bookworm's python3 (3.11.2), where it is installed: some
# packages need more below 3.11.3 (redis: async-timeout), which a newer 3.11 would leave out.
python=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
constraints=()
if [ -n "$from" ] && [ -f "$from" ]; then
  grep -E '^[A-Za-z0-9._-]+(\[[^]]*\])?==' "$from" > "$work/from.txt" || true
  constraints=(-c "$work/from.txt")
fi
"${pip[@]}" install "${constraints[@]}" '.[service,queue,postgres,signing]'
version=$("$work/venv/bin/python" -c 'import platform; print(platform.python_version())')
mkdir -p "$(dirname "$lock")"
{
  echo "# The service's tested set: every package of pip install '.[service,queue,postgres,signing]',"
  echo "# resolved on Python $version (Linux) in a fresh venv. tools/setup.sh installs it as"
  echo "# constraints (so CI tests exactly this set) and container/Containerfile installs it."
  echo "# Regenerate: bash tools/lock.sh (keeps these versions, follows pyproject.toml's"
  echo "# dependencies) or bash tools/lock.sh --upgrade (the newest releases the ranges admit)."
  "${pip[@]}" freeze --exclude contractgen | LC_ALL=C sort -f -t= -k1,1
} > "$work/service.lock"
mv "$work/service.lock" "$lock"
echo "lock: $lock ($(grep -vc '^#' "$lock") packages)"
