variable "name" {
  description = "Cluster name (1-63 letters, digits, dashes or underscores; the naming module's names.kubernetes_cluster)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$", var.name))
    error_message = "name must be 1-63 letters, digits, dashes or underscores, starting and ending with a letter or digit."
  }
}

variable "dns_prefix" {
  description = "DNS prefix of the API server (1-54 letters, digits or dashes)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$", var.dns_prefix))
    error_message = "dns_prefix must be 1-54 letters, digits or dashes, starting and ending with a letter or digit."
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
  description = "Azure location."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group for the cluster, its identity and its logs."
  type        = string
}

variable "node_resource_group_name" {
  description = "Name of the resource group AKS creates for the nodes; null for the AKS default (MC_...)."
  type        = string
  default     = null
}

variable "kubernetes_version" {
  description = "Kubernetes minor version (patches follow automatic_upgrade_channel)."
  type        = string
  default     = "1.31"

  validation {
    condition     = can(regex("^1\\.[0-9]+(\\.[0-9]+)?$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.31 or 1.31.2."
  }
}

variable "sku_tier" {
  description = "Control-plane tier: Standard (uptime SLA) or Premium (long-term support). Free has no SLA."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Premium"], var.sku_tier)
    error_message = "sku_tier must be Standard or Premium."
  }
}

variable "automatic_upgrade_channel" {
  description = "Cluster auto-upgrade channel: patch, stable, rapid or node-image."
  type        = string
  default     = "patch"

  validation {
    condition     = contains(["patch", "stable", "rapid", "node-image"], var.automatic_upgrade_channel)
    error_message = "automatic_upgrade_channel must be patch, stable, rapid or node-image."
  }
}

variable "node_os_upgrade_channel" {
  description = "Node OS upgrade channel: NodeImage, SecurityPatch, Unmanaged or None."
  type        = string
  default     = "NodeImage"

  validation {
    condition     = contains(["NodeImage", "SecurityPatch", "Unmanaged", "None"], var.node_os_upgrade_channel)
    error_message = "node_os_upgrade_channel must be NodeImage, SecurityPatch, Unmanaged or None."
  }
}

variable "tenant_id" {
  description = "Entra ID tenant of the cluster's users; null for the tenant Terraform runs in."
  type        = string
  default     = null
}

variable "admin_group_object_ids" {
  description = "Entra ID groups with cluster-admin (local accounts are disabled, so at least one is needed)."
  type        = list(string)

  validation {
    condition = length(var.admin_group_object_ids) > 0 && alltrue([
      for id in var.admin_group_object_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))
    ])
    error_message = "admin_group_object_ids must hold at least one Entra ID group object id (a GUID)."
  }
}

variable "private_cluster_enabled" {
  description = "API server reachable only inside the VNet (private endpoint). When false, api_server_authorized_ip_ranges limits who reaches the public endpoint."
  type        = bool
  default     = true
}

variable "private_dns_zone_id" {
  description = "Private DNS zone of a private cluster: System (AKS manages it), None, or the id of an existing zone."
  type        = string
  default     = "System"
}

