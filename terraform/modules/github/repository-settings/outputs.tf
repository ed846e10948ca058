output "protected_branches" {
  description = "Branches under protection."
  value       = [for p in github_branch_protection.this : p.pattern]
}

output "environments" {
  description = "GitHub Environments and the branches allowed to deploy to each."
  value       = { for name, e in var.environments : name => e.branches }
}

output "oidc_subject_example" {
  description = "The sub claim of a job in environment <E> on branch <B> (with the default claim keys: what modules/aws/github-oidc expects)."
  value       = join(":", [for k in var.oidc_subject_claim_keys : lookup(local.subject_parts, k, "${k}:<${k}>")])
}
