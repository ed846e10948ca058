output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the cluster (the CI role may describe it)."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "API server endpoint, for registering the cluster in Argo CD."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA bundle of the API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_version" {
  description = "Kubernetes version the control plane runs."
  value       = aws_eks_cluster.this.version
}

output "cluster_security_group_id" {
  description = "Security group EKS made for the control plane and the managed nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "kms_key_arn" {
  description = "Customer-managed key that encrypts Secrets and the control-plane logs."
  value       = aws_kms_key.this.arn
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster, for more service-account roles."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  description = "OIDC issuer host and path (the prefix of the :sub and :aud condition keys)."
  value       = local.oidc_issuer
}

output "node_role_arn" {
  description = "IAM role of the nodes (ECR repository policies grant it pull)."
  value       = aws_iam_role.node.arn
}

output "node_group_names" {
  description = "Managed node group names by short name."
  value       = { for k, g in aws_eks_node_group.this : k => g.node_group_name }
}

output "service_account_role_arns" {
  description = "IAM roles of the vpc-cni, ebs-csi and cluster-autoscaler service accounts."
  value       = { for k, r in aws_iam_role.service_account : k => r.arn }
}

output "cluster_autoscaler_role_arn" {
  description = "IAM role of the cluster autoscaler's service account (kube-system/cluster-autoscaler)."
  value       = aws_iam_role.service_account["cluster-autoscaler"].arn
}

output "cluster_autoscaler_helm_values" {
  description = "Values for the cluster-autoscaler Helm chart, as a map."
  value       = local.cluster_autoscaler_values
}

output "cluster_autoscaler_helm_values_yaml" {
  description = "The same values as YAML, e.g. terraform output -raw ... > values.yaml."
  value       = yamlencode(local.cluster_autoscaler_values)
}

output "addon_versions" {
  description = "Installed add-ons and their versions."
  value       = merge({ for k, a in aws_eks_addon.before_nodes : k => a.addon_version }, { for k, a in aws_eks_addon.after_nodes : k => a.addon_version })
}
