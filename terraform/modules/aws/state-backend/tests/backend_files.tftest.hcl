# The committed backend files of terraform/aws must name the bucket, key and key alias that
# terraform/bootstrap/aws creates (from this module, with terraform/bootstrap/aws/terraform.tfvars).

variables {
  project       = "shiprail"
  region        = "eu-west-1"
  unique_suffix = "sr01"
}

run "names_follow_the_naming_module" {
  command = plan

  assert {
    condition     = output.bucket == "shiprail-tfstate-euw1-sr01"
    error_message = "state bucket: ${output.bucket}"
  }

  assert {
    condition     = output.keys == { dev = "shiprail/dev.tfstate", stage = "shiprail/stage.tfstate", prod = "shiprail/prod.tfstate" }
    error_message = "state keys: ${jsonencode(output.keys)}"
  }
}

run "committed_backend_files_match" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for env in ["dev", "stage", "prod"] : [
        for line in split("\n", output.backend_files[env]) : strcontains(file("../../../aws/backend/${env}.hcl"), line)
      ]
    ]))
    error_message = "terraform/aws/backend/*.hcl differ from: ${jsonencode(output.backend_files)}"
  }
}

run "only_known_environments" {
  command = plan

  variables {
    environments = ["dev", "qa"]
  }

  expect_failures = [var.environments]
}
