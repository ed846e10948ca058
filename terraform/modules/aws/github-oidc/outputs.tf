output "role_arn" {
  description = "Role for aws-actions/configure-aws-credentials (role-to-assume); the repository variable AWS_ROLE_ARN."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}

output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the role trusts."
  value       = local.provider_arn
}

output "subject" {
  description = "The exact sub claim the role accepts: the workflow job must run in this repository, environment and branch."
  value       = local.subject
}
