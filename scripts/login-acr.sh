#!/usr/bin/env bash
# Registry credentials for Azure Container Registry, for `shiprail publish --registry HOST`
# and for deploys pulling from ACR: a short-lived token from `az acr login --expose-token`,
# handed over as SHIPRAIL_REGISTRY_USERNAME=00000000-0000-0000-0000-000000000000 and
# SHIPRAIL_REGISTRY_PASSWORD=<token> (docs/settings.md).
# The token is never printed: it goes to --env-file FILE (replaced, mode 0600), else to
# $GITHUB_ENV (masked in the log), and to `docker login --password-stdin` with --docker.
# Uses the Azure login already in place (OIDC with azure/login in GitHub Actions, az login).
# Exit codes: 0 done, 1 the az or docker call failed, 2 wrong arguments, 3 az missing.
set -euo pipefail

usage="usage: scripts/login-acr.sh [--env-file FILE] [--docker] REGISTRY_NAME
  REGISTRY_NAME  the registry's name (myteam), or its login server (myteam.azurecr.io)"

# shellcheck source=scripts/lib/cloud.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/cloud.sh"

parse_login_options "$@"
[ ${#args[@]} -eq 1 ] || usage_error "expected REGISTRY_NAME, got ${#args[@]} argument(s)"
given=${args[0]}
case $given in
  */* | *:*) usage_error "'$given' is not a registry name: give myteam or myteam.azurecr.io" ;;
  *.*) name=${given%%.*} host=$given ;;
  *) name=$given host="$(printf '%s' "$given" | tr '[:upper:]' '[:lower:]').azurecr.io" ;;
esac
[[ $name =~ ^[A-Za-z0-9]{5,50}$ ]] || usage_error "'$name' is not a registry name (5-50 letters and digits)"
need_destination
need_tool az

if ! token=$(az acr login --name "$name" --expose-token --output tsv --query accessToken \
  --only-show-errors); then
  die 1 "az acr login --name $name failed (see above): check the Azure login (az account show) and the AcrPush or AcrPull role on the registry"
fi
[ -n "$token" ] || die 1 "az acr login --expose-token returned an empty token"
hand_over_credentials 00000000-0000-0000-0000-000000000000 "$token" "$host"
