variable "cloud" {
  description = "Cloud to build the network in: aws (VPC through ../aws/vpc) or azure (VNet through ../azure/vnet)."
  type        = string

  validation {
    condition     = contains(["aws", "azure"], var.cloud)
    error_message = "cloud must be aws or azure."
  }
}

variable "name" {
  description = "Name of the VPC or VNet (the naming module's names.vpc or names.virtual_network)."
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR of the network (the naming module's network.cidr)."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && !strcontains(var.cidr, ":")
    error_message = "cidr must be an IPv4 CIDR."
  }
}

variable "availability_zones" {
  description = "Zones to spread the subnets over (AWS: one public and one private subnet per zone; Azure subnets span the region's zones)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "give at least two distinct availability zones."
  }
}

variable "aws" {
  description = "AWS settings (cloud = aws): the EKS cluster the subnets are tagged for, subnet sizes, NAT layout and flow logs."
  type = object({
    cluster_name              = string
    private_subnet_newbits    = optional(number, 4)
    public_subnet_newbits     = optional(number, 8)
    single_nat_gateway        = optional(bool, false)
    flow_log_destination_type = optional(string, "cloud-watch-logs")
    flow_log_s3_bucket_arn    = optional(string)
    flow_log_retention_days   = optional(number, 365)
  })
  default = null

  validation {
    condition     = var.cloud != "aws" || var.aws != null
    error_message = "cloud aws needs the aws settings (at least cluster_name)."
  }
}

variable "azure" {
  description = "Azure settings (cloud = azure): resource group, location and name prefixes. The subnets follow the naming module's tiers: aks on the first half of the network, app on the next quarter."
  type = object({
    location                           = string
    resource_group_name                = string
    subnet_name_prefix                 = string
    network_security_group_name_prefix = string
    route_table_name_prefix            = string
  })
  default = null

  validation {
    condition     = var.cloud != "azure" || var.azure != null
    error_message = "cloud azure needs the azure settings."
  }
}

variable "tags" {
  description = "Tags for every resource (the naming module's tags output)."
  type        = map(string)
  default     = {}
}
