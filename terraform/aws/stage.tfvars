# stage: production's shape at a smaller size; deployed from main after a reviewer approves.
environment        = "stage"
region             = "eu-west-1"
azs                = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.30.0.0/16"
single_nat_gateway = false

node_groups = {
  on-demand = {
    instance_types = ["m6i.large"]
    min_size       = 2
    max_size       = 4
    desired_size   = 2
  }
  spot = {
    capacity_type  = "SPOT"
    instance_types = ["m6i.large", "m6a.large", "m5.large", "m5a.large", "m7i.large"]
    min_size       = 0
    max_size       = 6
    desired_size   = 1
  }
}

github_repository  = "shiprail/shiprail"
github_branch      = "main"
github_environment = "stage"

owner       = "platform"
cost_center = "platform"
