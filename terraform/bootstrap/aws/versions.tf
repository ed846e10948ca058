terraform {
  # 1.10 brought the S3 backend's native lock file (use_lockfile), 1.11 made it generally
  # available: the roots that keep their state here need it.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # The state store cannot keep its own state before it exists: this configuration starts
  # with local state. Once applied, it may move in: add
  #   backend "s3" {}
  # here and run
  #   terraform init -migrate-state -backend-config=../../aws/backend/dev.hcl \
  #     -backend-config="key=shiprail/bootstrap.tfstate"
}
