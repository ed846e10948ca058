output "cluster_name" {
  description = "AKS cluster name (az aks get-credentials --name ...)."
  value       = azurerm_kubernetes_cluster.this.name
}

output "cluster_id" {
  description = "Resource id of the cluster."
  value       = azurerm_kubernetes_cluster.this.id
}

output "private_fqdn" {
  description = "Private API server FQDN, for registering the cluster in Argo CD."
  value       = azurerm_kubernetes_cluster.this.private_fqdn
}

output "acr_login_server" {
  description = "Registry the chart's image.repository points at."
  value       = azurerm_container_registry.this.login_server
}

output "oidc_issuer_url" {
  description = "Issuer for workload identity federation (External Secrets, Key Vault)."
  value       = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "argocd_cluster_labels" {
  description = "Labels to put on the Argo CD cluster secret so the ApplicationSet selects this cluster."
  value = {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/cloud"       = "aks"
  }
}
