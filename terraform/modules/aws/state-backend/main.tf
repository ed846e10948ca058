# Names of the AWS Terraform state store and the backend file of each environment, from the
# shared naming module: terraform/bootstrap/aws creates what these name, and the committed
# terraform/aws/backend/<env>.hcl must say the same (tests/ compares them). One bucket serves
# every environment (the naming module's "shared" environment), one key per environment.

module "store" {
  source = "../../naming"

  project       = var.project
  environment   = "shared"
  cloud         = "aws"
  region        = var.region
  unique_suffix = var.unique_suffix
  owner         = var.owner
  cost_center   = var.cost_center
  extra_tags    = var.extra_tags
}

module "environment" {
  source   = "../../naming"
  for_each = toset(var.environments)

  project     = var.project
  environment = each.value
  cloud       = "aws"
  region      = var.region
  owner       = var.owner
  cost_center = var.cost_center
}

locals {
  bucket     = module.store.names.state_bucket
  kms_alias  = "alias/${var.project}-tfstate"
  lock_table = "${var.project}-tfstate-lock"
  keys       = { for env, n in module.environment : env => n.names.state_key }

  backend_files = {
    for env, key in local.keys : env => join("\n", [
      "bucket       = \"${local.bucket}\"",
      "key          = \"${key}\"",
      "region       = \"${var.region}\"",
      "encrypt      = true",
      "kms_key_id   = \"${local.kms_alias}\"",
      "use_lockfile = true",
    ])
  }
}
