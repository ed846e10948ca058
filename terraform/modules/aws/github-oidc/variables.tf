variable "role_name" {
  description = "Name of the IAM role GitHub Actions assumes."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. An account has one per URL: set false, and give oidc_provider_arn, where another configuration already made it."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider (token.actions.githubusercontent.com), used when create_oidc_provider is false."
  type        = string
  default     = null

  validation {
    condition     = var.create_oidc_provider || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token[.]actions[.]githubusercontent[.]com$", var.oidc_provider_arn))
    error_message = "without create_oidc_provider, oidc_provider_arn must be the ARN of the account's token.actions.githubusercontent.com provider."
  }
}

variable "github_repository" {
  description = "The one repository (owner/name) whose workflows may assume the role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, without wildcards."
  }
}

variable "github_branch" {
  description = "The one branch whose workflow runs may assume the role."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.github_branch)) && !strcontains(var.github_branch, "*")
    error_message = "github_branch must be a branch name, without wildcards."
  }
}

variable "github_environment" {
  description = "The one GitHub Environment the job must run in (its protection rules apply before the token is issued)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.github_environment))
    error_message = "github_environment must be an environment name, without wildcards."
  }
}

variable "subject_includes_ref" {
  description = "The repository's OIDC subject claim includes the ref (claim keys repo, context, ref, as modules/github/repository-settings sets them), so the role checks the branch itself. With false, the default subject names only repository and environment, and the branch is left to the environment's deployment branch policy."
  type        = bool
  default     = true
}

variable "ecr_repository_arns" {
  description = "ECR repositories the role may push to (and read, for signatures and attestations)."
  type        = list(string)

  validation {
    condition     = length(var.ecr_repository_arns) > 0 && alltrue([for a in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", a))])
    error_message = "ecr_repository_arns must be ECR repository ARNs, without wildcards."
  }
}

variable "eks_cluster_arns" {
  description = "EKS clusters the role may describe (endpoint and CA for a kubeconfig; no Kubernetes access is granted here)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.eks_cluster_arns : can(regex("^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]+$", a))])
    error_message = "eks_cluster_arns must be EKS cluster ARNs, without wildcards."
  }
}

variable "max_session_duration" {
  description = "Longest session, in seconds, a workflow gets from one token exchange."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 900 && var.max_session_duration <= 3600
    error_message = "max_session_duration must be between 900 and 3600 seconds."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary to put on the role, where the account requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource (the root module's single tag set)."
  type        = map(string)
  default     = {}
}
