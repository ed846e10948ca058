# CIDR planning: a VPC/VNet CIDR and its zones -> public, private and app subnets.

variables {
  project     = "shiprail"
  environment = "dev"
  cloud       = "aws"
  region      = "eu-west-1"
  owner       = "platform"
  cost_center = "cc-1234"
}

run "slash_16_over_three_aws_zones" {
  command = plan

  variables {
    network_cidr = "10.20.0.0/16"
  }

  assert {
    condition     = output.availability_zones == tolist(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    error_message = "default AWS zones: ${jsonencode(output.availability_zones)}"
  }

  assert {
    condition     = output.private_subnets == tolist(["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"])
    error_message = "private subnets: ${jsonencode(output.private_subnets)}"
  }

  assert {
    condition     = output.app_subnets == tolist(["10.20.128.0/20", "10.20.144.0/20", "10.20.160.0/20"])
    error_message = "app subnets: ${jsonencode(output.app_subnets)}"
  }

  assert {
    condition     = output.public_subnets == tolist(["10.20.192.0/21", "10.20.200.0/21", "10.20.208.0/21"])
    error_message = "public subnets: ${jsonencode(output.public_subnets)}"
  }

  assert {
    condition = output.network.tiers == {
      private = "10.20.0.0/17"
      app     = "10.20.128.0/18"
      public  = "10.20.192.0/19"
    }
    error_message = "tiers: ${jsonencode(output.network.tiers)}"
  }

  assert {
    condition     = output.network.spare == "10.20.224.0/19"
    error_message = "spare block: ${output.network.spare}"
  }

  assert {
    condition = output.network.subnets_by_zone["eu-west-1b"] == {
      private = "10.20.32.0/19"
      app     = "10.20.144.0/20"
      public  = "10.20.200.0/21"
    }
    error_message = "subnets of zone b: ${jsonencode(output.network.subnets_by_zone["eu-west-1b"])}"
  }
}

run "subnets_do_not_overlap_and_stay_inside_the_network" {
  command = plan

  variables {
    network_cidr = "10.20.0.0/16"
  }

  # nine distinct subnets, each aligned on its own size and inside the network
  assert {
    condition     = length(distinct(concat(output.private_subnets, output.app_subnets, output.public_subnets))) == 9
    error_message = "subnets repeat"
  }

  assert {
    condition = alltrue([
      for subnet in concat(output.private_subnets, output.app_subnets, output.public_subnets) :
      cidrhost(subnet, 0) == split("/", subnet)[0]
      && cidrsubnet("${split("/", subnet)[0]}/16", 0, 0) == "10.20.0.0/16"
    ])
    error_message = "a subnet is misaligned or lies outside 10.20.0.0/16"
  }

  # the tiers, in order, tile the network without a gap or an overlap
  assert {
    condition = (
      cidrhost(output.network.tiers.private, -1) == "10.20.127.255"
      && cidrhost(output.network.tiers.app, 0) == "10.20.128.0"
      && cidrhost(output.network.tiers.app, -1) == "10.20.191.255"
      && cidrhost(output.network.tiers.public, 0) == "10.20.192.0"
      && cidrhost(output.network.tiers.public, -1) == "10.20.223.255"
      && cidrhost(output.network.spare, 0) == "10.20.224.0"
    )
    error_message = "tiers overlap or leave a gap"
  }
}

run "slash_20_vnet_over_azure_zones" {
  command = plan

  variables {
    cloud        = "azure"
    region       = "westeurope"
    network_cidr = "10.1.16.0/20"
  }

  assert {
    condition     = output.availability_zones == tolist(["1", "2", "3"])
    error_message = "default Azure zones: ${jsonencode(output.availability_zones)}"
  }

  assert {
    condition     = output.private_subnets == tolist(["10.1.16.0/23", "10.1.18.0/23", "10.1.20.0/23"])
    error_message = "private subnets: ${jsonencode(output.private_subnets)}"
  }

  assert {
    condition     = output.app_subnets == tolist(["10.1.24.0/24", "10.1.25.0/24", "10.1.26.0/24"])
    error_message = "app subnets: ${jsonencode(output.app_subnets)}"
  }

  assert {
    condition     = output.public_subnets == tolist(["10.1.28.0/25", "10.1.28.128/25", "10.1.29.0/25"])
    error_message = "public subnets: ${jsonencode(output.public_subnets)}"
  }

  assert {
    condition     = output.network.tiers.private == "10.1.16.0/21" && output.network.tiers.app == "10.1.24.0/22"
    error_message = "Azure tiers: ${jsonencode(output.network.tiers)}"
  }
}

run "four_zones_use_every_slot" {
  command = plan

  variables {
    network_cidr       = "172.16.0.0/16"
    availability_zones = ["use1-az1", "use1-az2", "use1-az4", "use1-az6"]
    region             = "us-east-1"
  }

  assert {
    condition     = output.private_subnets[3] == "172.16.96.0/19" && output.public_subnets[3] == "172.16.216.0/21"
    error_message = "fourth zone: ${output.private_subnets[3]} ${output.public_subnets[3]}"
  }
}

run "no_cidr_no_plan" {
  command = plan

  assert {
    condition     = output.network == null && output.private_subnets == []
    error_message = "without network_cidr there is no plan"
  }
}

# ---------------------------------------------------------------- validation failures

run "host_bits_set_is_refused" {
  command = plan

  variables {
    network_cidr = "10.20.1.0/16"
  }

  expect_failures = [var.network_cidr]
}

run "network_too_small_is_refused" {
  command = plan

  variables {
    network_cidr = "10.20.0.0/24"
  }

  expect_failures = [var.network_cidr]
}

run "network_too_large_is_refused" {
  command = plan

  variables {
    network_cidr = "10.0.0.0/8"
  }

  expect_failures = [var.network_cidr]
}

run "not_a_cidr_is_refused" {
  command = plan

  variables {
    network_cidr = "10.20.0.0"
  }

  expect_failures = [var.network_cidr]
}

run "ipv6_is_refused" {
  command = plan

  variables {
    network_cidr = "fd00::/48"
  }

  expect_failures = [var.network_cidr]
}

run "one_zone_is_refused" {
  command = plan

  variables {
    network_cidr       = "10.20.0.0/16"
    availability_zones = ["eu-west-1a"]
  }

  expect_failures = [var.availability_zones]
}

run "five_zones_are_refused" {
  command = plan

  variables {
    network_cidr       = "10.20.0.0/16"
    availability_zones = ["a", "b", "c", "d", "e"]
  }

  expect_failures = [var.availability_zones]
}

run "repeated_zone_is_refused" {
  command = plan

  variables {
    network_cidr       = "10.20.0.0/16"
    availability_zones = ["eu-west-1a", "eu-west-1a", "eu-west-1b"]
  }

  expect_failures = [var.availability_zones]
}
