# dev: one NAT gateway, small node groups; deployed from the dev branch.
environment        = "dev"
region             = "eu-west-1"
azs                = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.20.0.0/16"
single_nat_gateway = true

node_groups = {
  on-demand = {
    instance_types = ["m6i.large"]
    min_size       = 1
    max_size       = 3
    desired_size   = 1
  }
  spot = {
    capacity_type  = "SPOT"
    instance_types = ["m6i.large", "m6a.large", "m5.large", "m5a.large"]
    min_size       = 0
    max_size       = 4
    desired_size   = 1
  }
}

github_repository  = "shiprail/shiprail"
github_branch      = "dev"
github_environment = "dev"

owner       = "platform"
cost_center = "platform-dev"
