variable "project" {
  description = "Project name, the stem of every resource name."
  type        = string
  default     = "shiprail"
}

variable "environment" {
  description = "Environment: dev, stage or prod (the tfvars file and backend file of the same name)."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "location" {
  description = "Azure location."
  type        = string
  default     = "westeurope"
}

variable "unique_suffix" {
  description = "Suffix of the globally unique names (the registry), up to 6 lowercase letters or digits."
  type        = string
  default     = ""
}

variable "owner" {
  description = "Owner tag: the team answerable for the environment."
  type        = string
  default     = "platform"
}

variable "cost_center" {
  description = "Cost-center tag."
  type        = string
  default     = "platform"
}

variable "extra_tags" {
  description = "Tags added to the standard ones on every resource."
  type        = map(string)
  default     = {}
}

variable "network_cidr" {
  description = "Address space of the environment's VNet (/16 to /20); environments do not overlap, so they can be peered."
  type        = string
}

variable "https_ingress_sources" {
  description = "Sources allowed to reach the cluster's load balancers on 443 (service tag Internet for a public service, or CIDRs of a front door/WAF)."
  type        = list(string)
  default     = ["Internet"]

  validation {
    condition     = length(var.https_ingress_sources) == 1 || (length(var.https_ingress_sources) > 1 && alltrue([for source in var.https_ingress_sources : can(cidrhost(source, 0))]))
    error_message = "https_ingress_sources is one service tag or CIDR, or several CIDRs."
  }
}

variable "kubernetes_version" {
  description = "AKS Kubernetes minor version."
  type        = string
  default     = "1.31"
}

variable "sku_tier" {
  description = "AKS control-plane tier (Standard: uptime SLA)."
  type        = string
  default     = "Standard"
}

variable "private_cluster_enabled" {
  description = "API server reachable only inside the VNet."
  type        = bool
  default     = true
}

variable "api_server_authorized_ip_ranges" {
  description = "CIDRs allowed to a public API server (private_cluster_enabled = false)."
  type        = list(string)
  default     = []
}

variable "admin_group_object_ids" {
  description = "Entra ID groups with cluster-admin (set with TF_VAR_admin_group_object_ids; local accounts are disabled)."
  type        = list(string)
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set (customer-managed key) for node and persistent disks, kept by the security team (TF_VAR_disk_encryption_set_id)."
  type        = string
}

variable "system_node_pool" {
  description = "System pool size and autoscaling bounds."
  type = object({
    vm_size   = optional(string, "Standard_D4ds_v5")
    min_count = optional(number, 2)
    max_count = optional(number, 3)
  })
  default = {}
}

variable "user_node_pools" {
  description = "Workload pools by name, with autoscaling bounds."
  type = map(object({
    vm_size     = optional(string, "Standard_D4ds_v5")
    min_count   = optional(number, 2)
    max_count   = optional(number, 6)
    node_labels = optional(map(string), {})
    node_taints = optional(list(string), [])
  }))
  default = {
    apps = {}
  }
}

variable "log_retention_days" {
  description = "Retention of Container Insights and the control-plane logs."
  type        = number
  default     = 365
}

variable "acr_retention_days" {
  description = "Days untagged manifests stay in the registry."
  type        = number
  default     = 30
}

variable "acr_public_network_access_enabled" {
  description = "Open the registry to acr_allowed_ip_ranges (CI runners outside the VNet) besides its private endpoint."
  type        = bool
  default     = false
}

variable "acr_allowed_ip_ranges" {
  description = "Public CIDRs allowed to the registry when acr_public_network_access_enabled is true."
  type        = list(string)
  default     = []
}

variable "github_repository" {
  description = "OWNER/REPO whose GitHub Actions push images and deploy (TF_VAR_github_repository)."
  type        = string
}

variable "github_environments" {
  description = "GitHub environments allowed to sign in; null for the one named like this environment."
  type        = list(string)
  default     = null
}
