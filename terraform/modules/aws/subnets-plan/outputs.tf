output "private_subnets" {
  description = "Private subnet CIDR blocks, one per availability zone, in the order of var.azs."
  value       = local.private_subnets
}

output "public_subnets" {
  description = "Public subnet CIDR blocks, one per availability zone, in the order of var.azs."
  value       = local.public_subnets
}

output "nat_gateway_count" {
  description = "Number of NAT gateways: 1 with single_nat_gateway, else one per availability zone."
  value       = local.nat_gateway_count
}

output "private_nat_index" {
  description = "For each private subnet (order of var.azs), the index of the NAT gateway its route table uses."
  value       = tolist(local.private_nat_index)
}
