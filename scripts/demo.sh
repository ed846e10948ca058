#!/usr/bin/env bash
# `make demo`: the supply chain, then a release, with one line per step:
#
#   build → scan → registry → keys → publish → verify → deploy dev
#
# Each step's full output goes to .shiprail/demo/logs/<step>.log; the line printed is its
# outcome, its time and what it made (the image, the digest, the release). A failed step
# prints the end of its log and stops the demo with its exit code, so nothing unverified
# is deployed. The signing key's passphrase is generated once into .shiprail/demo/ (mode 0600)
# and handed to shiprail through SHIPRAIL_COSIGN_PASSWORD_FILE, never on a command line.
#
# A working tree with uncommitted changes is refused by the build; SHIPRAIL_ALLOW_DIRTY=1
# builds it anyway, and the image is then tagged, labelled and recorded as dirty.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
shiprail=${SHIPRAIL_BIN:-$root/.venv/bin/shiprail}
demo=.shiprail/demo
logs=$demo/logs
mkdir -p "$logs"
chmod 700 "$demo"

if [ ! -s "$demo/cosign.password" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$demo/cosign.password")
fi
export SHIPRAIL_COSIGN_PASSWORD_FILE="$root/$demo/cosign.password"

# step NAME PATTERN COMMAND...: run COMMAND, print "NAME  ok  <seconds>  <what it made>" or
# fail. What it made is the last output line matching PATTERN (stdout first, then stderr).
step() {
  local name=$1 pattern=$2
  shift 2
  local log="$logs/$name.log" out="$logs/$name.out" started ended made
  started=$(date +%s.%N)
  if "$@" >"$out" 2>"$log"; then
    ended=$(date +%s.%N)
    made=$(cat "$out" "$log" | grep -E -- "$pattern" | head -n 1 || true)
    printf '%-9s ok     %6.1fs  %s\n' "$name" "$(awk "BEGIN { print $ended - $started }")" \
      "$made" >&2
    LAST=$(tail -n 1 "$out")
  else
    local code=$?
    printf '%-9s FAILED (exit %s); the end of %s:\n' "$name" "$code" "$log" >&2
    tail -n 25 "$log" | sed 's/^/    /' >&2
    exit "$code"
  fi
}

step build '^workorders:' "$shiprail" build image
image=$LAST
step scan '^gate:' "$shiprail" image scan "$image"
grep -o 'Debian (OS) packages were NOT audited: [^(]*' "$logs/scan.log" | sed 's/^/          /' >&2 || true
step registry '^[^ ]+:[0-9]+$' "$shiprail" registry up
if [ ! -s .shiprail/keys/cosign.pub ]; then
  step keys 'cosign.pub' "$shiprail" keys generate
else
  printf '%-9s ok     %6.1fs  %s\n' keys 0 ".shiprail/keys/cosign.pub (kept)" >&2
fi
step publish '@sha256:' "$shiprail" publish "$image"
reference=$LAST
step verify 'passed|verified' "$shiprail" verify "$reference"
step deploy 'is live in' "$shiprail" deploy dev --image "$image"
grep -E '(TLS|basic auth):' "$logs/deploy.log" | sed 's/^shiprail: */          /' >&2 || true
