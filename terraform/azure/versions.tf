terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.14"
    }
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
  }

  # Partial configuration, completed per environment:
  #   terraform init -backend-config=backend/<environment>.hcl
  backend "azurerm" {}
}

provider "azurerm" {
  features {}

  # The subscription comes from ARM_SUBSCRIPTION_ID; shared keys are disabled everywhere.
  storage_use_azuread = true
}

provider "azuread" {}
