# Repository settings that the cloud side relies on: protected main and dev branches (reviewed
# pull requests, green required checks, no force pushes, no deletions, admins included), GitHub
# Environments whose deployments need a reviewer and come only from the allowed branches, and
# the OIDC subject template whose claims (repository, environment, branch) the AWS role checks.

data "github_repository" "this" {
  name = var.repository
}

data "github_team" "reviewer" {
  for_each = toset(var.reviewer_teams)

  slug = each.value
}

data "github_user" "reviewer" {
  for_each = toset(var.reviewer_users)

  username = each.value
}

locals {
  reviewer_team_ids = [for t in data.github_team.reviewer : tonumber(t.id)]
  reviewer_user_ids = [for u in data.github_user.reviewer : tonumber(u.id)]

  subject_parts = {
    repo    = "repo:${data.github_repository.this.full_name}"
    context = "environment:<E>"
    ref     = "ref:refs/heads/<B>"
  }

  deployment_branches = merge([
    for env, e in var.environments : { for b in e.branches : "${env} ${b}" => { environment = env, branch = b } }
  ]...)
}

resource "github_branch_protection" "this" {
  for_each = var.protected_branches

  repository_id                   = data.github_repository.this.node_id
  pattern                         = each.value
  enforce_admins                  = true
  allows_deletions                = false
  allows_force_pushes             = false
  required_linear_history         = true
  require_conversation_resolution = true
  require_signed_commits          = var.require_signed_commits

  required_status_checks {
    strict   = true # the branch must be up to date with its base before it merges
    contexts = var.required_status_checks
  }

  required_pull_request_reviews {
    required_approving_review_count = var.required_approvals
    dismiss_stale_reviews           = true
    require_code_owner_reviews      = var.require_code_owner_reviews
    require_last_push_approval      = true
  }
}

resource "github_repository_environment" "this" {
  for_each = var.environments

  repository          = data.github_repository.this.name
  environment         = each.key
  wait_timer          = each.value.wait_timer
  can_admins_bypass   = false
  prevent_self_review = true

  dynamic "reviewers" {
    for_each = each.value.require_reviewers ? [1] : []
    content {
      teams = local.reviewer_team_ids
      users = local.reviewer_user_ids
    }
  }

  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }
}

resource "github_repository_environment_deployment_policy" "this" {
  for_each = local.deployment_branches

  repository     = data.github_repository.this.name
  environment    = github_repository_environment.this[each.value.environment].environment
  branch_pattern = each.value.branch
}

resource "github_actions_repository_oidc_subject_claim_customization_template" "this" {
  repository         = data.github_repository.this.name
  use_default        = false
  include_claim_keys = var.oidc_subject_claim_keys
}
