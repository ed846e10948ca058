provider "aws" {
  region = var.region

  # Applying one environment's variables with another account's credentials stops here.
  allowed_account_ids = length(var.allowed_account_ids) > 0 ? var.allowed_account_ids : null

  # The one tag set: every resource the provider creates gets it. Modules receive the same
  # local.tags for what default_tags does not reach (instances and volumes that node groups
  # launch, through their launch templates).
  default_tags {
    tags = local.tags
  }
}
