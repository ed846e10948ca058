output "cloud" {
  description = "Cloud the cluster runs in."
  value       = var.cloud
}

output "cluster_id" {
  description = "Cluster ARN (AWS) or resource id (Azure): the scope CI is given access on."
  value       = var.cloud == "aws" ? module.aws[0].cluster_arn : module.azure[0].cluster_id
}

output "cluster_name" {
  description = "Cluster name (aws eks update-kubeconfig / az aks get-credentials)."
  value       = var.cloud == "aws" ? module.aws[0].cluster_name : module.azure[0].cluster_name
}

output "kubernetes_version" {
  description = "Kubernetes version the control plane runs."
  value       = var.cloud == "aws" ? module.aws[0].cluster_version : module.azure[0].kubernetes_version
}

output "endpoint" {
  description = "API server URL, for registering the cluster in Argo CD."
  value       = var.cloud == "aws" ? module.aws[0].cluster_endpoint : "https://${module.azure[0].endpoint_fqdn}"
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster's service-account tokens (IRSA on AWS, workload identity on Azure)."
  value       = var.cloud == "aws" ? "https://${trimprefix(module.aws[0].oidc_issuer, "https://")}" : module.azure[0].oidc_issuer_url
}

output "node_identity" {
  description = "Identity the nodes pull images with: the node IAM role ARN (AWS) or the kubelet identity's object id (Azure). The registry module's pull_principals takes it."
  value       = var.cloud == "aws" ? module.aws[0].node_role_arn : module.azure[0].kubelet_identity_object_id
}

output "argocd_cluster_labels" {
  description = "Labels for the Argo CD cluster secret: the ApplicationSet selects clusters by environment and cloud."
  value = {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/cloud"       = var.cloud == "aws" ? "eks" : "aks"
  }
}
