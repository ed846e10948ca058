terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.14"
    }
  }

  # The state of the state store stays local (terraform.tfstate beside this file, kept by the
  # platform team): it holds no secret, and the store cannot keep its own state before it exists.
}

provider "azurerm" {
  features {
    storage {
      # The account is key-less and closed to public networks: Terraform manages it and its
      # containers through Azure Resource Manager only, never through the blob endpoint.
      data_plane_available = false
    }
  }

  # Any data-plane call left uses Entra ID tokens (shared keys are disabled on the account).
  storage_use_azuread = true
}
