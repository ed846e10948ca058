output "cluster_id" {
  description = "Resource id of the cluster."
  value       = azurerm_kubernetes_cluster.this.id
}

output "cluster_name" {
  description = "Cluster name (az aks get-credentials --name ...)."
  value       = azurerm_kubernetes_cluster.this.name
}

output "kubernetes_version" {
  description = "Kubernetes version the control plane runs."
  value       = azurerm_kubernetes_cluster.this.current_kubernetes_version
}

output "endpoint_fqdn" {
  description = "API server FQDN: the private FQDN of a private cluster, else the public one."
  value       = var.private_cluster_enabled ? azurerm_kubernetes_cluster.this.private_fqdn : azurerm_kubernetes_cluster.this.fqdn
}

output "oidc_issuer_url" {
  description = "OIDC issuer for workload identity federation (federated credentials of pod identities)."
  value       = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "kubelet_identity_object_id" {
  description = "Object id of the kubelet identity (give it AcrPull on the registry)."
  value       = azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id
}

output "kubelet_identity_client_id" {
  description = "Client id of the kubelet identity."
  value       = azurerm_kubernetes_cluster.this.kubelet_identity[0].client_id
}

output "control_plane_identity_principal_id" {
  description = "Principal id of the control plane's user-assigned identity."
  value       = azurerm_user_assigned_identity.control_plane.principal_id
}

output "node_resource_group" {
  description = "Resource group AKS manages for the nodes."
  value       = azurerm_kubernetes_cluster.this.node_resource_group
}

output "log_analytics_workspace_id" {
  description = "Workspace holding Container Insights and the control-plane logs."
  value       = local.workspace_id
}

output "argocd_cluster_labels" {
  description = "Labels to put on the Argo CD cluster secret so the ApplicationSet selects this cluster."
  value = {
    "shiprail.dev/environment" = var.environment
    "shiprail.dev/cloud"       = "aks"
  }
}
