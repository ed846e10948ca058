output "resource_group_name" {
  description = "Resource group of the state store."
  value       = azurerm_resource_group.state.name
}

output "storage_account_name" {
  description = "Storage account holding the state."
  value       = azurerm_storage_account.state.name
}

output "containers" {
  description = "State container by environment."
  value       = { for environment, container in azurerm_storage_container.state : environment => container.name }
}

output "backend_configs" {
  description = "Partial backend configuration per environment: the content of terraform/azure/backend/<environment>.hcl."
  value = {
    for environment, container in azurerm_storage_container.state : environment => join("\n", [
      "resource_group_name  = \"${azurerm_resource_group.state.name}\"",
      "storage_account_name = \"${azurerm_storage_account.state.name}\"",
      "container_name       = \"${container.name}\"",
      "key                  = \"${var.project}/${environment}.tfstate\"",
      "use_azuread_auth     = true",
      "",
    ])
  }
}
