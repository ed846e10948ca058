variable "name" {
  description = "Name of the VPC; also the prefix of every resource this module creates."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,38}$", var.name))
    error_message = "name must be 3-39 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC (/16 to /24)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/(1[6-9]|2[0-4])$", var.cidr)) && can(cidrhost(var.cidr, 0))
    error_message = "cidr must be an IPv4 CIDR block between /16 and /24."
  }
}

variable "azs" {
  description = "Availability zones (three for production): one public and one private subnet in each."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 6 && length(distinct(var.azs)) == length(var.azs)
    error_message = "give 2 to 6 distinct availability zones (EKS needs at least two)."
  }
}

variable "private_subnet_newbits" {
  description = "Bits added to the VPC prefix for each private subnet (nodes and pods)."
  type        = number
  default     = 4

  validation {
    condition     = var.private_subnet_newbits >= 1 && var.private_subnet_newbits <= 12
    error_message = "private_subnet_newbits must be between 1 and 12."
  }
}

variable "public_subnet_newbits" {
  description = "Bits added to the VPC prefix for each public subnet (load balancers, NAT gateways)."
  type        = number
  default     = 8

  validation {
    condition     = var.public_subnet_newbits >= 1 && var.public_subnet_newbits <= 12
    error_message = "public_subnet_newbits must be between 1 and 12."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for every private subnet (cheaper; egress depends on one zone) instead of one per zone."
  type        = bool
  default     = false
}

variable "cluster_name" {
  description = "EKS cluster that uses these subnets: tagged kubernetes.io/cluster/<name> = shared so its load balancer controller finds them."
  type        = string

  validation {
    condition     = length(var.cluster_name) > 0
    error_message = "cluster_name must not be empty."
  }
}

variable "flow_log_destination_type" {
  description = "Where VPC flow logs go: cloud-watch-logs (a KMS-encrypted log group this module creates) or s3 (an existing bucket, flow_log_s3_bucket_arn)."
  type        = string
  default     = "cloud-watch-logs"

  validation {
    condition     = contains(["cloud-watch-logs", "s3"], var.flow_log_destination_type)
    error_message = "flow_log_destination_type must be cloud-watch-logs or s3."
  }
}

variable "flow_log_s3_bucket_arn" {
  description = "ARN of the S3 bucket (optionally with a /prefix) that receives the flow logs when flow_log_destination_type is s3."
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_destination_type != "s3" || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+(/.*)?$", var.flow_log_s3_bucket_arn))
    error_message = "flow_log_s3_bucket_arn must be an S3 bucket ARN when flow_log_destination_type is s3."
  }
}

variable "flow_log_traffic_type" {
  description = "Traffic the flow logs record: ALL, ACCEPT or REJECT."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_log_traffic_type)
    error_message = "flow_log_traffic_type must be ALL, ACCEPT or REJECT."
  }
}

variable "flow_log_retention_days" {
  description = "Retention of the flow logs in CloudWatch (one year or more keeps an audit trail)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "tags" {
  description = "Tags added to every resource (the root module's single tag set)."
  type        = map(string)
  default     = {}
}
