#!/usr/bin/env bash
# A kubeconfig for an AKS cluster (terraform/modules/azure/aks), in a file of its own: never the
# user's ~/.kube/config. Runs `az aks get-credentials` with the Azure login already in place,
# then `kubelogin convert-kubeconfig -l azurecli` so kubectl signs in with that same login:
# the module's clusters use Entra ID with local accounts disabled, so there is no admin
# certificate to fall back on. Prints the kubeconfig's path on stdout, for
# `export KUBECONFIG=$(...)`.
# Default file: $SHIPRAIL_STATE_DIR/kube/aks-<cluster>.yaml (.shiprail/ in the repository
# when unset; the kube/ directory is private and ignored by git), mode 0600.
# Exit codes: 0 done, 1 the az or kubelogin call failed, 2 wrong arguments, 3 az missing.
set -euo pipefail

usage="usage: scripts/get-aks-kubeconfig.sh RESOURCE_GROUP CLUSTER [KUBECONFIG]
  KUBECONFIG  the file to write (default: \$SHIPRAIL_STATE_DIR/kube/aks-CLUSTER.yaml, .shiprail/ when unset)"

# shellcheck source=scripts/lib/cloud.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/cloud.sh"

case ${1:-} in -h | --help) print_usage; exit 0 ;; esac
[ $# -eq 2 ] || [ $# -eq 3 ] || usage_error "expected RESOURCE_GROUP CLUSTER [KUBECONFIG], got $# argument(s)"
group=$1 cluster=$2
[[ $group =~ ^[A-Za-z0-9_.()-]{1,90}$ ]] || usage_error "'$group' is not a resource group name"
[[ $cluster =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$ ]] || usage_error "'$cluster' is not an AKS cluster name"
need_tool az

kubeconfig=$(kubeconfig_path "${3:-$(default_kube_dir)/aks-$cluster.yaml}")
umask 077
az aks get-credentials --resource-group "$group" --name "$cluster" --file "$kubeconfig" \
  --overwrite-existing >&2 \
  || die 1 "az aks get-credentials --resource-group $group --name $cluster failed (see above): check the Azure login (az account show) and your role on the cluster"
chmod 600 "$kubeconfig"
if command -v kubelogin >/dev/null 2>&1; then
  kubelogin convert-kubeconfig -l azurecli --kubeconfig "$kubeconfig" >&2 \
    || die 1 "kubelogin convert-kubeconfig failed (see above)"
  chmod 600 "$kubeconfig"
  say "kubeconfig for AKS cluster $cluster written (mode 0600), signing in with the Azure CLI's login"
else
  say "warning: kubelogin is not installed: a cluster with Entra ID and local accounts disabled (terraform/modules/azure/aks) needs it for kubectl to sign in; install it ($(cloud_install_hint kubelogin)) and run this again"
  say "kubeconfig for AKS cluster $cluster written (mode 0600), not converted"
fi
printf '%s\n' "$kubeconfig"
