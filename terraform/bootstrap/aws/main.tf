# The Terraform state store of the AWS environments: one S3 bucket with a key per environment
# (versioned, encrypted with a rotated customer-managed KMS key, public access blocked,
# TLS-only, objects owned by the bucket owner, old versions expired) and, as the legacy lock, a
# DynamoDB table. Terraform 1.11's S3 backend locks with a lock file next to the state
# (use_lockfile = true in terraform/aws/backend/*.hcl) and needs no table.
#
# The environments may live in other accounts than this one: whoever runs Terraform for an
# environment needs s3:GetObject/PutObject/DeleteObject on its key (and key.tflock), and
# kms:Encrypt/Decrypt/GenerateDataKey on the key, granted in this account.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# Names (from the shared naming module) and the backend file of each environment.
module "backend" {
  source = "../../modules/aws/state-backend"

  project       = var.project
  region        = var.region
  unique_suffix = var.unique_suffix
  owner         = var.owner
  cost_center   = var.cost_center
  extra_tags    = var.extra_tags
  environments  = var.environments
}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  tags       = module.backend.tags
}

resource "aws_kms_key" "state" {
  description             = "${var.project}: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  # A key policy (not an IAM policy): Resource "*" means this key. The account administers the
  # key; who may read or write state is then decided by IAM policies in the account.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "state" {
  name          = module.backend.kms_alias
  target_key_id = aws_kms_key.state.key_id
}

# -- bucket -------------------------------------------------------------------------------------

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:Replaced state versions stay recoverable for 90 days (versioning); a replica needs a provider and key in a second region, added when the platform runs in two (see README).
  #checkov:skip=CKV_AWS_18:Reads and writes of the state are recorded by CloudTrail S3 data events (the account trail); server access logs would need a second bucket that cannot log itself.
  bucket = module.backend.bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-replaced-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days           = var.noncurrent_version_days
      newer_noncurrent_versions = 20 # the last 20 versions stay, however old
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

# Every change to the state is an event on EventBridge, for whoever audits or alerts on it.
resource "aws_s3_bucket_notification" "state" {
  bucket      = aws_s3_bucket.state.id
  eventbridge = true
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid     = "DenyNonTLS"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyTLSBelow12"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # An upload that asks for another encryption than KMS is refused; one that asks for none
  # gets the bucket's default (this key).
  statement {
    sid     = "DenyOtherEncryption"
    effect  = "Deny"
    actions = ["s3:PutObject"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = ["${aws_s3_bucket.state.arn}/*"]
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  # a policy on a bucket whose public access is not yet blocked could be judged public
  depends_on = [aws_s3_bucket_public_access_block.state]
}

# -- legacy lock table --------------------------------------------------------------------------

# The S3 backend's lock before Terraform 1.10 (dynamodb_table = ... in the backend config).
# The backend files use the native lock file instead; the table is kept for older Terraform
# and for a migration that holds both locks for a while. create_dynamodb_lock_table = false
# leaves it out.
resource "aws_dynamodb_table" "lock" {
  count = var.create_dynamodb_lock_table ? 1 : 0

  name                        = module.backend.lock_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID"
  deletion_protection_enabled = true

  attribute {
    name = "LockID"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.state.arn
  }

  point_in_time_recovery {
    enabled = true
  }
}
