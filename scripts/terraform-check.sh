#!/usr/bin/env bash
# Offline checks of every Terraform directory under terraform/ (make terraform-check, part of
# make test):
#
#   1. terraform fmt -check -recursive terraform/
#   2. tflint with the bundled terraform ruleset (.tflint.hcl) in each directory that holds
#      *.tf files, and once more with each of its *.tfvars files
#   3. terraform test in each directory with a tests/ folder; such modules have no provider
#      (their init needs no download), and the .terraform data of init goes to a temporary
#      directory, not into the tree
#
# Provider plugins are not downloaded, so `terraform validate` and `plan` of the modules that
# use providers run only where the registry and the cloud are reachable. Every check runs;
# the script fails at the end if any of them failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tfroot="$root/terraform"
export PATH="$root/.tools/bin:$PATH"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

say() { printf 'terraform-check: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v terraform >/dev/null \
  || die "terraform is not installed: a machine prerequisite (tools.lock kind system; shiprail doctor checks it)"
command -v tflint >/dev/null || die "tflint is not installed (run: scripts/install-tools.sh tflint)"
[ -d "$tfroot" ] || die "no terraform/ directory in $root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
rel() { printf '%s' "${1#"$root"/}"; }

mapfile -t dirs < <(find "$tfroot" -name '*.tf' -not -path '*/.terraform/*' -printf '%h\n' | sort -u)
[ "${#dirs[@]}" -gt 0 ] || die "no *.tf files under terraform/"

say "fmt: terraform fmt -check -recursive terraform/"
if ! terraform fmt -check -recursive -diff -no-color "$tfroot"; then
  say "fmt: FAILED (run: terraform fmt -recursive terraform)"
  failed+=("fmt")
fi

for dir in "${dirs[@]}"; do
  name=$(rel "$dir")
  say "tflint: $name"
  if ! tflint --config "$root/.tflint.hcl" --chdir "$dir" --no-color; then
    failed+=("tflint $name")
  fi
  for vars in "$dir"/*.tfvars; do
    [ -e "$vars" ] || continue
    say "tflint: $name with $(basename "$vars")"
    if ! tflint --config "$root/.tflint.hcl" --chdir "$dir" --var-file "$(basename "$vars")" --no-color; then
      failed+=("tflint $name $(basename "$vars")")
    fi
  done
done

for dir in "${dirs[@]}"; do
  [ -d "$dir/tests" ] || continue
  name=$(rel "$dir")
  # a provider would have to be downloaded for init: such tests cannot run here
  if grep -Eqs '^[[:space:]]*(required_providers|provider[[:space:]]+"|resource[[:space:]]+"|data[[:space:]]+")' "$dir"/*.tf; then
    say "test: $name has tests/ but uses providers; terraform test needs provider-free modules"
    failed+=("test $name")
    continue
  fi
  say "test: terraform test in $name"
  data="$work/$(printf '%s' "$name" | tr '/' '_')"
  if ! TF_DATA_DIR="$data" terraform -chdir="$dir" init -backend=false -no-color >"$work/init.log" 2>&1; then
    cat "$work/init.log" >&2
    failed+=("init $name")
    continue
  fi
  if ! TF_DATA_DIR="$data" terraform -chdir="$dir" test -no-color; then
    failed+=("test $name")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "ok: ${#dirs[@]} directories formatted and linted; terraform test passed where there are tests"
