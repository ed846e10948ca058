# One Azure environment: resource group, VNet, AKS, ACR and the GitHub Actions identity, all
# named and tagged by the naming module.

data "azurerm_client_config" "current" {}

module "naming" {
  source = "../modules/naming"

  project       = var.project
  environment   = var.environment
  cloud         = "azure"
  region        = var.location
  unique_suffix = var.unique_suffix
  owner         = var.owner
  cost_center   = var.cost_center
  extra_tags    = var.extra_tags
  network_cidr  = var.network_cidr
}

locals {
  names = module.naming.names
  tags  = module.naming.tags
  tiers = module.naming.network.tiers
}

resource "azurerm_resource_group" "this" {
  name     = local.names.resource_group
  location = var.location
  tags     = local.tags
}

module "vnet" {
  source = "../modules/azure/vnet"

  name                               = local.names.virtual_network
  location                           = azurerm_resource_group.this.location
  resource_group_name                = azurerm_resource_group.this.name
  address_space                      = [var.network_cidr]
  subnet_name_prefix                 = local.names.subnet_prefix
  network_security_group_name_prefix = local.names.network_security_group
  route_table_name_prefix            = local.names.route_table
  tags                               = local.tags

  subnets = {
    # nodes (pods take addresses from the overlay, not from here)
    aks = {
      address_prefixes = [local.tiers.private]
      nsg_rules = [{
        name        = "allow-https-in"
        description = "HTTPS to the cluster's load balancers (the shared gateway)."
        priority    = 200
        direction   = "Inbound"
        access      = "Allow"
        protocol    = "Tcp"
        # a service tag only fits the singular field; several CIDRs go in the list
        source_address_prefix      = length(var.https_ingress_sources) == 1 ? var.https_ingress_sources[0] : null
        source_address_prefixes    = length(var.https_ingress_sources) > 1 ? var.https_ingress_sources : null
        destination_address_prefix = local.tiers.private
        destination_port_ranges    = ["443"]
      }]
    }
    # private endpoints (registry) and app-side services
    app = {
      address_prefixes                  = [local.tiers.app]
      private_endpoint_network_policies = "Enabled"
    }
  }
}

module "aks" {
  source = "../modules/azure/aks"

  name                            = local.names.kubernetes_cluster
  dns_prefix                      = local.names.kubernetes_dns_prefix
  environment                     = var.environment
  location                        = azurerm_resource_group.this.location
  resource_group_name             = azurerm_resource_group.this.name
  node_resource_group_name        = local.names.node_resource_group
  kubernetes_version              = var.kubernetes_version
  sku_tier                        = var.sku_tier
  admin_group_object_ids          = var.admin_group_object_ids
  private_cluster_enabled         = var.private_cluster_enabled
  api_server_authorized_ip_ranges = var.api_server_authorized_ip_ranges
  node_subnet_id                  = module.vnet.subnet_ids["aks"]
  network_role_scope_ids          = { route_table = module.vnet.route_table_ids["aks"] }
  disk_encryption_set_id          = var.disk_encryption_set_id
  zones                           = module.naming.availability_zones
  system_node_pool                = var.system_node_pool
  user_node_pools                 = var.user_node_pools
  log_analytics_workspace_name    = local.names.log_analytics_workspace
  log_retention_days              = var.log_retention_days
  tags                            = local.tags
}

module "acr" {
  source = "../modules/azure/acr"

  name                          = local.names.container_registry
  location                      = azurerm_resource_group.this.location
  resource_group_name           = azurerm_resource_group.this.name
  retention_days                = var.acr_retention_days
  public_network_access_enabled = var.acr_public_network_access_enabled
  allowed_ip_ranges             = var.acr_allowed_ip_ranges
  private_endpoint_enabled      = true
  private_endpoint_subnet_id    = module.vnet.subnet_ids["app"]
  private_endpoint_name         = "${local.names.private_endpoint_prefix}-acr"
  virtual_network_id            = module.vnet.id
  pull_principal_ids            = { aks_kubelet = module.aks.kubelet_identity_object_id }
  log_analytics_workspace_id    = module.aks.log_analytics_workspace_id
  tags                          = local.tags
}

module "github_oidc" {
  source = "../modules/azure/github-oidc"

  display_name        = local.names.github_application
  github_repository   = var.github_repository
  github_environments = coalesce(var.github_environments, [var.environment])
  acr_id              = module.acr.id
  aks_cluster_id      = module.aks.cluster_id
}
