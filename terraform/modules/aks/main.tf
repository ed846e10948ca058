# AKS for workorders: private API server, Entra ID with Azure RBAC and no local accounts,
# Azure Policy (Gatekeeper) enabled, network policies, host-encrypted ephemeral OS disks,
# Key Vault secrets provider with rotation, and a private Premium ACR the kubelet pulls from.

locals {
  tags = merge(var.tags, {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/managed-by"  = "terraform"
  })
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-logs"
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

resource "azurerm_kubernetes_cluster" "this" {
  name                              = var.name
  location                          = var.location
  resource_group_name               = var.resource_group_name
  dns_prefix                        = var.name
  kubernetes_version                = var.kubernetes_version
  sku_tier                          = "Standard"
  disk_encryption_set_id            = var.disk_encryption_set_id
  automatic_upgrade_channel         = "patch"
  node_os_upgrade_channel           = "NodeImage"
  private_cluster_enabled           = true
  local_account_disabled            = true
  role_based_access_control_enabled = true
  azure_policy_enabled              = true
  oidc_issuer_enabled               = true
  workload_identity_enabled         = true

  default_node_pool {
    name                         = "system"
    vm_size                      = var.system_vm_size
    vnet_subnet_id               = var.subnet_id
    only_critical_addons_enabled = true
    auto_scaling_enabled         = true
    min_count                    = 2
    max_count                    = 3
    max_pods                     = 50
    os_disk_type                 = "Ephemeral"
    host_encryption_enabled      = true
    zones                        = ["1", "2", "3"]

    upgrade_settings {
      max_surge = "33%"
    }
  }

  identity {
    type = "SystemAssigned"
  }

  azure_active_directory_role_based_access_control {
    azure_rbac_enabled     = true
    admin_group_object_ids = var.admin_group_object_ids
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_policy      = "cilium"
    network_data_plane  = "cilium"
    load_balancer_sku   = "standard"
  }

  key_vault_secrets_provider {
    secret_rotation_enabled = true
  }

  oms_agent {
    log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id
  }

  tags = local.tags
}

resource "azurerm_kubernetes_cluster_node_pool" "workload" {
  name                    = "workload"
  kubernetes_cluster_id   = azurerm_kubernetes_cluster.this.id
  vm_size                 = var.user_vm_size
  vnet_subnet_id          = var.subnet_id
  auto_scaling_enabled    = true
  min_count               = var.user_min_count
  max_count               = var.user_max_count
  max_pods                = 50
  os_disk_type            = "Ephemeral"
  host_encryption_enabled = true
  zones                   = ["1", "2", "3"]
  tags                    = local.tags

  upgrade_settings {
    max_surge = "33%"
  }
}

resource "azurerm_container_registry" "this" {
  # checkov:skip=CKV_AZURE_233:Zone redundancy is a regional choice; enable it where the region supports it.
  # checkov:skip=CKV_AZURE_237:Dedicated data endpoints need a private endpoint per region, set up by the network team.
  # checkov:skip=CKV_AZURE_165:Geo-replication follows the clusters; add georeplications when a second region runs workorders.
  # checkov:skip=CKV_AZURE_166:Image quarantine needs a scanner integration (Defender for Containers) outside this module.
  name                          = var.registry_name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = "Premium"
  admin_enabled                 = false
  public_network_access_enabled = false
  anonymous_pull_enabled        = false
  retention_policy_in_days      = 30
  trust_policy_enabled          = true
  tags                          = local.tags
}

resource "azurerm_role_assignment" "kubelet_pull" {
  # The kubelet pulls images with its managed identity: no registry passwords anywhere.
  scope                            = azurerm_container_registry.this.id
  role_definition_name             = "AcrPull"
  principal_id                     = azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id
  skip_service_principal_aad_check = true
}
