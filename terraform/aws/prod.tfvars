# prod: a NAT gateway per zone, on-demand capacity for the baseline, spot for bursts;
# deployed from main after a reviewer approves.
environment        = "prod"
region             = "eu-west-1"
azs                = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.40.0.0/16"
single_nat_gateway = false

node_groups = {
  on-demand = {
    instance_types = ["m6i.xlarge"]
    min_size       = 3
    max_size       = 6
    desired_size   = 3
    disk_size_gb   = 80
  }
  spot = {
    capacity_type  = "SPOT"
    instance_types = ["m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m5a.xlarge", "m7i.xlarge"]
    min_size       = 0
    max_size       = 10
    desired_size   = 2
    disk_size_gb   = 80
  }
}

github_repository  = "shiprail/shiprail"
github_branch      = "main"
github_environment = "prod"

owner       = "platform"
cost_center = "platform"
