output "vpc_id" {
  description = "VPC of the environment."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (nodes, internal load balancers)."
  value       = module.vpc.private_subnet_ids
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "API server endpoint, for registering the cluster in Argo CD."
  value       = module.eks.cluster_endpoint
}

output "cluster_autoscaler_helm_values_yaml" {
  description = "Values for the cluster-autoscaler Helm chart of this cluster."
  value       = module.eks.cluster_autoscaler_helm_values_yaml
}

output "ecr_repository_urls" {
  description = "Repository URLs by name: the chart's image.repository; ECR_REGISTRY, where ci.yml's publish job pushes, is the host part."
  value       = module.ecr.repository_urls
}

output "github_actions_role_arn" {
  description = "The repository variable AWS_ROLE_ARN (role-to-assume) for jobs in this environment."
  value       = module.github_oidc.role_arn
}

output "github_actions_subject" {
  description = "The token subject the CI role accepts (repository, environment, branch)."
  value       = module.github_oidc.subject
}

output "argocd_cluster_labels" {
  description = "Labels to put on the Argo CD cluster secret so the ApplicationSet selects this cluster."
  value       = module.naming.argocd_cluster_labels
}

output "tags" {
  description = "The tag set every resource of the environment carries."
  value       = local.tags
}