variable "api_server_authorized_ip_ranges" {
  description = "CIDRs allowed to reach a public API server; required (non-empty) when private_cluster_enabled is false."
  type        = list(string)
  default     = []

  validation {
    condition     = var.private_cluster_enabled || length(var.api_server_authorized_ip_ranges) > 0
    error_message = "a public API server (private_cluster_enabled = false) needs api_server_authorized_ip_ranges: it is never open to the whole internet."
  }

  validation {
    condition     = alltrue([for cidr in var.api_server_authorized_ip_ranges : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "api_server_authorized_ip_ranges must be CIDRs other than 0.0.0.0/0."
  }
}

variable "node_subnet_id" {
  description = "Subnet of the nodes (Azure CNI overlay: pods take addresses from pod_cidr, not from the subnet)."
  type        = string
}

variable "network_role_scope_ids" {
  description = "Further scopes (e.g. the node subnet's route table) on which the cluster identity gets Network Contributor, keyed by a static name."
  type        = map(string)
  default     = {}
}

variable "network" {
  description = "Cluster network: Azure CNI overlay with Cilium. outbound_type loadBalancer, userDefinedRouting (a firewall route in the node subnet's route table), managedNATGateway or userAssignedNATGateway."
  type = object({
    pod_cidr       = optional(string, "192.168.0.0/16")
    service_cidr   = optional(string, "172.16.0.0/16")
    dns_service_ip = optional(string, "172.16.0.10")
    outbound_type  = optional(string, "loadBalancer")
  })
  default = {}

  validation {
    condition     = contains(["loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway"], var.network.outbound_type)
    error_message = "network.outbound_type must be loadBalancer, userDefinedRouting, managedNATGateway or userAssignedNATGateway."
  }

  validation {
    condition     = can(cidrhost(var.network.pod_cidr, 0)) && can(cidrhost(var.network.service_cidr, 0))
    error_message = "network.pod_cidr and network.service_cidr must be CIDRs."
  }
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set (customer-managed key in Key Vault) for the node OS disks and persistent volumes."
  type        = string
  nullable    = false
}

variable "host_encryption_enabled" {
  description = "Encrypt the nodes' temporary disks and caches at the host (the subscription needs the EncryptionAtHost feature)."
  type        = bool
  default     = true
}

variable "zones" {
  description = "Availability zones of the node pools."
  type        = list(string)
  default     = ["1", "2", "3"]
}

variable "max_pods" {
  description = "Pods per node in every pool (50-250 with Azure CNI overlay)."
  type        = number
  default     = 50

  validation {
    condition     = var.max_pods >= 50 && var.max_pods <= 250
    error_message = "max_pods must be between 50 and 250."
  }
}

variable "system_node_pool" {
  description = "System pool: runs only critical add-ons (CriticalAddonsOnly taint); autoscaled between min_count and max_count. OS disks are ephemeral: pick a VM size whose cache or temporary disk holds os_disk_size_gb."
  type = object({
    name            = optional(string, "system")
    vm_size         = optional(string, "Standard_D4ds_v5")
    min_count       = optional(number, 2)
    max_count       = optional(number, 3)
    os_disk_size_gb = optional(number)
    max_surge       = optional(string, "33%")
  })
  default = {}

  validation {
    condition     = var.system_node_pool.min_count >= 1 && var.system_node_pool.min_count <= var.system_node_pool.max_count && var.system_node_pool.max_count <= 1000
    error_message = "system_node_pool needs 1 <= min_count <= max_count <= 1000."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,11}$", var.system_node_pool.name))
    error_message = "system_node_pool.name must be 1-12 lowercase letters or digits, starting with a letter."
  }
}

variable "user_node_pools" {
  description = "User pools for the workloads, by name (1-12 lowercase letters or digits); each autoscaled between min_count and max_count."
  type = map(object({
    vm_size         = optional(string, "Standard_D4ds_v5")
    min_count       = optional(number, 2)
    max_count       = optional(number, 6)
    os_disk_size_gb = optional(number)
    max_surge       = optional(string, "33%")
    node_labels     = optional(map(string), {})
    node_taints     = optional(list(string), [])
    subnet_id       = optional(string)
  }))
  default = {
    apps = {}
  }

  validation {
    condition     = length(var.user_node_pools) > 0 && alltrue([for name in keys(var.user_node_pools) : can(regex("^[a-z][a-z0-9]{0,11}$", name))])
    error_message = "user_node_pools must hold at least one pool, named by 1-12 lowercase letters or digits starting with a letter."
  }

  validation {
    condition     = alltrue([for pool in values(var.user_node_pools) : pool.min_count >= 0 && pool.min_count <= pool.max_count && pool.max_count <= 1000])
    error_message = "each user pool needs 0 <= min_count <= max_count <= 1000."
  }
}

variable "log_analytics_workspace_id" {
  description = "Existing Log Analytics workspace for Container Insights and the control-plane logs; null to create one."
  type        = string
  default     = null
}

variable "log_analytics_workspace_name" {
  description = "Name of the workspace created when log_analytics_workspace_id is null."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the created Log Analytics workspace (30-730 days)."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "control_plane_log_categories" {
  description = "Control-plane log categories sent to Log Analytics by the diagnostic setting; kube-audit is mandatory."
  type        = list(string)
  default = [
    "kube-apiserver",
    "kube-audit",
    "kube-audit-admin",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
  ]

  validation {
    condition     = contains(var.control_plane_log_categories, "kube-audit")
    error_message = "control_plane_log_categories must include kube-audit: the API server's audit trail is not optional."
  }

  validation {
    condition = alltrue([for category in var.control_plane_log_categories : contains([
      "kube-apiserver", "kube-audit", "kube-audit-admin", "kube-controller-manager", "kube-scheduler",
      "cluster-autoscaler", "cloud-controller-manager", "guard", "csi-azuredisk-controller",
      "csi-azurefile-controller", "csi-snapshot-controller", "fleet-member-agent", "fleet-member-net-controller-manager",
      "fleet-mcs-controller-manager",
    ], category)])
    error_message = "control_plane_log_categories holds a category AKS does not emit."
  }
}

variable "container_insights_streams" {
  description = "Container Insights streams collected by the data collection rule."
  type        = list(string)
  default = [
    "Microsoft-ContainerLogV2",
    "Microsoft-KubeEvents",
    "Microsoft-KubePodInventory",
    "Microsoft-KubeNodeInventory",
    "Microsoft-KubePVInventory",
    "Microsoft-KubeServices",
    "Microsoft-KubeMonAgentEvents",
    "Microsoft-InsightsMetrics",
    "Microsoft-ContainerInventory",
    "Microsoft-ContainerNodeInventory",
    "Microsoft-Perf",
  ]
}

variable "run_command_enabled" {
  description = "Allow `az aks command invoke` (how operators reach a private API server without a VNet path)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource (the naming module's tags output)."
  type        = map(string)
  default     = {}
}
