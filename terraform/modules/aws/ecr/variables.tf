variable "name" {
  description = "Prefix of the KMS key alias this module creates (e.g. the environment's name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,38}$", var.name))
    error_message = "name must be 3-39 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "repositories" {
  description = "Names of the ECR repositories to create (the publish job of ci.yml pushes to \"workorders\")."
  type        = set(string)
  default     = ["workorders"]

  validation {
    condition     = length(var.repositories) > 0 && alltrue([for r in var.repositories : can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r)) && length(r) <= 256])
    error_message = "repository names are lowercase letters, digits and . _ - / separators (ECR's rules), at least one."
  }
}

variable "pull_principal_arns" {
  description = "IAM roles allowed to pull through the repository policy (the EKS node role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.pull_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "pull_principal_arns must be IAM role ARNs (no wildcards, no accounts)."
  }
}

variable "keep_tagged_images" {
  description = "How many release-tagged images (v*) to keep per repository: the rollback targets."
  type        = number
  default     = 200

  validation {
    condition     = var.keep_tagged_images >= 10
    error_message = "keep at least 10 tagged images, or rollbacks lose their targets."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (superseded layers, failed pushes) are deleted."
  type        = number
  default     = 14

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource (the root module's single tag set)."
  type        = map(string)
  default     = {}
}
