#!/usr/bin/env bash
# Obtain the third-party data shiprail reads (never committed), pinned in tools.lock.
#
#   scripts/fetch-data.sh            fetch every data set pinned in tools.lock
#   scripts/fetch-data.sh NAME...    fetch only these (crds, schemas, advisory-db)
#
# Pins are tools.lock lines "#@data name sha256 mirror-dir upstream". The sha256 covers every
# file of the set (sha256sum of each file, sorted by path, hashed again). Source:
# $SHIPRAIL_DATA_MIRROR/<mirror-dir> when set (air-gapped sites; CI sets it), else the
# upstream when the set has a known git source. Each set lands in .cache/data/<name>/ with a
# SOURCE file (source, sha256, fetched) that reports quote. A copy whose content does not
# match the pin is refused. Idempotent: a present copy with the pinned sha256 is kept.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock="$root/tools.lock"
dest_root="$root/.cache/data"
say() { printf 'fetch-data: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

tree_sha256() {
  (cd "$1" && find . -type f ! -name SOURCE -print0 | LC_ALL=C sort -z | xargs -0 sha256sum \
    | sha256sum | cut -d' ' -f1)
}

# Data sets that can be fetched from upstream without a mirror: name -> "git-url commit".
declare -A git_upstream=(
  [advisory-db]="https://github.com/pypa/advisory-database.git 3ccb612573e2511ab5cad7dafecd838605c80cda"
)

fetch_upstream() {  # name out-dir
  local name=$1 out=$2 url commit
  [ -n "${git_upstream[$name]:-}" ] ||
    die "$name: no upstream fetch known; set SHIPRAIL_DATA_MIRROR to a directory holding $name"
  read -r url commit <<<"${git_upstream[$name]}"
  say "$name: cloning $url at ${commit:0:12}"
  git clone -q --filter=blob:none --no-checkout "$url" "$out.git"
  git -C "$out.git" checkout -q "$commit"
  mkdir -p "$out/pypa"
  cp -a "$out.git/vulns" "$out.git/LICENSE" "$out/pypa/"
  rm -rf "$out.git"
}

fetch() {  # name sha256 mirror-dir upstream
  local name=$1 sha=$2 mirror_dir=$3 upstream=$4
  local dest="$dest_root/$name"
  if [ -f "$dest/SOURCE" ] && grep -qx "sha256: $sha" "$dest/SOURCE"; then
    say "$name: already present ($upstream)"
    return
  fi
  local tmp; tmp=$(mktemp -d)
  local from
  if [ -n "${SHIPRAIL_DATA_MIRROR:-}" ] && [ -d "$SHIPRAIL_DATA_MIRROR/$mirror_dir" ]; then
    from="mirror $mirror_dir"
    cp -a "$SHIPRAIL_DATA_MIRROR/$mirror_dir" "$tmp/out"
  else
    from="upstream"
    fetch_upstream "$name" "$tmp/out"
  fi
  local got; got=$(tree_sha256 "$tmp/out")
  if [ "$got" != "$sha" ]; then
    rm -rf "$tmp"
    die "$name: content sha256 $got does not match the pin $sha in tools.lock"
  fi
  rm -rf "$dest"; mkdir -p "$dest_root"
  mv "$tmp/out" "$dest"; rm -rf "$tmp"
  printf 'source: %s (%s)\nsha256: %s\nfetched: %s\n' "$upstream" "$from" "$sha" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dest/SOURCE"
  say "$name: installed from $from into .cache/data/$name"
}

wanted=("$@")
found=0
while read -r marker name sha mirror_dir upstream; do
  [ "$marker" = "#@data" ] || continue
  if [ "${#wanted[@]}" -gt 0 ]; then
    hit=0; for w in "${wanted[@]}"; do [ "$w" = "$name" ] && hit=1; done
    [ "$hit" -eq 1 ] || continue
  fi
  found=$((found + 1))
  fetch "$name" "$sha" "$mirror_dir" "$upstream"
done < <(grep -E '^#@data[[:space:]]' "$lock")
if [ "${#wanted[@]}" -gt 0 ] && [ "$found" -lt "${#wanted[@]}" ]; then
  die "not every requested data set is pinned in tools.lock (#@data lines): ${wanted[*]}"
fi
