# Subnet and NAT layout of a VPC, as plain values: the private subnets first (the large blocks,
# for nodes and pods), then the public subnets in the address space right after them, so the
# two never overlap whatever the prefix lengths. The vpc module creates the resources from it.

locals {
  az_count = length(var.azs)

  # The private subnets take up this many public-sized blocks: the public subnets start there.
  public_offset = local.az_count * pow(2, var.public_newbits - var.private_newbits)

  # The same test as the validation of var.public_newbits: when it fails, the plan stops on that
  # error, and nothing here calls cidrsubnet with numbers it would reject.
  fits = local.public_offset + local.az_count <= pow(2, var.public_newbits)

  private_subnets = local.fits ? [for i in range(local.az_count) : cidrsubnet(var.vpc_cidr, var.private_newbits, i)] : []
  public_subnets  = local.fits ? [for i in range(local.az_count) : cidrsubnet(var.vpc_cidr, var.public_newbits, local.public_offset + i)] : []

  # NAT gateways live in the public subnets; a private subnet routes through the one of its
  # own zone, or through the only one.
  nat_gateway_count = var.single_nat_gateway ? 1 : local.az_count
  private_nat_index = [for i in range(local.az_count) : var.single_nat_gateway ? 0 : i]
}
