# One registry interface for both clouds: ECR or ACR with the same outputs, pulls granted to
# identities (never passwords).

module "aws" {
  source = "../aws/ecr"
  count  = var.cloud == "aws" ? 1 : 0

  name                = var.name
  repositories        = var.repositories
  pull_principal_arns = values(var.pull_principals)
  tags                = var.tags
}

module "azure" {
  source = "../azure/acr"
  count  = var.cloud == "azure" ? 1 : 0

  name                          = var.name
  location                      = var.azure.location
  resource_group_name           = var.azure.resource_group_name
  private_endpoint_enabled      = var.azure.private_endpoint_subnet_id != null
  private_endpoint_subnet_id    = var.azure.private_endpoint_subnet_id
  virtual_network_id            = var.azure.virtual_network_id
  public_network_access_enabled = var.azure.public_network_access_enabled
  allowed_ip_ranges             = var.azure.allowed_ip_ranges
  diagnostics_enabled           = var.azure.log_analytics_workspace_id != null
  log_analytics_workspace_id    = var.azure.log_analytics_workspace_id
  pull_principal_ids            = var.pull_principals
  tags                          = var.tags
}
