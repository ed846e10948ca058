variable "project" {
  description = "Project name, the stem of the names (the naming module's project)."
  type        = string
  default     = "shiprail"
}

variable "location" {
  description = "Azure location of the state store."
  type        = string
  default     = "westeurope"
}

variable "unique_suffix" {
  description = "Suffix that makes the storage account name globally unique (up to 6 lowercase letters or digits). The backend files under terraform/azure/backend name the resulting account."
  type        = string
}

variable "owner" {
  description = "Owner tag."
  type        = string
  default     = "platform"
}

variable "cost_center" {
  description = "Cost-center tag."
  type        = string
  default     = "platform"
}

variable "extra_tags" {
  description = "Tags added to the standard ones."
  type        = map(string)
  default     = {}
}

variable "environments" {
  description = "Environments with a state container of their own (tfstate-<environment>), so access can be granted per environment."
  type        = list(string)
  default     = ["dev", "stage", "prod"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for environment in var.environments : contains(["dev", "stage", "prod"], environment)])
    error_message = "environments must be some of dev, stage and prod."
  }
}

variable "replication_type" {
  description = "Replication of the account: GZRS (zone- and geo-redundant) or RAGZRS by default; GRS/RAGRS where the region has no zones."
  type        = string
  default     = "GZRS"

  validation {
    condition     = contains(["GRS", "RAGRS", "GZRS", "RAGZRS"], var.replication_type)
    error_message = "replication_type must be GRS, RAGRS, GZRS or RAGZRS: the state store is kept in a second region."
  }
}

variable "soft_delete_days" {
  description = "Days deleted blobs and containers can be restored (7-365)."
  type        = number
  default     = 30

  validation {
    condition     = var.soft_delete_days >= 7 && var.soft_delete_days <= 365
    error_message = "soft_delete_days must be between 7 and 365."
  }
}

variable "public_network_access_enabled" {
  description = "Let public networks reach the account's data (limited to allowed_ip_ranges). Off by default: state is read and written through the private endpoint. Creating the account and its containers goes through Azure Resource Manager and works either way."
  type        = bool
  default     = false
}

variable "allowed_ip_ranges" {
  description = "Public CIDRs (operators, CI runners' egress) allowed in when public_network_access_enabled is true; everything else is denied."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_ip_ranges : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_ip_ranges must be CIDRs other than 0.0.0.0/0."
  }
}

variable "state_writers" {
  description = "Entra object ids given Storage Blob Data Contributor on one environment's container, by environment (the people or pipelines that run terraform/azure there)."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for environment in keys(var.state_writers) : contains(["dev", "stage", "prod"], environment)])
    error_message = "state_writers is keyed by dev, stage or prod."
  }
}

variable "log_retention_days" {
  description = "Retention of the state store's access logs in Log Analytics (30-730 days)."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "private_endpoint_subnet_id" {
  description = "Subnet (in the VNet the Terraform runners use) for the account's blob private endpoint; null for none."
  type        = string
  default     = null
}

variable "private_dns_zone_ids" {
  description = "privatelink.blob.core.windows.net zones the private endpoint registers in (linked to the runners' VNet)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.private_endpoint_subnet_id == null || length(var.private_dns_zone_ids) > 0
    error_message = "a private endpoint needs the privatelink.blob.core.windows.net zone its address is registered in."
  }
}

variable "customer_managed_key" {
  description = "Customer-managed key for the account: a Key Vault key id and the user-assigned identity allowed to wrap and unwrap with it; null for Microsoft-managed keys (plus infrastructure encryption)."
  type = object({
    key_vault_key_id          = string
    user_assigned_identity_id = string
  })
  default = null
}
