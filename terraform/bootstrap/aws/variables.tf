variable "project" {
  description = "Project name: the stem of the bucket, key alias and lock table names."
  type        = string
  default     = "shiprail"
}

variable "region" {
  description = "AWS region of the state bucket (the backend files name the same)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "unique_suffix" {
  description = "Suffix that makes the bucket name globally unique (S3 bucket names are shared by every AWS account)."
  type        = string
}

variable "owner" {
  description = "Team answerable for the state store (the owner tag)."
  type        = string
}

variable "cost_center" {
  description = "Cost center the state store is billed to (the cost-center tag)."
  type        = string
}

variable "environments" {
  description = "Environments whose state the bucket keeps (one key each)."
  type        = list(string)
  default     = ["dev", "stage", "prod"]
}

variable "noncurrent_version_days" {
  description = "Days a replaced state version is kept (the way back from a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 30
    error_message = "keep replaced state versions at least 30 days."
  }
}

variable "create_dynamodb_lock_table" {
  description = "Also create the DynamoDB lock table: the legacy lock of the S3 backend (Terraform before 1.10, or a migration that holds both locks for a while)."
  type        = bool
  default     = true
}

variable "extra_tags" {
  description = "Tags added to the naming module's standard ones."
  type        = map(string)
  default     = {}
}
