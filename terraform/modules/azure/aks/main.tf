# AKS: Entra ID with Azure RBAC and no local accounts, workload identity and OIDC issuer,
# autoscaled system and user pools, private API server by default, Azure Policy (Gatekeeper),
# Container Insights, and every control-plane log (kube-audit included) in Log Analytics.

data "azurerm_client_config" "current" {}

locals {
  create_workspace = var.log_analytics_workspace_id == null
  workspace_id     = local.create_workspace ? azurerm_log_analytics_workspace.this[0].id : var.log_analytics_workspace_id
  tenant_id        = coalesce(var.tenant_id, data.azurerm_client_config.current.tenant_id)

  # the API server allow-list only applies to a public endpoint
  authorized_ip_ranges = var.private_cluster_enabled ? [] : var.api_server_authorized_ip_ranges
}

# ---------------------------------------------------------------- logs

resource "azurerm_log_analytics_workspace" "this" {
  count = local.create_workspace ? 1 : 0

  name                = coalesce(var.log_analytics_workspace_name, "log-${var.name}")
  location            = var.location
  resource_group_name = var.resource_group_name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

# ---------------------------------------------------------------- identity

# The control plane's own identity, created first so it holds Network Contributor on the node
# subnet before the cluster exists (a system-assigned identity would only exist afterwards).
resource "azurerm_user_assigned_identity" "control_plane" {
  name                = "id-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_role_assignment" "network_subnet" {
  scope                = var.node_subnet_id
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.control_plane.principal_id
  principal_type       = "ServicePrincipal"
}

# reading the disk encryption set is how the cluster finds the key of the node and volume disks
resource "azurerm_role_assignment" "disk_encryption_set" {
  scope                = var.disk_encryption_set_id
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.control_plane.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "network_extra" {
  for_each = var.network_role_scope_ids

  scope                = each.value
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.control_plane.principal_id
  principal_type       = "ServicePrincipal"
}

# ---------------------------------------------------------------- cluster

resource "azurerm_kubernetes_cluster" "this" {
  name                      = var.name
  location                  = var.location
  resource_group_name       = var.resource_group_name
  node_resource_group       = var.node_resource_group_name
  dns_prefix                = var.dns_prefix
  kubernetes_version        = var.kubernetes_version
  sku_tier                  = var.sku_tier
  automatic_upgrade_channel = var.automatic_upgrade_channel
  node_os_upgrade_channel   = var.node_os_upgrade_channel
  disk_encryption_set_id    = var.disk_encryption_set_id

  private_cluster_enabled             = var.private_cluster_enabled
  private_dns_zone_id                 = var.private_cluster_enabled ? var.private_dns_zone_id : null
  private_cluster_public_fqdn_enabled = false
  run_command_enabled                 = var.run_command_enabled

  # Entra ID only: no local admin kubeconfig, Kubernetes RBAC decided by Azure RBAC
  local_account_disabled            = true
  role_based_access_control_enabled = true

  azure_active_directory_role_based_access_control {
    azure_rbac_enabled     = true
    tenant_id              = local.tenant_id
    admin_group_object_ids = var.admin_group_object_ids
  }

  # pods get Entra tokens through federated service accounts, not node credentials
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  azure_policy_enabled         = true
  image_cleaner_enabled        = true
  image_cleaner_interval_hours = 48

  default_node_pool {
    name                         = var.system_node_pool.name
    temporary_name_for_rotation  = "${substr(var.system_node_pool.name, 0, 8)}tmp"
    vm_size                      = var.system_node_pool.vm_size
    vnet_subnet_id               = var.node_subnet_id
    only_critical_addons_enabled = true
    auto_scaling_enabled         = true
    min_count                    = var.system_node_pool.min_count
    max_count                    = var.system_node_pool.max_count
    max_pods                     = var.max_pods
    os_disk_type                 = "Ephemeral"
    os_disk_size_gb              = var.system_node_pool.os_disk_size_gb
    host_encryption_enabled      = var.host_encryption_enabled
    node_public_ip_enabled       = false
    zones                        = var.zones
    tags                         = var.tags

    upgrade_settings {
      max_surge = var.system_node_pool.max_surge
    }
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.control_plane.id]
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_policy      = "cilium"
    network_data_plane  = "cilium"
    load_balancer_sku   = "standard"
    outbound_type       = var.network.outbound_type
    pod_cidr            = var.network.pod_cidr
    service_cidr        = var.network.service_cidr
    dns_service_ip      = var.network.dns_service_ip
  }

  dynamic "api_server_access_profile" {
    for_each = length(local.authorized_ip_ranges) > 0 ? [local.authorized_ip_ranges] : []
    content {
      authorized_ip_ranges = api_server_access_profile.value
    }
  }

  key_vault_secrets_provider {
    secret_rotation_enabled  = true
    secret_rotation_interval = "2m"
  }

  # Container Insights: the agent authenticates with its managed identity (no workspace key)
  oms_agent {
    log_analytics_workspace_id      = local.workspace_id
    msi_auth_for_monitoring_enabled = true
  }

  tags = var.tags

  lifecycle {
    # the autoscaler owns the node count
    ignore_changes = [default_node_pool[0].node_count]
  }

  depends_on = [
    azurerm_role_assignment.network_subnet,
    azurerm_role_assignment.network_extra,
    azurerm_role_assignment.disk_encryption_set,
  ]
}

resource "azurerm_kubernetes_cluster_node_pool" "user" {
  for_each = var.user_node_pools

  name                    = each.key
  kubernetes_cluster_id   = azurerm_kubernetes_cluster.this.id
  mode                    = "User"
  orchestrator_version    = var.kubernetes_version
  vm_size                 = each.value.vm_size
  vnet_subnet_id          = coalesce(each.value.subnet_id, var.node_subnet_id)
  auto_scaling_enabled    = true
  min_count               = each.value.min_count
  max_count               = each.value.max_count
  max_pods                = var.max_pods
  os_disk_type            = "Ephemeral"
  os_disk_size_gb         = each.value.os_disk_size_gb
  host_encryption_enabled = var.host_encryption_enabled
  node_public_ip_enabled  = false
  node_labels             = each.value.node_labels
  node_taints             = each.value.node_taints
  zones                   = var.zones
  tags                    = var.tags

  upgrade_settings {
    max_surge = each.value.max_surge
  }

  lifecycle {
    ignore_changes = [node_count]
  }
}

# ---------------------------------------------------------------- monitoring

# Container Insights with managed-identity auth reads its configuration from a data collection
# rule associated with the cluster.
resource "azurerm_monitor_data_collection_rule" "container_insights" {
  name                = "MSCI-${var.location}-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  description         = "Container Insights for ${var.name}"
  tags                = var.tags

  destinations {
    log_analytics {
      name                  = "workspace"
      workspace_resource_id = local.workspace_id
    }
  }

  data_flow {
    streams      = var.container_insights_streams
    destinations = ["workspace"]
  }

  data_sources {
    extension {
      name           = "ContainerInsightsExtension"
      extension_name = "ContainerInsights"
      streams        = var.container_insights_streams
      extension_json = jsonencode({
        dataCollectionSettings = {
          interval               = "1m"
          namespaceFilteringMode = "Off"
          enableContainerLogV2   = true
        }
      })
    }
  }
}

resource "azurerm_monitor_data_collection_rule_association" "container_insights" {
  name                    = "ContainerInsightsExtension"
  target_resource_id      = azurerm_kubernetes_cluster.this.id
  data_collection_rule_id = azurerm_monitor_data_collection_rule.container_insights.id
  description             = "Container Insights data collection for ${var.name}"
}

# Control-plane logs, kube-audit among them, into resource-specific tables (AKSAudit, ...).
resource "azurerm_monitor_diagnostic_setting" "control_plane" {
  name                           = "control-plane-to-log-analytics"
  target_resource_id             = azurerm_kubernetes_cluster.this.id
  log_analytics_workspace_id     = local.workspace_id
  log_analytics_destination_type = "Dedicated"

  dynamic "enabled_log" {
    for_each = toset(var.control_plane_log_categories)
    content {
      category = enabled_log.value
    }
  }

  metric {
    category = "AllMetrics"
  }
}
