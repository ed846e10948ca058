# terraform init -backend-config=backend/dev.hcl && terraform plan -var-file=dev.tfvars
# admin_group_object_ids, disk_encryption_set_id and github_repository come from TF_VAR_*.
environment   = "dev"
unique_suffix = "sr01"
network_cidr  = "10.10.0.0/16"

sku_tier = "Standard"

system_node_pool = {
  vm_size   = "Standard_D2ds_v5"
  min_count = 1
  max_count = 2
}

user_node_pools = {
  apps = {
    vm_size   = "Standard_D4ds_v5"
    min_count = 1
    max_count = 3
  }
}

log_retention_days = 90
acr_retention_days = 7
