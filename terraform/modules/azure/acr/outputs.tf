output "id" {
  description = "Resource id of the registry (scope for AcrPush/AcrPull role assignments)."
  value       = azurerm_container_registry.this.id
}

output "name" {
  description = "Registry name."
  value       = azurerm_container_registry.this.name
}

output "login_server" {
  description = "Login server (<name>.azurecr.io), the host of image.repository in the Helm values."
  value       = azurerm_container_registry.this.login_server
}

output "private_endpoint_ip_addresses" {
  description = "Private address of the registry endpoint (empty without a private endpoint; the data endpoints get addresses of their own in the same zone)."
  value       = [for endpoint in azurerm_private_endpoint.this : endpoint.private_service_connection[0].private_ip_address]
}
