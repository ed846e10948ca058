# Partial backend configuration: terraform init -backend-config=backend/prod.hcl
# The state store is created by terraform/bootstrap/azure (output backend_configs).
resource_group_name  = "rg-shiprail-tfstate-weu"
storage_account_name = "stshiprailtfstatesr01"
container_name       = "tfstate-prod"
key                  = "shiprail/prod.tfstate"
use_azuread_auth     = true
