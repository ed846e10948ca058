# One environment on AWS: VPC, EKS, ECR and the GitHub Actions role, in the account named by
# allowed_account_ids. Apply per environment:
#   terraform init -backend-config=backend/dev.hcl
#   terraform apply -var-file=dev.tfvars

# Names and the one tag set, shared with the Azure side.
module "naming" {
  source = "../modules/naming"

  project     = var.project
  environment = var.environment
  cloud       = "aws"
  region      = var.region
  owner       = var.owner
  cost_center = var.cost_center
  extra_tags  = merge(var.extra_tags, { repository = var.github_repository })
}

locals {
  names = module.naming.names
  # The one tag set: provider default_tags and every module's tags.
  tags = module.naming.tags
}

module "vpc" {
  source = "../modules/aws/vpc"

  name               = local.names.vpc
  cidr               = var.vpc_cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
  cluster_name       = local.names.kubernetes_cluster
  tags               = local.tags
}

module "eks" {
  source = "../modules/aws/eks"

  name                   = local.names.kubernetes_cluster
  kubernetes_version     = var.kubernetes_version
  subnet_ids             = module.vpc.private_subnet_ids
  endpoint_public_access = var.endpoint_public_access
  public_access_cidrs    = var.public_access_cidrs
  api_ingress_cidrs      = var.api_ingress_cidrs
  cluster_admin_arns     = var.cluster_admin_arns
  node_groups            = var.node_groups
  tags                   = local.tags
}

module "ecr" {
  source = "../modules/aws/ecr"

  name                = module.naming.prefix
  repositories        = var.ecr_repositories
  pull_principal_arns = [module.eks.node_role_arn]
  tags                = local.tags
}

module "github_oidc" {
  source = "../modules/aws/github-oidc"

  role_name            = local.names.github_role
  create_oidc_provider = var.create_github_oidc_provider
  oidc_provider_arn    = var.github_oidc_provider_arn
  github_repository    = var.github_repository
  github_branch        = var.github_branch
  github_environment   = var.github_environment
  ecr_repository_arns  = values(module.ecr.repository_arns)
  eks_cluster_arns     = [module.eks.cluster_arn]
  tags                 = local.tags
}
