output "client_id" {
  description = "Application (client) id: the AZURE_CLIENT_ID of azure/login."
  value       = azuread_application.this.client_id
}

output "tenant_id" {
  description = "Tenant id: the AZURE_TENANT_ID of azure/login."
  value       = data.azuread_client_config.current.tenant_id
}

output "service_principal_object_id" {
  description = "Object id of the service principal the roles are assigned to."
  value       = azuread_service_principal.this.object_id
}

output "federated_subjects" {
  description = "Token subjects allowed to sign in, by GitHub environment."
  value       = { for environment, credential in azuread_application_federated_identity_credential.github : environment => credential.subject }
}
