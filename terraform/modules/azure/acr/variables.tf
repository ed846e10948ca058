variable "name" {
  description = "Globally unique registry name, 5-50 letters or digits (the naming module's names.container_registry)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{5,50}$", var.name))
    error_message = "name must be 5-50 lowercase letters or digits (the ACR pattern allowed by the deploy policy)."
  }
}

variable "location" {
  description = "Azure location."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group for the registry."
  type        = string
}

variable "zone_redundancy_enabled" {
  description = "Spread the registry over the region's availability zones (the region must support them; cannot change after creation)."
  type        = bool
  default     = true
}

variable "retention_days" {
  description = "Days an untagged manifest is kept before it is deleted (0-365)."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 0 && var.retention_days <= 365
    error_message = "retention_days must be between 0 and 365."
  }
}

variable "quarantine_policy_enabled" {
  description = "Hold pushed images in quarantine until a scanner marks them verified. Only with a scanner integration that releases them, or every pull fails."
  type        = bool
  default     = false
}

variable "georeplications" {
  description = "Further regions the registry replicates to (one per region a cluster pulls from); every replica is zone-redundant."
  type = list(object({
    location                  = string
    regional_endpoint_enabled = optional(bool, true)
  }))
  default = []
}

variable "public_network_access_enabled" {
  description = "Reachable from public networks, limited to allowed_ip_ranges. False: only through the private endpoint."
  type        = bool
  default     = false
}

variable "allowed_ip_ranges" {
  description = "Public CIDRs allowed in when public_network_access_enabled is true (e.g. the CI runners' egress)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_ip_ranges : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "allowed_ip_ranges must be CIDRs other than 0.0.0.0/0."
  }
}

variable "private_endpoint_enabled" {
  description = "Create a private endpoint for the registry (and its data endpoints) in private_endpoint_subnet_id."
  type        = bool
  default     = true

  validation {
    condition     = var.private_endpoint_enabled || var.public_network_access_enabled
    error_message = "with neither a private endpoint nor public network access nobody could reach the registry."
  }
}

variable "private_endpoint_subnet_id" {
  description = "Subnet of the private endpoint; required when private_endpoint_enabled."
  type        = string
  default     = null

  validation {
    condition     = !var.private_endpoint_enabled || var.private_endpoint_subnet_id != null
    error_message = "private_endpoint_subnet_id is required when private_endpoint_enabled is true."
  }
}

variable "private_endpoint_name" {
  description = "Name of the private endpoint; null for pe-<registry name>."
  type        = string
  default     = null
}

variable "private_dns_zone_ids" {
  description = "Existing privatelink.azurecr.io zones for the endpoint's records; empty to create one linked to virtual_network_id."
  type        = list(string)
  default     = []
}

variable "virtual_network_id" {
  description = "VNet linked to the privatelink.azurecr.io zone the module creates (when private_dns_zone_ids is empty)."
  type        = string
  default     = null

  validation {
    condition     = !var.private_endpoint_enabled || length(var.private_dns_zone_ids) > 0 || var.virtual_network_id != null
    error_message = "a private endpoint needs private_dns_zone_ids or a virtual_network_id to link the zone the module creates."
  }
}

variable "pull_principal_ids" {
  description = "Principals given AcrPull, keyed by a static name (e.g. aks_kubelet = the AKS kubelet identity's object id)."
  type        = map(string)
  default     = {}
}

variable "encryption" {
  description = "Customer-managed key: a Key Vault key and the user-assigned identity (id and client id) allowed to use it; null for Microsoft-managed keys. Only at creation."
  type = object({
    key_vault_key_id   = string
    identity_id        = string
    identity_client_id = string
  })
  default = null
}

variable "diagnostics_enabled" {
  description = "Send login and repository events to log_analytics_workspace_id."
  type        = bool
  default     = true
}

variable "log_analytics_workspace_id" {
  description = "Workspace for the registry's audit events (required when diagnostics_enabled)."
  type        = string
  default     = null

  validation {
    condition     = !var.diagnostics_enabled || var.log_analytics_workspace_id != null
    error_message = "log_analytics_workspace_id is required when diagnostics_enabled is true."
  }
}

variable "tags" {
  description = "Tags for every resource (the naming module's tags output)."
  type        = map(string)
  default     = {}
}
