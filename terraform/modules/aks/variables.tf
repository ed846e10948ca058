variable "name" {
  description = "Cluster name; also the prefix of every resource this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,38}$", var.name))
    error_message = "name must be 3-39 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment the cluster serves (dev, stage or prod); Argo CD selects clusters by it."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group for the cluster, its registry and its logs."
  type        = string
}

variable "kubernetes_version" {
  description = "AKS Kubernetes version (minor; patches follow the upgrade channel)."
  type        = string
  default     = "1.31"
}

variable "subnet_id" {
  description = "Subnet for the nodes (Azure CNI overlay)."
  type        = string
}

variable "admin_group_object_ids" {
  description = "Entra ID groups that administer the cluster (local accounts are disabled)."
  type        = list(string)
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set (customer-managed key in Key Vault) for node and persistent disks."
  type        = string
}

variable "registry_name" {
  description = "Globally unique name of the Azure Container Registry (5-50 alphanumerics)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{5,50}$", var.registry_name))
    error_message = "registry_name must be 5-50 lowercase letters or digits (the ACR pattern in shiprail.yaml)."
  }
}

variable "system_vm_size" {
  description = "VM size of the system node pool."
  type        = string
  default     = "Standard_D4ds_v5"
}

variable "user_vm_size" {
  description = "VM size of the workload node pool."
  type        = string
  default     = "Standard_D4ds_v5"
}

variable "user_min_count" {
  description = "Minimum nodes in the workload pool."
  type        = number
  default     = 2
}

variable "user_max_count" {
  description = "Maximum nodes in the workload pool."
  type        = number
  default     = 6
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
