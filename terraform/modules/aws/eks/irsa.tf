# The cluster's IAM OIDC provider and the roles of three service accounts (IRSA): the VPC CNI,
# the EBS CSI controller and the cluster autoscaler. Each role trusts exactly one
# namespace/service-account of this cluster.

data "tls_certificate" "oidc" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.oidc.certificates[0].sha1_fingerprint]
  tags            = merge(var.tags, { Name = "${var.name}-irsa" })
}

locals {
  oidc_issuer = trimprefix(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")

  service_accounts = {
    vpc-cni = {
      namespace       = "kube-system"
      service_account = "aws-node"
      policy_arns     = ["arn:${local.partition}:iam::aws:policy/AmazonEKS_CNI_Policy"]
    }
    ebs-csi = {
      namespace       = "kube-system"
      service_account = "ebs-csi-controller-sa"
      policy_arns     = ["arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    }
    cluster-autoscaler = {
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
      policy_arns     = []
    }
  }

  service_account_policies = merge([
    for role, sa in local.service_accounts : {
      for arn in sa.policy_arns : "${role} ${arn}" => { role = role, policy_arn = arn }
    }
  ]...)
}

data "aws_iam_policy_document" "service_account_assume" {
  for_each = local.service_accounts

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.this.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "service_account" {
  for_each = local.service_accounts

  name               = "${var.name}-${each.key}"
  description        = "${each.value.namespace}/${each.value.service_account} on EKS cluster ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.service_account_assume[each.key].json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "service_account" {
  for_each = local.service_account_policies

  role       = aws_iam_role.service_account[each.value.role].name
  policy_arn = each.value.policy_arn
}

# Cluster autoscaler: read the groups, and resize only this cluster's managed node groups.
data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    resources = ["*"] # describe calls take no resource
  }

  statement {
    sid       = "ReadNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${local.partition}:eks:${local.region}:${local.account_id}:nodegroup/${var.name}/*/*"]
  }

  statement {
    sid       = "ScaleThisClustersGroups"
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/eks-*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role_policy" "cluster_autoscaler" {
  name   = "cluster-autoscaler"
  role   = aws_iam_role.service_account["cluster-autoscaler"].id
  policy = data.aws_iam_policy_document.cluster_autoscaler.json
}

locals {
  # Values for the cluster-autoscaler Helm chart (kubernetes/autoscaler), to install with Argo CD
  # or helm: the service account is annotated with its role, and discovery is by cluster name.
  cluster_autoscaler_values = {
    cloudProvider    = "aws"
    awsRegion        = local.region
    fullnameOverride = "cluster-autoscaler"
    autoDiscovery    = { clusterName = aws_eks_cluster.this.name }
    image            = { tag = var.cluster_autoscaler_image_tag }
    rbac = {
      create = true
      serviceAccount = {
        create      = true
        name        = local.service_accounts["cluster-autoscaler"].service_account
        annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.service_account["cluster-autoscaler"].arn }
      }
    }
    extraArgs = {
      "balance-similar-node-groups"   = true
      "expander"                      = "least-waste"
      "skip-nodes-with-system-pods"   = false
      "skip-nodes-with-local-storage" = false
    }
    priorityClassName = "system-cluster-critical"
    podDisruptionBudget = {
      maxUnavailable = 1
    }
    containerSecurityContext = {
      allowPrivilegeEscalation = false
      readOnlyRootFilesystem   = true
      capabilities             = { drop = ["ALL"] }
    }
  }
}
