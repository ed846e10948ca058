# One cluster interface for both clouds: EKS or AKS with the same outputs. Node pools are
# described once (machine type, autoscaling bounds, labels) and translated per cloud.

module "aws" {
  source = "../aws/eks"
  count  = var.cloud == "aws" ? 1 : 0

  name                    = var.name
  kubernetes_version      = var.kubernetes_version
  subnet_ids              = var.node_subnet_ids
  endpoint_public_access  = var.private_api ? false : true
  public_access_cidrs     = var.api_allowed_cidrs
  api_ingress_cidrs       = var.aws.api_ingress_cidrs
  cluster_admin_arns      = var.admins
  node_volume_kms_key_arn = var.aws.node_volume_kms_key_arn
  log_retention_days      = var.aws.log_retention_days
  tags                    = var.tags

  node_groups = {
    for name, pool in var.node_pools : name => {
      instance_types = [pool.machine_type]
      min_size       = pool.min_count
      max_size       = pool.max_count
      desired_size   = pool.min_count
      labels         = pool.labels
    }
  }
}

module "azure" {
  source = "../azure/aks"
  count  = var.cloud == "azure" ? 1 : 0

  name                            = var.name
  environment                     = var.environment
  kubernetes_version              = var.kubernetes_version
  location                        = var.azure.location
  resource_group_name             = var.azure.resource_group_name
  dns_prefix                      = var.azure.dns_prefix
  node_resource_group_name        = var.azure.node_resource_group_name
  disk_encryption_set_id          = var.azure.disk_encryption_set_id
  log_analytics_workspace_id      = var.azure.log_analytics_workspace_id
  node_subnet_id                  = var.node_subnet_ids[0]
  private_cluster_enabled         = var.private_api
  api_server_authorized_ip_ranges = var.api_allowed_cidrs
  admin_group_object_ids          = var.admins
  tags                            = var.tags

  user_node_pools = {
    for name, pool in var.node_pools : name => {
      vm_size     = pool.machine_type
      min_count   = pool.min_count
      max_count   = pool.max_count
      node_labels = pool.labels
    }
  }
}
