variable "name" {
  description = "Cluster name; also the prefix of every resource this module creates."
  type        = string

  validation {
    # node groups are named "<name>-<group>-" plus 26 generated characters, at most 63
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version; addon_versions and cluster_autoscaler_image_tag must match it."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1[.][0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as 1.33."
  }
}

variable "subnet_ids" {
  description = "Private subnets (at least two zones) for the control-plane network interfaces and the nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "give at least two private subnets in different availability zones."
  }
}

variable "endpoint_public_access" {
  description = "Also expose the API server on a public endpoint, limited to public_access_cidrs. Off by default: the API is reached from inside the VPC."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint when endpoint_public_access is true (never 0.0.0.0/0)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "public_access_cidrs must be CIDR blocks, and none may be open to the whole internet (/0)."
  }

  validation {
    condition     = !var.endpoint_public_access || length(var.public_access_cidrs) > 0
    error_message = "a public endpoint needs public_access_cidrs: the networks allowed to reach it."
  }
}

variable "api_ingress_cidrs" {
  description = "Networks inside or connected to the VPC (VPN, bastion, CI runners) allowed to reach the private API endpoint on port 443."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.api_ingress_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "api_ingress_cidrs must be CIDR blocks, none open to the whole internet (/0)."
  }
}

variable "cluster_admin_arns" {
  description = "IAM roles or users given cluster-admin through EKS access entries (the creator gets no implicit admin)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.cluster_admin_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "cluster_admin_arns must be IAM role or user ARNs."
  }
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs in CloudWatch (one year or more keeps an audit trail)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "node_groups" {
  description = "Managed node groups by short name: capacity type (ON_DEMAND or SPOT; SPOT needs several instance types), instance types, sizes, disk, labels and taints."
  type = map(object({
    capacity_type  = optional(string, "ON_DEMAND")
    instance_types = list(string)
    ami_type       = optional(string, "AL2023_x86_64_STANDARD")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gb   = optional(number, 50)
    labels         = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = optional(string)
      effect = string
    })), [])
  }))
  nullable = false
  default = {
    on-demand = {
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 4
      desired_size   = 2
    }
    spot = {
      capacity_type  = "SPOT"
      instance_types = ["m6i.large", "m6a.large", "m5.large", "m5a.large", "m7i.large"]
      min_size       = 0
      max_size       = 6
      desired_size   = 1
    }
  }

  validation {
    condition     = length(var.node_groups) > 0 && alltrue([for k in keys(var.node_groups) : can(regex("^[a-z][a-z0-9-]{0,14}$", k))])
    error_message = "give at least one node group; names are 1-15 lowercase letters, digits or dashes."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.capacity_type != "SPOT" || length(distinct(g.instance_types)) >= 3])
    error_message = "a SPOT node group needs at least three instance types, so one interrupted pool does not empty it."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : length(g.instance_types) > 0 && g.min_size >= 0 && g.min_size <= g.desired_size && g.desired_size <= g.max_size && g.max_size > 0])
    error_message = "each node group needs instance types and 0 <= min_size <= desired_size <= max_size, max_size > 0."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.disk_size_gb >= 20 && g.disk_size_gb <= 1000])
    error_message = "disk_size_gb must be between 20 and 1000."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.node_groups) : [
      for t in g.taints : contains(["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"], t.effect)
    ]]))
    error_message = "taint effects are NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE."
  }
}

variable "node_volume_kms_key_arn" {
  description = "Customer-managed KMS key for the nodes' root volumes; null uses the account's AWS-managed EBS key. A customer key must let the AutoScaling service-linked role use it and create grants."
  type        = string
  default     = null

  validation {
    condition     = var.node_volume_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.node_volume_kms_key_arn))
    error_message = "node_volume_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "addon_versions" {
  description = "EKS add-ons and their pinned versions for kubernetes_version (aws eks describe-addon-versions). The four core add-ons are required; others may be added."
  type        = map(string)
  default = {
    vpc-cni            = "v1.19.5-eksbuild.1"
    kube-proxy         = "v1.33.0-eksbuild.2"
    coredns            = "v1.12.1-eksbuild.2"
    aws-ebs-csi-driver = "v1.46.0-eksbuild.1"
  }

  validation {
    condition     = alltrue([for a in ["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"] : contains(keys(var.addon_versions), a)])
    error_message = "addon_versions must pin vpc-cni, kube-proxy, coredns and aws-ebs-csi-driver."
  }

  validation {
    condition     = alltrue([for v in values(var.addon_versions) : can(regex("^v[0-9]+[.][0-9]+[.][0-9]+-eksbuild[.][0-9]+$", v))])
    error_message = "add-on versions must be exact, like v1.19.5-eksbuild.1 (no \"latest\")."
  }
}

variable "cluster_autoscaler_image_tag" {
  description = "Cluster autoscaler image tag for the Helm values output; its minor version follows kubernetes_version."
  type        = string
  default     = "v1.33.0"

  validation {
    condition     = can(regex("^v[0-9]+[.][0-9]+[.][0-9]+$", var.cluster_autoscaler_image_tag))
    error_message = "cluster_autoscaler_image_tag must be an exact release such as v1.33.0."
  }
}

variable "tags" {
  description = "Tags added to every resource (the root module's single tag set); also put on the nodes' instances and volumes."
  type        = map(string)
  default     = {}
}
