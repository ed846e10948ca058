# One network interface for both clouds: pick the cloud, get a VPC or a VNet with the same
# outputs. Cloud-specific settings go in var.aws or var.azure.

locals {
  # the same tiers as the naming module: private = first half, app = next quarter
  azure_subnets = {
    aks = {
      address_prefixes = [cidrsubnet(var.cidr, 1, 0)]
    }
    app = {
      address_prefixes                  = [cidrsubnet(var.cidr, 2, 2)]
      private_endpoint_network_policies = "Enabled"
    }
  }
}

module "aws" {
  source = "../aws/vpc"
  count  = var.cloud == "aws" ? 1 : 0

  name                      = var.name
  cidr                      = var.cidr
  azs                       = var.availability_zones
  cluster_name              = var.aws.cluster_name
  private_subnet_newbits    = var.aws.private_subnet_newbits
  public_subnet_newbits     = var.aws.public_subnet_newbits
  single_nat_gateway        = var.aws.single_nat_gateway
  flow_log_destination_type = var.aws.flow_log_destination_type
  flow_log_s3_bucket_arn    = var.aws.flow_log_s3_bucket_arn
  flow_log_retention_days   = var.aws.flow_log_retention_days
  tags                      = var.tags
}

module "azure" {
  source = "../azure/vnet"
  count  = var.cloud == "azure" ? 1 : 0

  name                               = var.name
  location                           = var.azure.location
  resource_group_name                = var.azure.resource_group_name
  address_space                      = [var.cidr]
  subnet_name_prefix                 = var.azure.subnet_name_prefix
  network_security_group_name_prefix = var.azure.network_security_group_name_prefix
  route_table_name_prefix            = var.azure.route_table_name_prefix
  subnets                            = local.azure_subnets
  tags                               = var.tags
}
