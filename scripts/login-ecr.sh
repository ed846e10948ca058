#!/usr/bin/env bash
# Registry credentials for Amazon ECR, for `shiprail publish --registry HOST` and for deploys
# pulling from ECR: a 12-hour token from `aws ecr get-login-password`, handed over as
# SHIPRAIL_REGISTRY_USERNAME=AWS and SHIPRAIL_REGISTRY_PASSWORD=<token> (docs/settings.md).
# The token is never printed: it goes to --env-file FILE (replaced, mode 0600), else to
# $GITHUB_ENV (masked in the log), and to `docker login --password-stdin` with --docker.
# Uses the AWS credentials already in place (OIDC role in GitHub Actions, a profile by hand).
# Exit codes: 0 done, 1 the aws or docker call failed, 2 wrong arguments, 3 aws missing.
set -euo pipefail

usage="usage: scripts/login-ecr.sh [--env-file FILE] [--docker] REGISTRY_HOST [REGION]
  REGISTRY_HOST  <account>.dkr.ecr.<region>.amazonaws.com (REGION defaults to the one in it)"

# shellcheck source=scripts/lib/cloud.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/cloud.sh"

parse_login_options "$@"
case ${#args[@]} in
  1 | 2) ;;
  *) usage_error "expected REGISTRY_HOST [REGION], got ${#args[@]} argument(s)" ;;
esac
host=${args[0]}
case $host in
  */* | *:* | '') usage_error "'$host' is not a registry host: give the host alone, without scheme or path" ;;
esac
if [ ${#args[@]} -eq 2 ]; then
  region=${args[1]}
elif [[ $host =~ ^[0-9]{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$ ]]; then
  region=${BASH_REMATCH[2]}
else
  usage_error "cannot read the region from '$host' (not <account>.dkr.ecr.<region>.amazonaws.com): give REGION"
fi
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "'$region' is not an AWS region (e.g. eu-west-1)"
need_destination
need_tool aws

if ! token=$(aws ecr get-login-password --region "$region"); then
  die 1 "aws ecr get-login-password --region $region failed (see above): check the AWS credentials (aws sts get-caller-identity) and the ecr:GetAuthorizationToken permission"
fi
[ -n "$token" ] || die 1 "aws ecr get-login-password returned an empty token"
hand_over_credentials AWS "$token" "$host"
