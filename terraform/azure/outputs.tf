output "resource_group_name" {
  description = "Resource group of the environment."
  value       = azurerm_resource_group.this.name
}

output "cluster_name" {
  description = "AKS cluster (az aks get-credentials --resource-group ... --name ...)."
  value       = module.aks.cluster_name
}

output "oidc_issuer_url" {
  description = "Cluster OIDC issuer for workload identity federation."
  value       = module.aks.oidc_issuer_url
}

output "acr_login_server" {
  description = "Registry host (publish --registry); image.repository is <host>/workorders."
  value       = module.acr.login_server
}

output "image_repository" {
  description = "The chart's image.repository for this environment."
  value       = "${module.acr.login_server}/workorders"
}

output "github_actions" {
  description = "Values for azure/login in the GitHub environment (variables, not secrets: nothing here is secret)."
  value = {
    AZURE_CLIENT_ID       = module.github_oidc.client_id
    AZURE_TENANT_ID       = module.github_oidc.tenant_id
    AZURE_SUBSCRIPTION_ID = data.azurerm_client_config.current.subscription_id
  }
}

output "argocd_cluster_labels" {
  description = "Labels for the Argo CD cluster secret."
  value       = module.aks.argocd_cluster_labels
}

output "tags" {
  description = "The tags every resource of the environment carries."
  value       = local.tags
}
