variable "display_name" {
  description = "Display name of the Entra application (the naming module's names.github_application)."
  type        = string

  validation {
    condition     = length(var.display_name) >= 1 && length(var.display_name) <= 120
    error_message = "display_name must be 1-120 characters."
  }
}

variable "github_repository" {
  description = "Repository whose workflows may sign in, as OWNER/REPO."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}$", var.github_repository))
    error_message = "github_repository must be OWNER/REPO."
  }
}

variable "github_environments" {
  description = "GitHub environments whose jobs may sign in; one federated credential each, subject repo:OWNER/REPO:environment:ENV. Protect them with required reviewers for prod."
  type        = list(string)

  validation {
    condition = length(var.github_environments) > 0 && length(var.github_environments) <= 20 && alltrue([
      for environment in var.github_environments : can(regex("^[A-Za-z0-9_.-]{1,255}$", environment))
    ])
    error_message = "github_environments must hold 1-20 environment names (letters, digits, _ . -); Entra allows 20 federated credentials per application."
  }
}

variable "issuer" {
  description = "OIDC issuer of the tokens: GitHub's, or https://token.actions.githubusercontent.com/<enterprise> for an enterprise issuer."
  type        = string
  default     = "https://token.actions.githubusercontent.com"

  validation {
    condition     = startswith(var.issuer, "https://")
    error_message = "issuer must be an https URL."
  }
}

variable "audience" {
  description = "Audience GitHub puts in the token (azure/login requests this one)."
  type        = string
  default     = "api://AzureADTokenExchange"
}

variable "owners" {
  description = "Object ids of the application's owners; empty for the identity Terraform runs as."
  type        = list(string)
  default     = []
}

variable "acr_id" {
  description = "Registry the workflows push to (AcrPush)."
  type        = string
}

variable "aks_cluster_id" {
  description = "Cluster the workflows fetch credentials of (Azure Kubernetes Service Cluster User Role)."
  type        = string
}
