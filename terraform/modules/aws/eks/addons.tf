# EKS add-ons at pinned versions. The VPC CNI and kube-proxy go in before the nodes (a node is
# not Ready without a CNI); CoreDNS and the EBS CSI driver need nodes to run on.

locals {
  before_nodes = ["vpc-cni", "kube-proxy"]

  addon_service_account_role = {
    vpc-cni            = aws_iam_role.service_account["vpc-cni"].arn
    aws-ebs-csi-driver = aws_iam_role.service_account["ebs-csi"].arn
  }
}

resource "aws_eks_addon" "before_nodes" {
  for_each = { for name, version in var.addon_versions : name => version if contains(local.before_nodes, name) }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = each.value
  service_account_role_arn    = lookup(local.addon_service_account_role, each.key, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags
}

resource "aws_eks_addon" "after_nodes" {
  for_each = { for name, version in var.addon_versions : name => version if !contains(local.before_nodes, name) }

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = each.value
  service_account_role_arn    = lookup(local.addon_service_account_role, each.key, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.this]
}
