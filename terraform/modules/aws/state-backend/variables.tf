variable "project" {
  description = "Project name (the naming module's project)."
  type        = string
  default     = "shiprail"
}

variable "region" {
  description = "AWS region of the state bucket."
  type        = string
  default     = "eu-west-1"
}

variable "unique_suffix" {
  description = "Suffix that makes the bucket name globally unique (the naming module's unique_suffix)."
  type        = string
  default     = ""
}

variable "owner" {
  description = "Owner tag of the state store."
  type        = string
  default     = "platform"
}

variable "cost_center" {
  description = "Cost-center tag of the state store."
  type        = string
  default     = "platform"
}

variable "extra_tags" {
  description = "Tags added to the naming module's standard ones."
  type        = map(string)
  default     = {}
}

variable "environments" {
  description = "Environments whose state the bucket keeps, one key each."
  type        = list(string)
  default     = ["dev", "stage", "prod"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : contains(["dev", "stage", "prod"], e)])
    error_message = "environments are dev, stage or prod."
  }
}
