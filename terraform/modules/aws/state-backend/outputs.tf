output "bucket" {
  description = "Name of the state bucket."
  value       = local.bucket
}

output "kms_alias" {
  description = "Alias of the KMS key that encrypts the state."
  value       = local.kms_alias
}

output "lock_table" {
  description = "Name of the legacy DynamoDB lock table."
  value       = local.lock_table
}

output "keys" {
  description = "State object key of each environment."
  value       = local.keys
}

output "backend_files" {
  description = "The settings lines of terraform/aws/backend/<env>.hcl, by environment."
  value       = local.backend_files
}

output "tags" {
  description = "Tags of the state store (the naming module's, environment shared)."
  value       = module.store.tags
}
