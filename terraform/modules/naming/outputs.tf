output "prefix" {
  description = "project-environment, the stem of the names."
  value       = local.prefix
}

output "region_code" {
  description = "Short code of the region used in names (westeurope -> weu, eu-west-1 -> euw1)."
  value       = local.region_code
}

output "names" {
  description = "Resource names for the chosen cloud, each within that resource's length and character limits."
  value       = local.names
}

output "tags" {
  description = "The one tags map for every resource: project, environment, owner, managed-by, cost-center, plus extra_tags."
  value       = local.tags
}

output "argocd_cluster_labels" {
  description = "Labels for the Argo CD cluster secret; the ApplicationSet selects clusters by them."
  value = {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/cloud"       = var.cloud == "aws" ? "eks" : "aks"
  }
}

output "availability_zones" {
  description = "Zones the subnets are spread over, in the order of the subnet lists."
  value       = local.availability_zones
}

output "network" {
  description = "Address plan (null without network_cidr): cidr, tiers (one block per tier), subnets (per tier, one per zone), subnets_by_zone, spare."
  value       = local.network
}

output "private_subnets" {
  description = "Private subnet CIDRs, one per zone (empty without network_cidr)."
  value       = local.subnets == null ? [] : local.subnets.private
}

output "app_subnets" {
  description = "App subnet CIDRs, one per zone (empty without network_cidr)."
  value       = local.subnets == null ? [] : local.subnets.app
}

output "public_subnets" {
  description = "Public subnet CIDRs, one per zone (empty without network_cidr)."
  value       = local.subnets == null ? [] : local.subnets.public
}
