#!/usr/bin/env bash
# `make k8s-demo` (root): the same release on both shapes, by one engine.
#
#   (make demo: the supply chain and dev on the Docker host) → the local Kubernetes cluster
#   up → the dev-k8s namespace and its secrets → shiprail deploy dev-k8s → shiprail status
#
# dev-k8s (shiprail.yaml) is a Helm release on the cluster of `shiprail k8s cluster up`, with
# helm/values-dev.yaml and helm/values-local.yaml: the image is verified like dev's, pulled by
# digest from the local registry and loaded into the cluster. The namespace and its secrets
# are made here the way a platform team makes them out of band on EKS or AKS (Terraform,
# External Secrets); they carry Helm's ownership marks so the chart adopts the namespace and
# labels it for Pod Security itself. The service's database is a SQLite file per pod (the
# demo has no database the pods can reach); the cluster stays up afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
shiprail=${SHIPRAIL_BIN:-$root/.venv/bin/shiprail}
environment=dev-k8s
namespace=workorders-dev
release=workorders-$environment
kubeconfig=.shiprail/k8s/kubeconfig

"$shiprail" k8s cluster up
kubectl() { command kubectl --kubeconfig="$kubeconfig" "$@"; }

kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $namespace
  labels: {app.kubernetes.io/managed-by: Helm}
  annotations: {meta.helm.sh/release-name: $release, meta.helm.sh/release-namespace: shiprail-releases}
EOF
kubectl -n "$namespace" create secret generic workorders-database \
  --from-literal=url=sqlite:////tmp/workorders.db --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$namespace" create secret generic workorders-api-tokens \
  --from-file=hashes=.shiprail/demo/api-token.sha256 --dry-run=client -o yaml | kubectl apply -f - >/dev/null

"$shiprail" deploy "$environment"
"$shiprail" status "$environment"
kubectl -n "$namespace" get pods -L shiprail.dev/release
echo "the cluster stays up: export KUBECONFIG=$kubeconfig; 'shiprail k8s cluster down' stops it" >&2
