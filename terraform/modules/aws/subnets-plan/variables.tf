variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, e.g. 10.20.0.0/16."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/(1[6-9]|2[0-4])$", var.vpc_cidr)) && can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR block between /16 and /24, such as 10.20.0.0/16."
  }
}

variable "azs" {
  description = "Availability zones, one public and one private subnet in each (index i gets the i-th block)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6
    error_message = "give between 2 and 6 availability zones (EKS needs at least two)."
  }

  validation {
    condition     = length(distinct(var.azs)) == length(var.azs)
    error_message = "availability zones must not repeat."
  }
}

variable "private_newbits" {
  description = "Bits added to the VPC prefix for each private subnet (4 on a /16 gives /20 subnets: 4,091 addresses for nodes and pods)."
  type        = number
  default     = 4

  validation {
    condition     = var.private_newbits >= 1 && var.private_newbits <= 12 && floor(var.private_newbits) == var.private_newbits
    error_message = "private_newbits must be a whole number between 1 and 12."
  }
}

variable "public_newbits" {
  description = "Bits added to the VPC prefix for each public subnet (8 on a /16 gives /24 subnets: load balancers and NAT gateways only)."
  type        = number
  default     = 8

  validation {
    condition     = var.public_newbits >= var.private_newbits
    error_message = "public_newbits must be at least private_newbits (public subnets are the smaller ones)."
  }

  validation {
    condition     = tonumber(split("/", var.vpc_cidr)[1]) + var.public_newbits <= 28
    error_message = "public subnets would be smaller than /28, the smallest subnet AWS allows."
  }

  validation {
    # the private blocks, then one public block per zone, all inside the VPC
    condition     = length(var.azs) * (pow(2, var.public_newbits - var.private_newbits) + 1) <= pow(2, var.public_newbits)
    error_message = "the subnets do not fit in vpc_cidr: use fewer zones or more bits for the subnets."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper; one zone's failure cuts egress) instead of one per zone."
  type        = bool
  default     = false
}
