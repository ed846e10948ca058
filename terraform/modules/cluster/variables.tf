variable "cloud" {
  description = "Cloud to build the cluster in: aws (EKS through ../aws/eks) or azure (AKS through ../azure/aks)."
  type        = string

  validation {
    condition     = contains(["aws", "azure"], var.cloud)
    error_message = "cloud must be aws or azure."
  }
}

variable "name" {
  description = "Cluster name (the naming module's names.kubernetes_cluster)."
  type        = string
}

variable "environment" {
  description = "Environment the cluster serves (dev, stage or prod); Argo CD selects clusters by it."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version (EKS and AKS support different ones at a time)."
  type        = string
}

variable "node_subnet_ids" {
  description = "Subnets of the nodes: the network module's node_subnet_ids (AWS: private subnets in two or more zones; Azure: the one aks subnet)."
  type        = list(string)

  validation {
    condition     = length(var.node_subnet_ids) > 0
    error_message = "node_subnet_ids must not be empty."
  }
}

variable "private_api" {
  description = "API server reachable only from inside the network. When false, api_allowed_cidrs limits the public endpoint."
  type        = bool
  default     = true
}

variable "api_allowed_cidrs" {
  description = "Public CIDRs allowed to reach the API server when private_api is false (never 0.0.0.0/0)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.private_api || length(var.api_allowed_cidrs) > 0
    error_message = "a public API server needs api_allowed_cidrs."
  }
}

variable "admins" {
  description = "Who administers the cluster: IAM role ARNs (AWS access entries) or Entra ID group object ids (Azure)."
  type        = list(string)
}

variable "node_pools" {
  description = "Workload node pools by name (1-12 lowercase letters or digits): machine size (EC2 instance type or Azure VM size), autoscaling bounds and labels."
  type = map(object({
    machine_type = string
    min_count    = number
    max_count    = number
    labels       = optional(map(string), {})
  }))

  validation {
    condition     = length(var.node_pools) > 0 && alltrue([for name, pool in var.node_pools : can(regex("^[a-z][a-z0-9]{0,11}$", name)) && pool.min_count <= pool.max_count])
    error_message = "node_pools needs at least one pool named by 1-12 lowercase letters or digits, each with min_count <= max_count."
  }
}

variable "aws" {
  description = "AWS-only settings: networks allowed to the private API endpoint, the nodes' EBS key, log retention."
  type = object({
    api_ingress_cidrs       = optional(list(string), [])
    node_volume_kms_key_arn = optional(string)
    log_retention_days      = optional(number, 365)
  })
  default = {}
}

variable "azure" {
  description = "Azure-only settings (cloud = azure): location, resource group, DNS prefix, disk encryption set, optional node resource group and Log Analytics workspace."
  type = object({
    location                   = string
    resource_group_name        = string
    dns_prefix                 = string
    disk_encryption_set_id     = string
    node_resource_group_name   = optional(string)
    log_analytics_workspace_id = optional(string)
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
