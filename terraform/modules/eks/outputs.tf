output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint, for registering the cluster in Argo CD."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA bundle of the API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "ecr_repository_url" {
  description = "Repository the chart's image.repository points at."
  value       = aws_ecr_repository.workorders.repository_url
}

output "argocd_cluster_labels" {
  description = "Labels to put on the Argo CD cluster secret so the ApplicationSet selects this cluster."
  value = {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/cloud"       = "eks"
  }
}
