#!/usr/bin/env bash
# Smoke tests of what the workflows ship.
#
#   scripts/smoke.sh url BASE_URL [COMMIT]    the deployed service answers (running COMMIT)
#   scripts/smoke.sh image REFERENCE          a published image verifies with plain cosign
#
# url: with COMMIT, first wait until BASE_URL/version reports it (its git_sha is the commit's
# first 12 characters): Argo CD deploys asynchronously. Without COMMIT, wait until
# BASE_URL/health answers. Then GET /health (200, a "status"), /ready (200) and
# /api/v1/workorders (200). The wait ends after SMOKE_TIMEOUT seconds (default 600), polling
# every SMOKE_INTERVAL seconds (default 10); each request times out after 10 s. TLS is
# verified (SMOKE_CACERT: a CA bundle to verify against).
#
# image: what any consumer can check of an image `shiprail publish --keyless` pushed from
# GitHub Actions: `cosign verify` and `cosign verify-attestation` for the provenance
# (slsaprovenance1), the SBOM (cyclonedx) and the scan result (vuln), each against the
# keyless identity of the workflow run that signed it - certificate identity
# https://github.com/$GITHUB_WORKFLOW_REF (SMOKE_CERT_IDENTITY overrides), issuer
# https://token.actions.githubusercontent.com (SMOKE_CERT_ISSUER) and commit $GITHUB_SHA
# (SMOKE_COMMIT). When SHIPRAIL_REGISTRY_USERNAME and SHIPRAIL_REGISTRY_PASSWORD are set
# (the credentials `shiprail publish` used), cosign logs in with them into a private,
# temporary Docker configuration. cosign: COSIGN, else .tools/bin/cosign, else PATH.
#
# Exit codes: 0 passed, 1 a check failed, 2 usage.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'smoke: %s\n' "$*" >&2; }
die() { local code=$1; shift; say "error: $*"; exit "$code"; }
usage() { die 2 "usage: $0 url BASE_URL [COMMIT] | $0 image REFERENCE"; }

timeout=${SMOKE_TIMEOUT:-600}
interval=${SMOKE_INTERVAL:-10}
[[ $timeout =~ ^[0-9]+$ && $interval =~ ^[1-9][0-9]*$ ]] ||
  die 2 "SMOKE_TIMEOUT and SMOKE_INTERVAL are whole seconds"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

# get URL: the status code on stdout, the body in $workdir/body ("000" when unreachable).
get() {
  local args=(--silent --show-error --max-time 10 --output "$workdir/body" --write-out '%{http_code}')
  [ -z "${SMOKE_CACERT:-}" ] || args+=(--cacert "$SMOKE_CACERT")
  : >"$workdir/body"
  curl "${args[@]}" "$1" 2>"$workdir/error" || true
}

# check PATH STATUS [TEXT]: one request, its status and (when given) a text in its body.
check() {
  local path=$1 want=$2 text=${3:-} status
  status=$(get "$base$path")
  if [ "$status" != "$want" ]; then
    die 1 "GET $path: HTTP $status, expected $want: $(cat "$workdir/error" "$workdir/body" | head -c 300)"
  fi
  if [ -n "$text" ] && ! grep -qF -- "$text" "$workdir/body"; then
    die 1 "GET $path: the body does not contain $text"
  fi
  say "GET $path: $status"
}

# serving: true when the service answers /version with the commit (or /health, no commit).
serving() {
  if [ -z "$commit" ]; then
    [ "$(get "$base/health")" = 200 ]
    return
  fi
  local body
  [ "$(get "$base/version")" = 200 ] || return 1
  body=$(cat "$workdir/body")
  [[ $body =~ \"git_sha\"[[:space:]]*:[[:space:]]*\"([0-9a-f]+)\" ]] || return 1
  seen=${BASH_REMATCH[1]}
  [ "${seen:0:12}" = "${commit:0:12}" ]
}

smoke_url() {
  base=${1%/}
  commit=${2:-}
  seen=""
  [[ $base =~ ^https?://[^/]+ ]] || die 2 "BASE_URL must be http(s)://HOST[...] (got '$base')"
  [ -z "$commit" ] || [[ $commit =~ ^[0-9a-f]{12,40}$ ]] || die 2 "COMMIT must be a hex git sha"
  local deadline=$((SECONDS + timeout)) waiting=${commit:+"commit ${commit:0:12}"}
  say "waiting for $base to serve ${waiting:-its health endpoint} (at most ${timeout}s)"
  until serving; do
    [ "$SECONDS" -lt "$deadline" ] ||
      die 1 "$base did not serve ${waiting:-/health} within ${timeout}s${seen:+ (it serves $seen)}"
    sleep "$interval"
  done
  check /health 200 '"status"'
  check /ready 200
  check /api/v1/workorders 200
  say "$base passed${commit:+ (commit ${commit:0:12})}"
}

smoke_image() {
  local reference=$1
  [[ $reference =~ @sha256:[0-9a-f]{64}$ ]] || die 2 "'$reference' is not a reference by digest"
  local cosign=${COSIGN:-$root/.tools/bin/cosign}
  [ -x "$cosign" ] || cosign=$(command -v cosign) || die 2 "cosign not found (make tools)"
  local workflow_ref=${GITHUB_WORKFLOW_REF:-}
  local identity=${SMOKE_CERT_IDENTITY:-${workflow_ref:+https://github.com/$workflow_ref}}
  local issuer=${SMOKE_CERT_ISSUER:-https://token.actions.githubusercontent.com}
  local sha=${SMOKE_COMMIT:-${GITHUB_SHA:-}}
  [ -n "$identity" ] || die 2 "no identity: set SMOKE_CERT_IDENTITY (or run in GitHub Actions)"
  [ -n "$sha" ] || die 2 "no commit: set SMOKE_COMMIT (or run in GitHub Actions)"
  export DOCKER_CONFIG="$workdir/docker"
  mkdir -m 700 "$DOCKER_CONFIG"
  if [ -n "${SHIPRAIL_REGISTRY_USERNAME:-}" ] && [ -n "${SHIPRAIL_REGISTRY_PASSWORD:-}" ]; then
    printf '%s' "$SHIPRAIL_REGISTRY_PASSWORD" |
      "$cosign" login "${reference%%/*}" -u "$SHIPRAIL_REGISTRY_USERNAME" --password-stdin \
        >/dev/null || die 1 "cosign login ${reference%%/*} failed"
  fi
  local identity_args=(
    --certificate-identity "$identity"
    --certificate-oidc-issuer "$issuer"
    --certificate-github-workflow-sha "$sha"
  )
  "$cosign" verify "${identity_args[@]}" "$reference" >/dev/null ||
    die 1 "cosign verify $reference failed"
  say "signature of $reference: verified ($identity)"
  local type
  for type in slsaprovenance1 cyclonedx vuln; do
    "$cosign" verify-attestation --type "$type" "${identity_args[@]}" "$reference" >/dev/null ||
      die 1 "cosign verify-attestation --type $type $reference failed"
    say "$type attestation of $reference: verified"
  done
}

mode=${1:-}
case "$mode:$#" in
  url:2 | url:3) shift; smoke_url "$@" ;;
  image:2) smoke_image "$2" ;;
  *) usage ;;
esac
