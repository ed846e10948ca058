output "repository_urls" {
  description = "Repository URLs by name (the chart's image.repository; ECR_REGISTRY, where ci.yml's publish job pushes, is the part before the first /)."
  value       = { for name, r in aws_ecr_repository.this : name => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs by name (the CI role may push to these)."
  value       = { for name, r in aws_ecr_repository.this : name => r.arn }
}

output "registry_id" {
  description = "Account ID of the registry."
  value       = local.account_id
}

output "kms_key_arn" {
  description = "Customer-managed key that encrypts the images."
  value       = aws_kms_key.this.arn
}
