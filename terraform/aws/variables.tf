variable "project" {
  description = "Project name: the first part of every resource name."
  type        = string
  default     = "shiprail"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,10}$", var.project))
    error_message = "project must be 3-11 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment this configuration builds: dev, stage or prod (one AWS account each)."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod"], var.environment)
    error_message = "environment must be dev, stage or prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "AWS accounts this environment may be applied to (empty: any). Set it in each environment's tfvars once the account is known."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.allowed_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "allowed_account_ids are 12-digit AWS account IDs."
  }
}

variable "owner" {
  description = "Team answerable for the environment's resources (the owner tag)."
  type        = string
  default     = "platform"
}

variable "cost_center" {
  description = "Cost center the environment is billed to (the cost-center tag)."
  type        = string
  default     = "platform"
}

variable "extra_tags" {
  description = "Tags merged into the naming module's standard ones (project, environment, owner, managed-by, cost-center): the one tag set every resource gets."
  type        = map(string)
  default     = {}
}

# -- network --------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the environment's VPC."
  type        = string
  default     = "10.20.0.0/16"
}

variable "azs" {
  description = "Availability zones of the region to spread subnets and nodes over, named explicitly so the set never grows by itself (three for stage and prod)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6 && length(distinct(var.azs)) == length(var.azs)
    error_message = "give 2 to 6 distinct availability zones."
  }

  validation {
    condition     = alltrue([for az in var.azs : startswith(az, var.region)])
    error_message = "every availability zone must be in var.region."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (dev) instead of one per zone (stage, prod)."
  type        = bool
  default     = false
}

# -- cluster --------------------------------------------------------------------------------------

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
  default     = "1.33"
}

variable "endpoint_public_access" {
  description = "Expose the EKS API on a public endpoint limited to public_access_cidrs (off: private endpoint only)."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "Networks allowed to reach the public EKS API endpoint, when it is on."
  type        = list(string)
  default     = []
}

variable "api_ingress_cidrs" {
  description = "Networks connected to the VPC (VPN, bastion, runners) allowed to reach the private EKS API endpoint."
  type        = list(string)
  default     = []
}

variable "cluster_admin_arns" {
  description = "IAM roles given cluster-admin through EKS access entries."
  type        = list(string)
  default     = []
}

variable "node_groups" {
  description = "Managed node groups (see modules/aws/eks); null keeps the module's on-demand and spot defaults."
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
  default = null
}

# -- registry and CI identity ---------------------------------------------------------------------

variable "ecr_repositories" {
  description = "ECR repositories of the environment."
  type        = set(string)
  default     = ["workorders"]
}

variable "github_repository" {
  description = "The GitHub repository (owner/name) whose workflows may push images and describe the cluster."
  type        = string
}

variable "github_branch" {
  description = "The branch whose workflow runs may assume the CI role of this environment."
  type        = string
}

variable "github_environment" {
  description = "The GitHub Environment those jobs must run in (its reviewers approve first)."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false where another configuration in the same account already did; then give github_oidc_provider_arn)."
  type        = bool
  default     = true
}

variable "github_oidc_provider_arn" {
  description = "Existing GitHub OIDC provider, when create_github_oidc_provider is false."
  type        = string
  default     = null
}
