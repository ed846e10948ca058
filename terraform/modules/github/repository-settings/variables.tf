variable "repository" {
  description = "Repository name (without the owner: the github provider's owner is the organization or user)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.repository))
    error_message = "repository must be a repository name, without the owner."
  }
}

variable "protected_branches" {
  description = "Branches that take changes only through reviewed pull requests with green checks."
  type        = set(string)
  default     = ["main", "dev"]

  validation {
    condition     = length(var.protected_branches) > 0 && alltrue([for b in var.protected_branches : !strcontains(b, "*")])
    error_message = "give at least one branch, by its exact name."
  }
}

variable "required_status_checks" {
  description = "Status checks that must pass before a merge. ci.yml's job test calls test.yml, whose job is named \"lint, scan, test\"; GitHub names that check \"test / lint, scan, test\"."
  type        = list(string)
  default     = ["test / lint, scan, test"]

  validation {
    condition     = length(var.required_status_checks) > 0
    error_message = "require at least one status check."
  }
}

variable "required_approvals" {
  description = "Approving reviews a pull request needs before it merges."
  type        = number
  default     = 2

  validation {
    condition     = var.required_approvals >= 1 && var.required_approvals <= 6
    error_message = "required_approvals must be between 1 and 6."
  }
}

variable "require_code_owner_reviews" {
  description = "A change to files with an owner in CODEOWNERS needs that owner's review."
  type        = bool
  default     = false
}

variable "require_signed_commits" {
  description = "Commits on the protected branches must carry verified signatures."
  type        = bool
  default     = true
}

variable "environments" {
  description = "GitHub Environments by name: the branches that may deploy to each, whether a reviewer must approve, and an optional wait. The CI role of each AWS environment trusts jobs of its GitHub Environment only."
  type = map(object({
    branches          = list(string)
    require_reviewers = optional(bool, true)
    wait_timer        = optional(number, 0)
  }))
  default = {
    dev   = { branches = ["main", "dev"], require_reviewers = false }
    stage = { branches = ["main"] }
    prod  = { branches = ["main"] }
  }

  validation {
    condition     = alltrue([for e in values(var.environments) : length(e.branches) > 0 && e.wait_timer >= 0 && e.wait_timer <= 43200])
    error_message = "each environment names at least one branch; wait_timer is 0-43200 minutes."
  }
}

variable "reviewer_teams" {
  description = "Team slugs whose members may approve deployments to the environments that require reviewers."
  type        = list(string)
  default     = []
}

variable "reviewer_users" {
  description = "User logins who may approve deployments to the environments that require reviewers."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.reviewer_teams) + length(var.reviewer_users) > 0 && length(var.reviewer_teams) + length(var.reviewer_users) <= 6
    error_message = "name 1 to 6 reviewers (teams and users together), GitHub's limit per environment."
  }
}

variable "oidc_subject_claim_keys" {
  description = "Claims in the sub of the repository's Actions OIDC tokens; repo, context and ref let a cloud role check repository, environment and branch."
  type        = list(string)
  default     = ["repo", "context", "ref"]

  validation {
    condition     = contains(var.oidc_subject_claim_keys, "repo") && contains(var.oidc_subject_claim_keys, "context")
    error_message = "the subject must include at least repo and context."
  }
}
