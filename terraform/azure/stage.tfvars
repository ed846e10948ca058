# terraform init -backend-config=backend/stage.hcl && terraform plan -var-file=stage.tfvars
# admin_group_object_ids, disk_encryption_set_id and github_repository come from TF_VAR_*.
environment   = "stage"
unique_suffix = "sr01"
network_cidr  = "10.20.0.0/16"

system_node_pool = {
  vm_size   = "Standard_D4ds_v5"
  min_count = 2
  max_count = 3
}

user_node_pools = {
  apps = {
    vm_size   = "Standard_D4ds_v5"
    min_count = 2
    max_count = 4
  }
}

log_retention_days = 180
acr_retention_days = 14
