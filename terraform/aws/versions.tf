terraform {
  # use_lockfile in the S3 backend (the native state lock) is generally available from 1.11
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # Partial configuration, one file per environment:
  #   terraform init -backend-config=backend/dev.hcl
  backend "s3" {}
}
