# Names per cloud and environment, within each resource's length and character limits.

variables {
  project     = "shiprail"
  environment = "dev"
  cloud       = "azure"
  region      = "westeurope"
  owner       = "platform"
  cost_center = "cc-1234"
}

run "azure_names" {
  command = plan

  assert {
    condition     = output.prefix == "shiprail-dev" && output.region_code == "weu"
    error_message = "prefix or region code is wrong: ${output.prefix} ${output.region_code}"
  }

  assert {
    condition     = output.names.resource_group == "rg-shiprail-dev-weu"
    error_message = "resource group name: ${output.names.resource_group}"
  }

  assert {
    condition     = output.names.kubernetes_cluster == "aks-shiprail-dev-weu" && length(output.names.kubernetes_cluster) <= 63
    error_message = "AKS name: ${output.names.kubernetes_cluster}"
  }

  assert {
    condition     = output.names.container_registry == "crshipraildevweu"
    error_message = "ACR name: ${output.names.container_registry}"
  }

  assert {
    condition     = output.names.storage_account == "stshipraildevweu"
    error_message = "storage account name: ${output.names.storage_account}"
  }

  assert {
    condition     = output.names.state_container == "tfstate-dev" && output.names.state_key == "shiprail/dev.tfstate"
    error_message = "state container or key: ${output.names.state_container} ${output.names.state_key}"
  }

  assert {
    condition     = output.argocd_cluster_labels["shiprail.dev/cloud"] == "aks" && output.argocd_cluster_labels["shiprail.dev/environment"] == "dev"
    error_message = "Argo CD labels are wrong."
  }
}

run "azure_globally_unique_names_fit_their_limits" {
  command = plan

  variables {
    project       = "workorders-api-x"
    environment   = "stage"
    region        = "germanywestcentral"
    unique_suffix = "a1b2c3"
  }

  # storage accounts: 3-24 lowercase letters and digits; the suffix is kept whole
  assert {
    condition     = can(regex("^[a-z0-9]{3,24}$", output.names.storage_account)) && endswith(output.names.storage_account, "a1b2c3")
    error_message = "storage account name breaks the limits: ${output.names.storage_account}"
  }

  assert {
    condition     = output.names.storage_account == "stworkordersstggwca1b2c3"
    error_message = "storage account name: ${output.names.storage_account}"
  }

  assert {
    condition     = can(regex("^[a-z0-9]{3,24}$", output.names.state_storage_account)) && endswith(output.names.state_storage_account, "a1b2c3")
    error_message = "state storage account name breaks the limits: ${output.names.state_storage_account}"
  }

  # ACR: 5-50 letters and digits
  assert {
    condition     = can(regex("^[a-z0-9]{5,50}$", output.names.container_registry))
    error_message = "ACR name breaks the limits: ${output.names.container_registry}"
  }

  assert {
    condition     = output.names.container_registry == "crworkordersapixstggwca1b2c3"
    error_message = "ACR name: ${output.names.container_registry}"
  }

  assert {
    condition = alltrue([
      length(output.names.kubernetes_cluster) <= 63,
      length(output.names.kubernetes_dns_prefix) <= 54,
      length(output.names.log_analytics_workspace) <= 63,
      length(output.names.virtual_network) <= 64,
      length(output.names.resource_group) <= 90,
      length(output.names.node_resource_group) <= 80,
    ])
    error_message = "an Azure name is over its limit"
  }
}

run "environments_never_share_a_globally_unique_name" {
  command = plan

  variables {
    project       = "a-sixteen-chars1"
    environment   = "prod"
    region        = "switzerlandnorth"
    unique_suffix = "zz9999"
  }

  assert {
    condition     = output.names.storage_account == "stasixteenchprdsznzz9999" && output.names.container_registry == "crasixteenchars1prdsznzz9999"
    error_message = "long names: ${output.names.storage_account} ${output.names.container_registry}"
  }

  assert {
    condition     = output.names.state_storage_account == "stasixteenctfstatezz9999"
    error_message = "state account: ${output.names.state_storage_account}"
  }
}

run "azure_unknown_location_still_gets_a_code" {
  command = plan

  variables {
    region = "mexicocentral"
  }

  assert {
    condition     = output.region_code == "mexico" && output.names.resource_group == "rg-shiprail-dev-mexico"
    error_message = "fallback region code: ${output.region_code}"
  }
}

run "aws_names" {
  command = plan

  variables {
    cloud         = "aws"
    region        = "eu-west-1"
    environment   = "prod"
    unique_suffix = "x9"
  }

  assert {
    condition     = output.region_code == "euw1"
    error_message = "AWS region code: ${output.region_code}"
  }

  assert {
    condition     = output.names.kubernetes_cluster == "shiprail-prod" && output.names.github_role == "shiprail-prod-github-actions"
    error_message = "EKS or IAM role name: ${output.names.kubernetes_cluster} ${output.names.github_role}"
  }

  # S3: 3-63 lowercase letters, digits, dashes; starts and ends with a letter or digit
  assert {
    condition     = output.names.state_bucket == "shiprail-tfstate-euw1-x9"
    error_message = "state bucket: ${output.names.state_bucket}"
  }

  assert {
    condition = alltrue([
      for bucket in [output.names.state_bucket, output.names.log_bucket] :
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", bucket)) && !startswith(bucket, "xn--") && !endswith(bucket, "-s3alias")
    ])
    error_message = "an S3 bucket name breaks the S3 rules"
  }

  assert {
    condition     = output.argocd_cluster_labels["shiprail.dev/cloud"] == "eks"
    error_message = "EKS clusters are labelled eks."
  }
}

run "aws_region_codes" {
  command = plan

  variables {
    cloud  = "aws"
    region = "ap-southeast-2"
  }

  assert {
    condition     = output.region_code == "apse2" && output.names.state_bucket == "shiprail-tfstate-apse2"
    error_message = "AWS region code: ${output.region_code} ${output.names.state_bucket}"
  }
}

run "every_environment_has_a_distinct_registry_name" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition     = output.names.container_registry == "crshiprailprdweu"
    error_message = "prod ACR name: ${output.names.container_registry}"
  }
}

# ---------------------------------------------------------------- validation failures

run "project_with_uppercase_is_refused" {
  command = plan

  variables {
    project = "ShipRail"
  }

  expect_failures = [var.project]
}

run "project_too_long_is_refused" {
  command = plan

  variables {
    project = "a-project-name-longer-than-16"
  }

  expect_failures = [var.project]
}

run "project_with_double_dash_is_refused" {
  command = plan

  variables {
    project = "ship--rail"
  }

  expect_failures = [var.project]
}

run "unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "qa"
  }

  expect_failures = [var.environment]
}

run "unknown_cloud_is_refused" {
  command = plan

  variables {
    cloud = "gcp"
  }

  expect_failures = [var.cloud]
}

run "aws_region_on_azure_is_refused" {
  command = plan

  variables {
    region = "eu-west-1"
  }

  expect_failures = [var.region]
}

run "azure_location_on_aws_is_refused" {
  command = plan

  variables {
    cloud  = "aws"
    region = "westeurope"
  }

  expect_failures = [var.region]
}

run "suffix_with_uppercase_or_too_long_is_refused" {
  command = plan

  variables {
    unique_suffix = "ABCDEFG"
  }

  expect_failures = [var.unique_suffix]
}
