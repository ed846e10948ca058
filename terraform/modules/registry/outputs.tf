output "cloud" {
  description = "Cloud of the registry."
  value       = var.cloud
}

output "registry_id" {
  description = "Account id of the ECR registry (AWS) or resource id of the ACR (Azure)."
  value       = var.cloud == "aws" ? module.aws[0].registry_id : module.azure[0].id
}

output "registry_host" {
  description = "Registry host: <account>.dkr.ecr.<region>.amazonaws.com or <name>.azurecr.io (publish --registry takes it)."
  value       = var.cloud == "aws" ? split("/", values(module.aws[0].repository_urls)[0])[0] : module.azure[0].login_server
}

output "repository_urls" {
  description = "Repository URLs by name: the chart's image.repository."
  value = var.cloud == "aws" ? module.aws[0].repository_urls : {
    for repository in var.repositories : repository => "${module.azure[0].login_server}/${repository}"
  }
}
