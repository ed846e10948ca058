variable "cloud" {
  description = "Cloud of the registry: aws (ECR through ../aws/ecr) or azure (ACR through ../azure/acr)."
  type        = string

  validation {
    condition     = contains(["aws", "azure"], var.cloud)
    error_message = "cloud must be aws or azure."
  }
}

variable "name" {
  description = "AWS: prefix of the registry's KMS key alias (3-39 lowercase letters, digits, dashes). Azure: the globally unique registry name (the naming module's names.container_registry)."
  type        = string
}

variable "repositories" {
  description = "Repositories the platform pushes to. ECR creates each one; ACR creates repositories on first push, so on Azure they only shape repository_urls."
  type        = set(string)
  default     = ["workorders"]
}

variable "pull_principals" {
  description = "Who may pull, keyed by a static name: IAM role ARNs (AWS, e.g. the EKS node role) or Entra object ids (Azure, e.g. the kubelet identity). The cluster module's node_identity fits."
  type        = map(string)
  default     = {}
}

variable "azure" {
  description = "Azure-only settings (cloud = azure): location, resource group, private endpoint subnet and VNet, Log Analytics workspace for the audit events."
  type = object({
    location                      = string
    resource_group_name           = string
    private_endpoint_subnet_id    = optional(string)
    virtual_network_id            = optional(string)
    public_network_access_enabled = optional(bool, false)
    allowed_ip_ranges             = optional(list(string), [])
    log_analytics_workspace_id    = optional(string)
  })
  default = null

  validation {
    condition     = var.cloud != "azure" || var.azure != null
    error_message = "cloud azure needs the azure settings."
  }
}

variable "tags" {
  description = "Tags for every resource (the naming module's tags output)."
  type        = map(string)
  default     = {}
}
