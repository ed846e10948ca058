# terraform init -backend-config=backend/prod.hcl && terraform plan -var-file=prod.tfvars
# admin_group_object_ids, disk_encryption_set_id and github_repository come from TF_VAR_*.
environment   = "prod"
unique_suffix = "sr01"
network_cidr  = "10.30.0.0/16"

system_node_pool = {
  vm_size   = "Standard_D4ds_v5"
  min_count = 3
  max_count = 5
}

user_node_pools = {
  apps = {
    vm_size   = "Standard_D8ds_v5"
    min_count = 3
    max_count = 10
  }
}

log_retention_days = 365
acr_retention_days = 30
