# GitHub Actions to AWS without a stored key: the account trusts GitHub's OIDC issuer, and one
# role accepts tokens of one repository, one branch and one GitHub Environment only (the token's
# sub claim), for the sts.amazonaws.com audience. The role can push images to the given ECR
# repositories and describe the given EKS clusters, nothing else. No IAM user, no access key.

locals {
  issuer_host = "token.actions.githubusercontent.com"

  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.oidc_provider_arn

  # The token's sub claim. GitHub's default for a job in an environment is
  # "repo:OWNER/NAME:environment:ENV"; with the claim keys repo, context and ref it becomes
  # "repo:OWNER/NAME:environment:ENV:ref:refs/heads/BRANCH".
  subject = join(":", concat(
    ["repo", var.github_repository, "environment", var.github_environment],
    var.subject_includes_ref ? ["ref", "refs/heads/${var.github_branch}"] : [],
  ))
}

data "tls_certificate" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url = "https://${local.issuer_host}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url             = "https://${local.issuer_host}"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = distinct(data.tls_certificate.github[0].certificates[*].sha1_fingerprint)
  tags            = merge(var.tags, { Name = "github-actions" })
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "GitHubActionsOfOneRepositoryBranchAndEnvironment"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:sub"
      values   = [local.subject]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "GitHub Actions: ${local.subject}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the registry login takes no resource
  }

  statement {
    sid = "EcrPushAndReadBack"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:DescribeImages",
    ]
    resources = var.ecr_repository_arns
  }

  dynamic "statement" {
    for_each = length(var.eks_cluster_arns) > 0 ? [1] : []
    content {
      sid       = "EksDescribe"
      actions   = ["eks:DescribeCluster"]
      resources = var.eks_cluster_arns
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "ecr-push-eks-describe"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}
