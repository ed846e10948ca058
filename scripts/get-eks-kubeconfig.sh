#!/usr/bin/env bash
# A kubeconfig for an EKS cluster (terraform/modules/aws/eks), in a file of its own: never the
# user's ~/.kube/config. Runs `aws eks update-kubeconfig` with the AWS credentials already in
# place and prints the kubeconfig's path on stdout, for `export KUBECONFIG=$(...)`.
# Default file: $SHIPRAIL_STATE_DIR/kube/eks-<cluster>.yaml (.shiprail/ in the repository
# when unset; the kube/ directory is private and ignored by git), mode 0600.
# Exit codes: 0 done, 1 the aws call failed, 2 wrong arguments, 3 aws missing.
set -euo pipefail

usage="usage: scripts/get-eks-kubeconfig.sh CLUSTER REGION [KUBECONFIG]
  KUBECONFIG  the file to write (default: \$SHIPRAIL_STATE_DIR/kube/eks-CLUSTER.yaml, .shiprail/ when unset)"

# shellcheck source=scripts/lib/cloud.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/cloud.sh"

case ${1:-} in -h | --help) print_usage; exit 0 ;; esac
[ $# -eq 2 ] || [ $# -eq 3 ] || usage_error "expected CLUSTER REGION [KUBECONFIG], got $# argument(s)"
cluster=$1 region=$2
[[ $cluster =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ ]] || usage_error "'$cluster' is not an EKS cluster name"
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "'$region' is not an AWS region (e.g. eu-west-1)"
need_tool aws

kubeconfig=$(kubeconfig_path "${3:-$(default_kube_dir)/eks-$cluster.yaml}")
umask 077
aws eks update-kubeconfig --name "$cluster" --region "$region" --kubeconfig "$kubeconfig" >&2 \
  || die 1 "aws eks update-kubeconfig --name $cluster --region $region failed (see above): check the AWS credentials (aws sts get-caller-identity) and the cluster's access entries"
chmod 600 "$kubeconfig"
say "kubeconfig for EKS cluster $cluster written (mode 0600)"
printf '%s\n' "$kubeconfig"
