# Premium ACR: no admin user, no anonymous pull, private by default, untagged manifests
# expire, signed-image trust policy on, and pulls only by Entra identities given AcrPull.

resource "azurerm_container_registry" "this" {
  # checkov:skip=CKV_AZURE_165:Replicas follow the clusters: var.georeplications adds one per region that runs a cluster; a single-region platform has nothing to replicate to.
  # checkov:skip=CKV_AZURE_166:Quarantine needs a scanner that releases images (Defender for Containers); without one every pushed image stays unpullable. var.quarantine_policy_enabled turns it on where the scanner runs.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = "Premium"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = var.public_network_access_enabled
  network_rule_bypass_option    = "AzureServices"
  data_endpoint_enabled         = true
  zone_redundancy_enabled       = var.zone_redundancy_enabled
  retention_policy_in_days      = var.retention_days
  trust_policy_enabled          = true
  quarantine_policy_enabled     = var.quarantine_policy_enabled
  # images cannot be exported out of a registry closed to public networks
  export_policy_enabled = var.public_network_access_enabled
  tags                  = var.tags

  dynamic "network_rule_set" {
    for_each = var.public_network_access_enabled ? [1] : []
    content {
      default_action = "Deny"

      dynamic "ip_rule" {
        for_each = var.allowed_ip_ranges
        content {
          action   = "Allow"
          ip_range = ip_rule.value
        }
      }
    }
  }

  dynamic "georeplications" {
    for_each = var.georeplications
    content {
      location                  = georeplications.value.location
      zone_redundancy_enabled   = true
      regional_endpoint_enabled = georeplications.value.regional_endpoint_enabled
      tags                      = var.tags
    }
  }

  dynamic "identity" {
    for_each = var.encryption == null ? [] : [var.encryption]
    content {
      type         = "UserAssigned"
      identity_ids = [identity.value.identity_id]
    }
  }

  dynamic "encryption" {
    for_each = var.encryption == null ? [] : [var.encryption]
    content {
      key_vault_key_id   = encryption.value.key_vault_key_id
      identity_client_id = encryption.value.identity_client_id
    }
  }
}

# The kubelet (and any other puller) uses its managed identity: no registry passwords anywhere.
resource "azurerm_role_assignment" "pull" {
  for_each = var.pull_principal_ids

  scope                            = azurerm_container_registry.this.id
  role_definition_name             = "AcrPull"
  principal_id                     = each.value
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}

# ---------------------------------------------------------------- private endpoint

resource "azurerm_private_dns_zone" "this" {
  count = var.private_endpoint_enabled && length(var.private_dns_zone_ids) == 0 ? 1 : 0

  name                = "privatelink.azurecr.io"
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "this" {
  count = length(azurerm_private_dns_zone.this)

  name                  = "${var.name}-link"
  resource_group_name   = var.resource_group_name
  private_dns_zone_name = azurerm_private_dns_zone.this[0].name
  virtual_network_id    = var.virtual_network_id
  registration_enabled  = false
  tags                  = var.tags
}

resource "azurerm_private_endpoint" "this" {
  count = var.private_endpoint_enabled ? 1 : 0

  name                = coalesce(var.private_endpoint_name, "pe-${var.name}")
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.private_endpoint_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "${var.name}-registry"
    private_connection_resource_id = azurerm_container_registry.this.id
    subresource_names              = ["registry"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "registry"
    private_dns_zone_ids = length(var.private_dns_zone_ids) > 0 ? var.private_dns_zone_ids : azurerm_private_dns_zone.this[*].id
  }
}

# ---------------------------------------------------------------- audit

resource "azurerm_monitor_diagnostic_setting" "this" {
  count = var.diagnostics_enabled ? 1 : 0

  name                           = "registry-to-log-analytics"
  target_resource_id             = azurerm_container_registry.this.id
  log_analytics_workspace_id     = var.log_analytics_workspace_id
  log_analytics_destination_type = "Dedicated"

  enabled_log {
    category = "ContainerRegistryLoginEvents"
  }

  enabled_log {
    category = "ContainerRegistryRepositoryEvents"
  }

  metric {
    category = "AllMetrics"
  }
}
