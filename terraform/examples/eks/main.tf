# A dev cluster on EKS: `terraform init && terraform apply` with AWS credentials, then register
# the cluster in Argo CD with the labels from the argocd_cluster_labels output (docs/kubernetes.md).
terraform {
  required_version = ">= 1.6"
}

provider "aws" {
  region = "eu-west-1"
}

variable "private_subnet_ids" {
  description = "Private subnets of the existing VPC, in at least two zones."
  type        = list(string)
}

module "eks" {
  source      = "../../modules/eks"
  name        = "shiprail-dev"
  environment = "dev"
  subnet_ids  = var.private_subnet_ids
  tags        = { team = "platform" }
}

output "ecr_repository_url" {
  description = "Put this in helm/values-dev.yaml as image.repository."
  value       = module.eks.ecr_repository_url
}

output "argocd_cluster_labels" {
  description = "Labels for the Argo CD cluster secret."
  value       = module.eks.argocd_cluster_labels
}
