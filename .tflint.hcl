# tflint for terraform/ (scripts/terraform-check.sh runs it in each Terraform directory).
# Only the ruleset bundled with tflint: provider rulesets are plugins, and plugins are not
# downloaded here. "all" adds naming, documentation and module-structure rules to the
# recommended preset.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
