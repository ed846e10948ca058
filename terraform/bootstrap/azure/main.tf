# The Azure state store: one storage account reachable with Entra ID tokens only (shared keys,
# SAS by account key and local users disabled), blob versioning, soft delete and point-in-time
# restore, TLS 1.2, no public blobs, infrastructure (double) encryption, a delete lock, access
# logs, and one private container per environment.

module "naming" {
  source = "../../modules/naming"

  project       = var.project
  environment   = "shared"
  cloud         = "azure"
  region        = var.location
  unique_suffix = var.unique_suffix
  owner         = var.owner
  cost_center   = var.cost_center
  extra_tags    = merge(var.extra_tags, { purpose = "terraform-state" })
}

locals {
  names = module.naming.names
  tags  = module.naming.tags

  writer_assignments = {
    for pair in flatten([
      for environment, principals in var.state_writers : [
        for principal in principals : { environment = environment, principal = principal }
      ]
    ]) : "${pair.environment}/${pair.principal}" => pair
  }
}

resource "azurerm_resource_group" "state" {
  name     = local.names.state_resource_group
  location = var.location
  tags     = local.tags
}

resource "azurerm_storage_account" "state" {
  # checkov:skip=CKV2_AZURE_1:A customer-managed key is opt-in through var.customer_managed_key: the state store is created before any Key Vault exists, and its data is encrypted twice with platform keys (infrastructure encryption).
  # checkov:skip=CKV_AZURE_33:The account holds only blobs. Classic queue logging is a data-plane call on an unused service; blob reads, writes and deletes are logged by the diagnostic setting below.
  name                     = local.names.state_storage_account
  resource_group_name      = azurerm_resource_group.state.name
  location                 = azurerm_resource_group.state.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.replication_type
  access_tier              = "Hot"

  # Entra ID only
  shared_access_key_enabled       = false
  default_to_oauth_authentication = true
  local_user_enabled              = false
  sftp_enabled                    = false

  # transport and exposure
  public_network_access_enabled    = var.public_network_access_enabled
  https_traffic_only_enabled       = true
  min_tls_version                  = "TLS1_2"
  allow_nested_items_to_be_public  = false
  cross_tenant_replication_enabled = false

  # encryption at rest twice: the service layer and the infrastructure layer
  infrastructure_encryption_enabled = true

  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
    ip_rules       = var.allowed_ip_ranges
  }

  blob_properties {
    versioning_enabled            = true
    change_feed_enabled           = true
    change_feed_retention_in_days = var.soft_delete_days
    last_access_time_enabled      = false

    delete_retention_policy {
      days = var.soft_delete_days
    }

    container_delete_retention_policy {
      days = var.soft_delete_days
    }

    # any state file can be rolled back to a point in time inside the window
    restore_policy {
      days = var.soft_delete_days - 1
    }
  }

  dynamic "identity" {
    for_each = var.customer_managed_key == null ? [] : [var.customer_managed_key]
    content {
      type         = "UserAssigned"
      identity_ids = [identity.value.user_assigned_identity_id]
    }
  }

  dynamic "customer_managed_key" {
    for_each = var.customer_managed_key == null ? [] : [var.customer_managed_key]
    content {
      key_vault_key_id          = customer_managed_key.value.key_vault_key_id
      user_assigned_identity_id = customer_managed_key.value.user_assigned_identity_id
    }
  }

  sas_policy {
    expiration_period = "0.01:00:00"
    expiration_action = "Log"
  }

  tags = local.tags
}

resource "azurerm_storage_container" "state" {
  # checkov:skip=CKV2_AZURE_21:Blob reads are logged by the diagnostic setting on the blob service (StorageRead, StorageWrite, StorageDelete to Log Analytics). The check only knows azurerm_log_analytics_storage_insights, which authenticates with the account key this account disables.
  for_each = toset(var.environments)

  name                  = "tfstate-${each.key}"
  storage_account_id    = azurerm_storage_account.state.id
  container_access_type = "private"
}

resource "azurerm_role_assignment" "state_writer" {
  for_each = local.writer_assignments

  scope                = "${azurerm_storage_account.state.id}/blobServices/default/containers/${azurerm_storage_container.state[each.value.environment].name}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = each.value.principal
}

resource "azurerm_private_endpoint" "state" {
  count = var.private_endpoint_subnet_id == null ? 0 : 1

  name                = "pe-${azurerm_storage_account.state.name}-blob"
  location            = azurerm_resource_group.state.location
  resource_group_name = azurerm_resource_group.state.name
  subnet_id           = var.private_endpoint_subnet_id
  tags                = local.tags

  private_service_connection {
    name                           = "${azurerm_storage_account.state.name}-blob"
    private_connection_resource_id = azurerm_storage_account.state.id
    subresource_names              = ["blob"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "blob"
    private_dns_zone_ids = var.private_dns_zone_ids
  }
}

# Deleting the account would lose every environment's state: make it a two-step decision.
resource "azurerm_management_lock" "state" {
  name       = "terraform-state-cannot-delete"
  scope      = azurerm_storage_account.state.id
  lock_level = "CanNotDelete"
  notes      = "Holds the Terraform state of every environment."
}

# ---------------------------------------------------------------- access logs

resource "azurerm_log_analytics_workspace" "state" {
  name                = "log-${var.project}-tfstate-${module.naming.region_code}"
  location            = azurerm_resource_group.state.location
  resource_group_name = azurerm_resource_group.state.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

# every read, write and delete of a state blob, with the caller's identity
resource "azurerm_monitor_diagnostic_setting" "blob" {
  name                       = "state-blob-access"
  target_resource_id         = "${azurerm_storage_account.state.id}/blobServices/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.state.id

  enabled_log {
    category = "StorageRead"
  }

  enabled_log {
    category = "StorageWrite"
  }

  enabled_log {
    category = "StorageDelete"
  }

  metric {
    category = "Transaction"
  }
}
