terraform {
  # 1.11: the AWS modules ask for it
  required_version = ">= 1.11"

  # No required_providers here: this module creates nothing itself. The providers and their
  # pins come from ../aws/* (hashicorp/aws ~> 5.80) and ../azure/* (hashicorp/azurerm ~> 4.14).
  # Terraform installs and configures both clouds' providers whichever cloud is chosen: a
  # module behind count = 0 is still part of the configuration.
}
