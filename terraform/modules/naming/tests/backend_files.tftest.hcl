# The committed backend files of terraform/azure name the state store that
# terraform/bootstrap/azure creates from the same naming module: they must not drift apart.

variables {
  project       = "shiprail"
  cloud         = "azure"
  region        = "westeurope"
  unique_suffix = "sr01" # terraform/bootstrap/azure/terraform.tfvars
  owner         = "platform"
  cost_center   = "platform"
}

run "dev_backend_file" {
  command = plan

  variables {
    environment = "dev"
  }

  assert {
    condition = alltrue([
      for line in [
        "resource_group_name  = \"${output.names.state_resource_group}\"",
        "storage_account_name = \"${output.names.state_storage_account}\"",
        "container_name       = \"${output.names.state_container}\"",
        "key                  = \"${output.names.state_key}\"",
        "use_azuread_auth     = true",
      ] : strcontains(file("../../azure/backend/dev.hcl"), line)
    ])
    error_message = "terraform/azure/backend/dev.hcl does not name ${output.names.state_storage_account}/${output.names.state_container}/${output.names.state_key}"
  }
}

run "stage_backend_file" {
  command = plan

  variables {
    environment = "stage"
  }

  assert {
    condition = alltrue([
      for line in [
        "resource_group_name  = \"${output.names.state_resource_group}\"",
        "storage_account_name = \"${output.names.state_storage_account}\"",
        "container_name       = \"${output.names.state_container}\"",
        "key                  = \"${output.names.state_key}\"",
        "use_azuread_auth     = true",
      ] : strcontains(file("../../azure/backend/stage.hcl"), line)
    ])
    error_message = "terraform/azure/backend/stage.hcl does not name ${output.names.state_storage_account}/${output.names.state_container}/${output.names.state_key}"
  }
}

run "prod_backend_file" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition = alltrue([
      for line in [
        "resource_group_name  = \"${output.names.state_resource_group}\"",
        "storage_account_name = \"${output.names.state_storage_account}\"",
        "container_name       = \"${output.names.state_container}\"",
        "key                  = \"${output.names.state_key}\"",
        "use_azuread_auth     = true",
      ] : strcontains(file("../../azure/backend/prod.hcl"), line)
    ])
    error_message = "terraform/azure/backend/prod.hcl does not name ${output.names.state_storage_account}/${output.names.state_container}/${output.names.state_key}"
  }
}
