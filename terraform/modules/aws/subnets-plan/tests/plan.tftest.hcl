# terraform test: the subnet and NAT layout, offline (this module has no provider).

variables {
  vpc_cidr = "10.20.0.0/16"
  azs      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "three_zones_on_a_16" {
  command = plan

  assert {
    condition     = output.private_subnets == tolist(["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"])
    error_message = "private subnets: ${jsonencode(output.private_subnets)}"
  }

  assert {
    condition     = output.public_subnets == tolist(["10.20.48.0/24", "10.20.49.0/24", "10.20.50.0/24"])
    error_message = "public subnets: ${jsonencode(output.public_subnets)}"
  }

  assert {
    condition     = output.nat_gateway_count == 3 && output.private_nat_index == tolist([0, 1, 2])
    error_message = "one NAT gateway per zone by default"
  }
}

run "subnets_are_consecutive_and_never_overlap" {
  command = plan

  variables {
    vpc_cidr        = "10.0.0.0/20"
    private_newbits = 3
    public_newbits  = 6
  }

  assert {
    # cidrsubnets allocates consecutive blocks that never overlap: the same layout, found
    # independently of the module's arithmetic
    condition     = concat(output.private_subnets, output.public_subnets) == cidrsubnets("10.0.0.0/20", 3, 3, 3, 6, 6, 6)
    error_message = "subnets overlap or leave gaps: ${jsonencode(concat(output.private_subnets, output.public_subnets))}"
  }

  assert {
    condition     = output.private_subnets == tolist(["10.0.0.0/23", "10.0.2.0/23", "10.0.4.0/23"]) && output.public_subnets == tolist(["10.0.6.0/26", "10.0.6.64/26", "10.0.6.128/26"])
    error_message = "a /20 with 3 and 6 new bits: ${jsonencode(concat(output.private_subnets, output.public_subnets))}"
  }
}

run "single_nat_gateway" {
  command = plan

  variables {
    single_nat_gateway = true
  }

  assert {
    condition     = output.nat_gateway_count == 1 && output.private_nat_index == tolist([0, 0, 0])
    error_message = "every private subnet routes through the one NAT gateway"
  }
}

run "six_zones_still_fit" {
  command = plan

  variables {
    azs = ["a", "b", "c", "d", "e", "f"]
  }

  assert {
    condition     = length(output.private_subnets) == 6 && output.public_subnets[5] == "10.20.101.0/24"
    error_message = "six zones: ${jsonencode(output.public_subnets)}"
  }
}

run "public_subnets_larger_than_private_are_refused" {
  command = plan

  variables {
    private_newbits = 8
    public_newbits  = 4
  }

  expect_failures = [var.public_newbits]
}

run "subnets_that_do_not_fit_are_refused" {
  command = plan

  variables {
    vpc_cidr        = "10.0.0.0/24"
    private_newbits = 1
    public_newbits  = 4
  }

  expect_failures = [var.public_newbits]
}

run "one_zone_is_refused" {
  command = plan

  variables {
    azs = ["eu-west-1a"]
  }

  expect_failures = [var.azs]
}

run "a_vpc_larger_than_16_is_refused" {
  command = plan

  variables {
    vpc_cidr = "10.0.0.0/8"
  }

  expect_failures = [var.vpc_cidr]
}
