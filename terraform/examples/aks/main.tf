# A prod cluster on AKS: `terraform init && terraform apply` with Azure credentials, then
# register the cluster in Argo CD with the labels from the argocd_cluster_labels output.
terraform {
  required_version = ">= 1.6"
}

provider "azurerm" {
  features {}
}

variable "subnet_id" {
  description = "Subnet for the nodes."
  type        = string
}

variable "admin_group_object_ids" {
  description = "Entra ID groups that administer the cluster."
  type        = list(string)
}

variable "disk_encryption_set_id" {
  description = "Disk encryption set with the customer-managed key."
  type        = string
}

module "aks" {
  source                 = "../../modules/aks"
  name                   = "shiprail-prod"
  environment            = "prod"
  location               = "westeurope"
  resource_group_name    = "shiprail-prod"
  subnet_id              = var.subnet_id
  admin_group_object_ids = var.admin_group_object_ids
  disk_encryption_set_id = var.disk_encryption_set_id
  registry_name          = "shiprailprod"
  tags                   = { team = "platform" }
}

output "acr_login_server" {
  description = "Put this in helm/values-prod.yaml as image.repository (with /workorders)."
  value       = module.aks.acr_login_server
}

output "argocd_cluster_labels" {
  description = "Labels for the Argo CD cluster secret."
  value       = module.aks.argocd_cluster_labels
}
