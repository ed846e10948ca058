#!/usr/bin/env bash
# Pin an image by digest in a Helm values file: the GitOps promotion step of cd-aws.yml and
# cd-azure.yml (Argo CD then syncs the change).
#
#   scripts/bump-image-digest.sh VALUES_FILE DIGEST
#   scripts/bump-image-digest.sh --push BRANCH VALUES_FILE DIGEST
#
# DIGEST is sha256:<64 hex>, or a reference by digest (REGISTRY/REPO@sha256:<64 hex>, as
# `shiprail publish` prints it). Only the `digest:` line of the top-level `image:` block
# changes (it is added when missing, with the block's indentation); comments, key order and
# every other key stay as they are. A file already pinned to DIGEST is left alone.
#
# --push BRANCH: take the tip of BRANCH from `origin`, pin the digest there, commit that file
# alone (author and committer from git's configuration or GIT_AUTHOR_* / GIT_COMMITTER_*) and
# push it to BRANCH. When the branch moved in between, the bump is redone on its new tip (three
# attempts). Needs a clean VALUES_FILE and an `origin` this checkout may push to; the work
# tree is left detached at the pushed commit.
#
# Exit codes: 0 pinned (or already pinned), 1 git failed, 2 usage (bad digest, no such file,
# no `image:` block).
set -euo pipefail

say() { printf 'bump-image-digest: %s\n' "$*" >&2; }
die() { local code=$1; shift; say "error: $*"; exit "$code"; }
usage() { die 2 "usage: $0 [--push BRANCH] VALUES_FILE DIGEST"; }

branch=""
if [ "${1:-}" = "--push" ]; then
  [ "$#" -ge 2 ] || usage
  branch=$2
  shift 2
  [ -n "$branch" ] || die 2 "--push needs the branch Argo CD follows (empty)"
fi
[ "$#" -eq 2 ] || usage
file=$1
digest=${2##*@}
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] ||
  die 2 "'$2' is not a digest (sha256:<64 hex>) or a reference by digest (...@sha256:<64 hex>)"

# pin: rewrite the digest line of FILE's top-level image: block. Returns 0 when the file
# changed, 3 when it was already pinned to the digest.
pin() {
  [ -f "$file" ] || die 2 "$file: no such file"
  local tmp status=0
  tmp=$(mktemp "$file.XXXXXX")
  # Pass 1 finds the `image:` line, the indentation of its keys and its digest line; pass 2
  # writes the file with that line replaced, or a digest line added right after `image:`.
  awk -v digest="$digest" '
    FNR == NR {
      if (!image && $0 ~ /^image:[ ]*(#.*)?$/) { image = FNR; next }
      if (image && !ended && $0 ~ /^[^ #]/) { ended = 1 }
      if (image && !ended && $0 ~ /^[ ]+[A-Za-z_]/) {
        match($0, /^[ ]+/)
        if (indent == "") indent = substr($0, 1, RLENGTH)
        if (substr($0, 1, RLENGTH) == indent && substr($0, RLENGTH + 1) ~ /^digest:/) {
          old = FNR; was = $0
        }
      }
      next
    }
    FNR == 1 {
      if (!image) exit 4
      if (indent == "") indent = "  "
      pinned = indent "digest: \"" digest "\""
      if (was == pinned) exit 3
    }
    FNR == old { print pinned; next }
    { print }
    FNR == image && !old { print pinned }
    END { if (!image) exit 4 }
  ' "$file" "$file" >"$tmp" || status=$?
  case "$status" in
    0) ;;
    3) rm -f "$tmp"; return 3 ;;
    4) rm -f "$tmp"; die 2 "$file: no top-level 'image:' block" ;;
    *) rm -f "$tmp"; die 2 "$file: could not be rewritten (awk exit $status)" ;;
  esac
  chmod --reference="$file" "$tmp" 2>/dev/null || true
  mv "$tmp" "$file"
}

pin_and_say() {
  local status=0
  pin || status=$?
  case "$status" in
    0) say "$file: image.digest $digest"; return 0 ;;
    3) say "$file: already pinned to $digest"; return 3 ;;
  esac
}

if [ -z "$branch" ]; then
  pin_and_say || true
  exit 0
fi

if ! git diff --quiet -- "$file" || ! git diff --cached --quiet -- "$file"; then
  die 2 "$file has uncommitted changes"
fi
message="$file: image.digest ${digest:0:19}"
for attempt in 1 2 3; do
  git fetch -q origin "refs/heads/$branch" || die 1 "git fetch of $branch failed"
  git checkout -q --detach FETCH_HEAD || die 1 "git checkout of $branch's tip failed"
  status=0
  pin_and_say || status=$?
  [ "$status" -eq 3 ] && exit 0
  git add -- "$file"
  git commit -q -m "$message" -- "$file" || die 1 "git commit failed"
  if git push -q origin "HEAD:refs/heads/$branch"; then
    say "pushed $(git rev-parse --short=12 HEAD) to $branch"
    exit 0
  fi
  say "push to $branch rejected (attempt $attempt of 3); redoing the bump on its new tip"
done
die 1 "could not push to $branch"
