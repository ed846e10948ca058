output "state_bucket" {
  description = "Name of the state bucket."
  value       = aws_s3_bucket.state.bucket
}

output "state_bucket_arn" {
  description = "ARN of the state bucket (for the IAM policies of whoever runs Terraform)."
  value       = aws_s3_bucket.state.arn
}

output "kms_key_arn" {
  description = "Customer-managed key that encrypts the state."
  value       = aws_kms_key.state.arn
}

output "kms_key_alias" {
  description = "Alias of that key, as the backend files name it."
  value       = aws_kms_alias.state.name
}

output "lock_table" {
  description = "DynamoDB lock table (legacy lock; null when not created)."
  value       = var.create_dynamodb_lock_table ? aws_dynamodb_table.lock[0].name : null
}

output "backend_configs" {
  description = "The settings of terraform/aws/backend/<env>.hcl, by environment (the committed files must say the same)."
  value       = module.backend.backend_files
}
