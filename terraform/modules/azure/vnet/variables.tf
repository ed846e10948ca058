variable "name" {
  description = "Name of the virtual network (2-64 characters; the naming module's names.virtual_network)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$", var.name))
    error_message = "name must be 2-64 letters, digits, underscores, periods or dashes, starting with a letter or digit and ending with a letter, digit or underscore."
  }
}

variable "location" {
  description = "Azure location (westeurope)."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group for the network."
  type        = string
}

variable "address_space" {
  description = "Address space of the VNet (the naming module's network.cidr)."
  type        = list(string)

  validation {
    condition     = length(var.address_space) > 0 && alltrue([for cidr in var.address_space : can(cidrhost(cidr, 0))])
    error_message = "address_space must hold at least one valid CIDR."
  }
}

variable "dns_servers" {
  description = "Custom DNS servers; empty for the Azure-provided DNS (needed for private endpoint zones linked to the VNet)."
  type        = list(string)
  default     = []
}

variable "ddos_protection_plan_id" {
  description = "DDoS Network Protection plan to attach; null for none (the plan is billed per tenant, usually shared)."
  type        = string
  default     = null
}

variable "subnet_name_prefix" {
  description = "Prefix of subnet names; each subnet is <prefix>-<key>."
  type        = string
}

variable "network_security_group_name_prefix" {
  description = "Prefix of NSG names; each subnet's NSG is <prefix>-<key>."
  type        = string
}

variable "route_table_name_prefix" {
  description = "Prefix of route table names; each subnet's route table is <prefix>-<key>."
  type        = string
}

variable "subnets" {
  description = <<-EOT
    Subnets by key (aks, app, ...). Every subnet gets its own NSG and route table, both associated.
    address_prefixes: CIDRs inside address_space. service_endpoints: e.g. Microsoft.Storage.
    private_endpoint_network_policies: Enabled (NSGs and route tables apply to private endpoints), Disabled,
    NetworkSecurityGroupEnabled or RouteTableEnabled. default_outbound_access_enabled: false, so egress goes
    through an explicit path (load balancer, NAT gateway, firewall). nsg_rules: inbound/outbound rules in
    addition to the Azure defaults (VNet and load balancer in, everything else from the internet denied).
    routes: user-defined routes (next_hop_type VirtualAppliance needs next_hop_in_ip_address).
    bgp_route_propagation_enabled: propagate gateway routes into the route table.
    delegation: service delegation (e.g. Microsoft.ContainerInstance/containerGroups).
  EOT
  type = map(object({
    address_prefixes                  = list(string)
    service_endpoints                 = optional(list(string), [])
    private_endpoint_network_policies = optional(string, "Enabled")
    default_outbound_access_enabled   = optional(bool, false)
    bgp_route_propagation_enabled     = optional(bool, true)
    nsg_rules = optional(list(object({
      name                         = string
      priority                     = number
      direction                    = string
      access                       = string
      protocol                     = string
      description                  = string
      source_address_prefix        = optional(string)
      source_address_prefixes      = optional(list(string))
      source_port_range            = optional(string, "*")
      destination_address_prefix   = optional(string)
      destination_address_prefixes = optional(list(string))
      destination_port_ranges      = list(string)
    })), [])
    routes = optional(list(object({
      name                   = string
      address_prefix         = string
      next_hop_type          = string
      next_hop_in_ip_address = optional(string)
    })), [])
    delegation = optional(object({
      name    = string
      service = string
      actions = list(string)
    }))
  }))

  validation {
    condition     = length(var.subnets) > 0 && alltrue([for key in keys(var.subnets) : can(regex("^[a-z][a-z0-9-]{0,30}$", key))])
    error_message = "subnets must hold at least one subnet, keyed by 1-31 lowercase letters, digits or dashes."
  }

  validation {
    condition = alltrue(flatten([
      for subnet in values(var.subnets) : [for cidr in subnet.address_prefixes : can(cidrhost(cidr, 0)) && tonumber(split("/", cidr)[1]) <= 29]
    ]))
    error_message = "every address prefix must be a valid CIDR of /29 or larger (Azure reserves five addresses per subnet)."
  }

  validation {
    condition = alltrue([
      for subnet in values(var.subnets) :
      contains(["Enabled", "Disabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"], subnet.private_endpoint_network_policies)
    ])
    error_message = "private_endpoint_network_policies must be Enabled, Disabled, NetworkSecurityGroupEnabled or RouteTableEnabled."
  }

  validation {
    condition = alltrue(flatten([
      for subnet in values(var.subnets) : [
        for rule in subnet.nsg_rules :
        rule.priority >= 100 && rule.priority <= 4096
        && contains(["Inbound", "Outbound"], rule.direction)
        && contains(["Allow", "Deny"], rule.access)
        && contains(["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"], rule.protocol)
        && ((rule.source_address_prefix == null) != (rule.source_address_prefixes == null))
        && ((rule.destination_address_prefix == null) != (rule.destination_address_prefixes == null))
      ]
    ]))
    error_message = "each NSG rule needs a priority of 100-4096, direction Inbound or Outbound, access Allow or Deny, a protocol among Tcp, Udp, Icmp, Esp, Ah and *, and exactly one of source_address_prefix(es) and of destination_address_prefix(es)."
  }

  validation {
    condition = alltrue(flatten([
      for subnet in values(var.subnets) : [
        for rule in subnet.nsg_rules : alltrue([
          for prefix in concat(coalesce(rule.source_address_prefixes, []), coalesce(rule.destination_address_prefixes, [])) : can(cidrhost(prefix, 0))
        ])
      ]
    ]))
    error_message = "source_address_prefixes and destination_address_prefixes take CIDRs only; a service tag (Internet, AzureLoadBalancer) goes in source_address_prefix or destination_address_prefix."
  }

  validation {
    condition = alltrue(flatten([
      for subnet in values(var.subnets) : [
        for rule in subnet.nsg_rules :
        !(rule.direction == "Inbound" && rule.access == "Allow"
          && length(setintersection(
            toset(concat(rule.source_address_prefix == null ? [] : [rule.source_address_prefix], coalesce(rule.source_address_prefixes, []))),
            toset(["*", "0.0.0.0/0", "Internet", "Any"]),
          )) > 0
        && length(setintersection(toset(rule.destination_port_ranges), toset(["*", "22", "3389", "0-65535"]))) > 0)
      ]
    ]))
    error_message = "an NSG rule cannot allow SSH (22), RDP (3389) or every port in from the internet."
  }

  validation {
    condition = alltrue(flatten([
      for subnet in values(var.subnets) : [
        for route in subnet.routes :
        contains(["VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"], route.next_hop_type)
        && ((route.next_hop_type == "VirtualAppliance") == (route.next_hop_in_ip_address != null))
      ]
    ]))
    error_message = "route next_hop_type must be VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance or None; next_hop_in_ip_address is set exactly for VirtualAppliance."
  }
}

variable "tags" {
  description = "Tags for every resource (the naming module's tags output)."
  type        = map(string)
  default     = {}
}
