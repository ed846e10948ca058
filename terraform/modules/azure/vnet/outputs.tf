output "id" {
  description = "Resource id of the VNet."
  value       = azurerm_virtual_network.this.id
}

output "name" {
  description = "Name of the VNet."
  value       = azurerm_virtual_network.this.name
}

output "address_space" {
  description = "Address space of the VNet."
  value       = azurerm_virtual_network.this.address_space
}

output "subnet_ids" {
  description = "Subnet ids by key. They are read after the NSG and route table associations, so a consumer never lands in an unprotected subnet."
  value       = { for key, subnet in azurerm_subnet.this : key => subnet.id }

  depends_on = [
    azurerm_subnet_network_security_group_association.this,
    azurerm_subnet_route_table_association.this,
  ]
}

output "subnet_address_prefixes" {
  description = "Subnet address prefixes by key."
  value       = { for key, subnet in azurerm_subnet.this : key => subnet.address_prefixes }
}

output "network_security_group_ids" {
  description = "NSG ids by subnet key."
  value       = { for key, nsg in azurerm_network_security_group.this : key => nsg.id }
}

output "route_table_ids" {
  description = "Route table ids by subnet key."
  value       = { for key, table in azurerm_route_table.this : key => table.id }
}
