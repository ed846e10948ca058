output "cloud" {
  description = "Cloud the network is in."
  value       = var.cloud
}

output "network_id" {
  description = "VPC id (AWS) or VNet resource id (Azure)."
  value       = var.cloud == "aws" ? module.aws[0].vpc_id : module.azure[0].id
}

output "cidr" {
  description = "CIDR of the network."
  value       = var.cidr
}

output "node_subnet_ids" {
  description = "Subnets for the cluster nodes: the private subnets (AWS) or the aks subnet (Azure)."
  value       = var.cloud == "aws" ? module.aws[0].private_subnet_ids : [module.azure[0].subnet_ids["aks"]]
}

output "private_subnet_ids" {
  description = "Subnets without a route from the internet: AWS private subnets; on Azure every subnet (none takes inbound internet traffic unless an NSG rule allows it)."
  value       = var.cloud == "aws" ? module.aws[0].private_subnet_ids : values(module.azure[0].subnet_ids)
}

output "public_subnet_ids" {
  description = "Subnets for internet-facing load balancers (AWS); empty on Azure, whose load balancers need no subnet of their own."
  value       = var.cloud == "aws" ? module.aws[0].public_subnet_ids : []
}

output "subnet_ids" {
  description = "Every subnet id by a key: private-<zone>/public-<zone> on AWS, the subnet keys (aks, app) on Azure."
  value = var.cloud == "aws" ? merge(
    { for index, id in module.aws[0].private_subnet_ids : "private-${module.aws[0].azs[index]}" => id },
    { for index, id in module.aws[0].public_subnet_ids : "public-${module.aws[0].azs[index]}" => id },
  ) : module.azure[0].subnet_ids
}
