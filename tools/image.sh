#!/usr/bin/env bash
# Build the container image (container/Containerfile) with podman: Debian bookworm, its
# LibreOffice, the declared fonts, requirements/service.lock and a wheel of the checkout.
#
#   bash tools/image.sh [--wheel FILE] [--tag NAME]
#
# No image registry is needed: the bookworm base is made here once with
# `mmdebstrap --variant=minbase` (cached as a file under $CONTRACTGEN_IMAGE_CACHE, default
# ~/.cache/contractgen/image) and imported with `podman import`; apt inside the build fetches
# from the Debian mirror ($DEBIAN_MIRROR); the locked set's wheels are downloaded here by pip
# (for CPython 3.11, bookworm's, on manylinux; cached per lock) and installed inside from the
# build context, so the build asks no package index and trusts no other TLS. podman, runc and
# mmdebstrap are installed with apt when missing. podman runs with runc and explicit ulimits
# (crun, Debian's default, refuses some hosts' cgroup mode). Tags contractgen:<version> and
# contractgen:latest unless --tag is given; prints the image's tag last.
set -euo pipefail
cd "$(dirname "$0")/.."

wheel=""
tags=()
while (($#)); do
  case $1 in
    --wheel) wheel=$(realpath "${2:?--wheel FILE}"); shift 2 ;;
    --tag) tags+=("${2:?--tag NAME}"); shift 2 ;;
    *) echo "usage: tools/image.sh [--wheel FILE] [--tag NAME]" >&2; exit 2 ;;
  esac
done

tools=(podman runc mmdebstrap)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "image: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

podman=(podman --runtime runc)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache=${CONTRACTGEN_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/contractgen/image}
base_tar=$cache/bookworm-minbase.tar
base=localhost/contractgen-base:bookworm
mkdir -p "$cache"

# The base: a bookworm minbase, made once (delete the file to make it again).
if [ ! -s "$base_tar" ]; then
  echo "image: making the bookworm base with mmdebstrap ($mirror)" >&2
  rm -rf "$base_tar.part"
  mmdebstrap --quiet --variant=minbase --format=tar bookworm "$base_tar.part" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main"
  mv "$base_tar.part" "$base_tar"
fi
# ... imported again when the file is not the one imported last
stamp="$(stat -c '%s %Y' "$base_tar")"
if ! "${podman[@]}" image exists "$base" || [ "$(cat "$base_tar.imported" 2>/dev/null)" != "$stamp" ]; then
  echo "image: importing $base_tar as $base" >&2
  "${podman[@]}" import --quiet "$base_tar" "$base" >/dev/null
  echo "$stamp" > "$base_tar.imported"
fi

python=${PYTHON:-python3}
# The locked set's wheels for the image's Python (bookworm's CPython 3.11), once per lock.
lock_sha=$(sha256sum requirements/service.lock | cut -c1-16)
wheels=$cache/wheels-$lock_sha
if [ ! -d "$wheels" ]; then
  platforms=()
  for minor in $(seq 36 -1 5); do platforms+=(--platform "manylinux_2_${minor}_$(uname -m)"); done
  "$python" -m pip download -q --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 "${platforms[@]}" \
    -r requirements/service.lock -d "$wheels.part"
  mv "$wheels.part" "$wheels"
fi

# The build context: the Containerfile, the lock, its wheels and the package's wheel.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp requirements/service.lock container/Containerfile "$context/"
cp -rl "$wheels" "$context/wheels" 2>/dev/null || cp -r "$wheels" "$context/wheels"
if [ -n "$wheel" ]; then
  cp "$wheel" "$context/"
else
  # a wheel of the files git tracks or would track, never of stray ones
  mkdir "$context/src"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$context/src"
  "$python" -m pip wheel --no-deps -q --disable-pip-version-check -w "$context" "$context/src"
  rm -rf "$context/src"
fi
whl=$(ls "$context"/contractgen-*.whl)
version=$(basename "$whl" | cut -d- -f2)
((${#tags[@]})) || tags=("contractgen:$version" "contractgen:latest")

tag_args=()
for t in "${tags[@]}"; do tag_args+=(--tag "$t"); done
"${podman[@]}" build "${limits[@]}" --network=host --build-arg "BASE=$base" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.licenses=MIT" \
  --label "org.opencontainers.image.title=contractgen" \
  "${tag_args[@]}" -f "$context/Containerfile" "$context" >&2
echo "${tags[0]}"
