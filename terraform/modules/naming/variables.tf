variable "project" {
  description = "Short project name, the first part of every resource name (2-16 lowercase letters, digits or single dashes)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.project)) && !strcontains(var.project, "--")
    error_message = "project must be 2-16 lowercase letters, digits or single dashes, starting with a letter and ending with a letter or digit."
  }
}

variable "environment" {
  description = "Environment: dev, stage or prod; shared for what serves every environment (the Terraform state store)."
  type        = string

  validation {
    condition     = contains(["dev", "stage", "prod", "shared"], var.environment)
    error_message = "environment must be dev, stage, prod or shared."
  }
}

variable "cloud" {
  description = "Cloud the names are for: aws or azure (their length and character rules differ)."
  type        = string

  validation {
    condition     = contains(["aws", "azure"], var.cloud)
    error_message = "cloud must be aws or azure."
  }
}

variable "region" {
  description = "Region: an AWS region (eu-west-1) or an Azure location name (westeurope)."
  type        = string

  validation {
    condition = (
      var.cloud == "aws"
      ? can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
      : can(regex("^[a-z][a-z0-9]{2,30}$", var.region))
    )
    error_message = "region must be an AWS region such as eu-west-1 (cloud aws) or an Azure location name such as westeurope (cloud azure)."
  }
}

variable "unique_suffix" {
  description = "Up to 6 lowercase letters or digits appended to globally unique names (storage accounts, registries, S3 buckets). Empty for none."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[a-z0-9]{0,6}$", var.unique_suffix))
    error_message = "unique_suffix must be at most 6 lowercase letters or digits."
  }
}

variable "owner" {
  description = "Team or address answerable for the resources (the owner tag)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,256}$", var.owner))
    error_message = "owner must be 1-256 characters that both clouds accept in a tag value: letters, digits, spaces and _ . : / = + - @."
  }
}

variable "cost_center" {
  description = "Cost center the resources are billed to (the cost-center tag)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,256}$", var.cost_center))
    error_message = "cost_center must be 1-256 characters that both clouds accept in a tag value: letters, digits, spaces and _ . : / = + - @."
  }
}

variable "extra_tags" {
  description = "Tags added to the standard ones. They cannot replace a standard tag (project, environment, owner, managed-by, cost-center)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for key in keys(var.extra_tags) :
      !contains(["project", "environment", "owner", "managed-by", "cost-center"], lower(key))
    ])
    error_message = "extra_tags cannot set project, environment, owner, managed-by or cost-center: those come from the module's variables."
  }

  validation {
    condition = alltrue([
      for key, value in var.extra_tags :
      can(regex("^[A-Za-z0-9 _.:=+@-]{1,128}$", key)) && can(regex("^[A-Za-z0-9 _.:/=+@-]{0,256}$", value))
    ])
    error_message = "extra_tags keys must be 1-128 and values 0-256 characters that both clouds accept: letters, digits, spaces and _ . : = + - @ (values may also hold /)."
  }

  validation {
    condition = alltrue([
      for key in keys(var.extra_tags) :
      !can(regex("^(?i)(aws:|microsoft|azure|windows)", key))
    ])
    error_message = "extra_tags keys cannot start with aws:, microsoft, azure or windows (prefixes the clouds reserve)."
  }
}

variable "network_cidr" {
  description = "IPv4 CIDR of the VPC or VNet (/16 to /20), split into public, private and app subnets per availability zone. Null for no network plan."
  type        = string
  default     = null

  validation {
    condition = var.network_cidr == null ? true : (
      can(cidrhost(var.network_cidr, 0))
      && can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+/[0-9]+$", var.network_cidr))
      && try(tonumber(split("/", var.network_cidr)[1]) >= 16 && tonumber(split("/", var.network_cidr)[1]) <= 20, false)
      && try(cidrhost(var.network_cidr, 0) == split("/", var.network_cidr)[0], false)
    )
    error_message = "network_cidr must be an IPv4 network address with a prefix from /16 to /20, such as 10.20.0.0/16 (no host bits set)."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread subnets over (2-4). Null: the region's a, b and c zones on AWS, zones 1, 2 and 3 on Azure."
  type        = list(string)
  default     = null

  validation {
    condition = var.availability_zones == null ? true : (
      length(var.availability_zones) >= 2
      && length(var.availability_zones) <= 4
      && length(distinct(var.availability_zones)) == length(var.availability_zones)
      && alltrue([for zone in var.availability_zones : length(trimspace(zone)) > 0])
    )
    error_message = "availability_zones must hold 2 to 4 distinct, non-empty zone names."
  }
}
