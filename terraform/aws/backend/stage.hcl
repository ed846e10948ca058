# Partial S3 backend configuration of stage: terraform init -backend-config=backend/stage.hcl
# The bucket, key alias and (legacy) lock table are made by terraform/bootstrap/aws, whose
# backend_configs output prints these settings; modules/aws/state-backend's test compares them.
bucket       = "shiprail-tfstate-euw1-sr01"
key          = "shiprail/stage.tfstate"
region       = "eu-west-1"
encrypt      = true
kms_key_id   = "alias/shiprail-tfstate"
use_lockfile = true

# use_lockfile: the native lock file next to the state (Terraform >= 1.10). The legacy lock,
# for older Terraform or while migrating (both locks are then taken):
# dynamodb_table = "shiprail-tfstate-lock"
