# Names, tags and address plan shared by every module of both clouds. No provider and no
# resource: everything here is computed from the variables, so `terraform test` checks it
# offline.

locals {
  # ---------------------------------------------------------------- region codes
  azure_region_codes = {
    australiaeast      = "aue"
    brazilsouth        = "brs"
    canadacentral      = "cac"
    centralindia       = "inc"
    centralus          = "cus"
    eastasia           = "ea"
    eastus             = "eus"
    eastus2            = "eus2"
    francecentral      = "frc"
    germanywestcentral = "gwc"
    italynorth         = "itn"
    japaneast          = "jpe"
    northcentralus     = "ncus"
    northeurope        = "neu"
    norwayeast         = "nwe"
    polandcentral      = "plc"
    southcentralus     = "scus"
    southeastasia      = "sea"
    spaincentral       = "spc"
    swedencentral      = "sdc"
    switzerlandnorth   = "szn"
    uksouth            = "uks"
    ukwest             = "ukw"
    westeurope         = "weu"
    westus             = "wus"
    westus2            = "wus2"
    westus3            = "wus3"
  }

  # eu-west-1 -> euw1, ap-southeast-2 -> apse2, us-gov-west-1 -> usgovw1
  aws_region_words = {
    north     = "n"
    south     = "s"
    east      = "e"
    west      = "w"
    central   = "c"
    northeast = "ne"
    northwest = "nw"
    southeast = "se"
    southwest = "sw"
  }
  aws_region_parts = split("-", var.region)
  aws_region_code = join("", concat(
    [local.aws_region_parts[0]],
    [for part in slice(local.aws_region_parts, 1, length(local.aws_region_parts)) : lookup(local.aws_region_words, part, part)],
  ))

  region_code = (
    var.cloud == "aws"
    ? local.aws_region_code
    : lookup(local.azure_region_codes, var.region, substr(var.region, 0, 6))
  )

  environment_codes = {
    dev    = "dev"
    stage  = "stg"
    prod   = "prd"
    shared = "shd"
  }
  env_code = local.environment_codes[var.environment]

  # project without dashes, for names that only take letters and digits
  project_alnum = replace(var.project, "-", "")
  prefix        = "${var.project}-${var.environment}"
  base          = "${local.prefix}-${local.region_code}"
  dash_suffix   = var.unique_suffix == "" ? "" : "-${var.unique_suffix}"

  # ---------------------------------------------------------------- Azure names
  # Limits (Azure naming rules): resource group 1-90, VNet 2-64, subnet 1-80, NSG and route
  # table 1-80, AKS 1-63, DNS prefix 1-54, Log Analytics 4-63, user-assigned identity 3-128,
  # ACR 5-50 letters and digits, storage account 3-24 lowercase letters and digits.
  # Globally unique names keep the environment, region and suffix whole and shorten the
  # project part, so the environments never collide.
  azure_unique_tail           = "${local.env_code}${local.region_code}${var.unique_suffix}"
  azure_storage_account       = "st${substr(local.project_alnum, 0, max(1, 22 - length(local.azure_unique_tail)))}${local.azure_unique_tail}"
  azure_container_registry    = "cr${substr(local.project_alnum, 0, max(1, 48 - length(local.azure_unique_tail)))}${local.azure_unique_tail}"
  azure_state_storage_account = "st${substr(local.project_alnum, 0, max(1, 15 - length(var.unique_suffix)))}tfstate${var.unique_suffix}"

  azure_names = {
    resource_group          = "rg-${local.base}"
    virtual_network         = "vnet-${local.base}"
    subnet_prefix           = "snet-${local.base}"
    network_security_group  = "nsg-${local.base}"
    route_table             = "rt-${local.base}"
    kubernetes_cluster      = "aks-${local.base}"
    kubernetes_dns_prefix   = local.prefix
    node_resource_group     = "rg-${local.base}-aks-nodes"
    log_analytics_workspace = "log-${local.base}"
    user_assigned_identity  = "id-${local.base}"
    private_endpoint_prefix = "pe-${local.base}"
    container_registry      = local.azure_container_registry
    storage_account         = local.azure_storage_account
    github_application      = "${local.prefix}-github-actions"
    state_resource_group    = "rg-${var.project}-tfstate-${local.region_code}"
    state_storage_account   = local.azure_state_storage_account
    state_container         = "tfstate-${var.environment}"
    state_key               = "${var.project}/${var.environment}.tfstate"
  }

  # ---------------------------------------------------------------- AWS names
  # Limits: EKS cluster 1-100, IAM role 1-64, S3 bucket 3-63 lowercase letters, digits and
  # dashes (no leading xn--, no trailing -s3alias), ECR repository 2-256, KMS alias 1-256.
  aws_names = {
    vpc                   = local.prefix
    subnet_prefix         = local.prefix
    security_group_prefix = local.prefix
    kubernetes_cluster    = local.prefix
    ecr_repository_prefix = var.project
    github_role           = substr("${local.prefix}-github-actions", 0, 64)
    kms_alias             = "alias/${local.prefix}"
    log_bucket            = substr("${local.prefix}-logs-${local.region_code}${local.dash_suffix}", 0, 63)
    state_bucket          = substr("${var.project}-tfstate-${local.region_code}${local.dash_suffix}", 0, 63)
    state_key             = "${var.project}/${var.environment}.tfstate"
  }

  names = var.cloud == "aws" ? local.aws_names : local.azure_names

  # ---------------------------------------------------------------- tags
  standard_tags = {
    project       = var.project
    environment   = var.environment
    owner         = var.owner
    "managed-by"  = "terraform"
    "cost-center" = var.cost_center
  }
  # the standard tags last: an extra tag never replaces one (the validation refuses it too)
  tags = merge(var.extra_tags, local.standard_tags)

  # ---------------------------------------------------------------- address plan
  # The network is cut into tiers, each tier into four equal slots, one per zone (up to four):
  #   private  first half          (/16 -> /17, slots /19): nodes, pods on AWS VPC CNI
  #   app      next quarter        (/16 -> /18, slots /20): private endpoints, app services
  #   public   next eighth         (/16 -> /19, slots /21): load balancers, NAT gateways
  #   spare    last eighth         (/16 -> /19), left free for later tiers
  availability_zones = (
    var.availability_zones != null
    ? var.availability_zones
    : (var.cloud == "aws" ? [for letter in ["a", "b", "c"] : "${var.region}${letter}"] : ["1", "2", "3"])
  )

  tiers = var.network_cidr == null ? null : {
    private = cidrsubnet(var.network_cidr, 1, 0)
    app     = cidrsubnet(var.network_cidr, 2, 2)
    public  = cidrsubnet(var.network_cidr, 3, 6)
  }

  subnets = local.tiers == null ? null : {
    for tier, block in local.tiers : tier => [
      for index, zone in local.availability_zones : cidrsubnet(block, 2, index)
    ]
  }

  network = var.network_cidr == null ? null : {
    cidr               = var.network_cidr
    availability_zones = local.availability_zones
    tiers              = local.tiers
    spare              = cidrsubnet(var.network_cidr, 3, 7)
    subnets            = local.subnets
    subnets_by_zone = {
      for index, zone in local.availability_zones : zone => {
        for tier in keys(local.tiers) : tier => local.subnets[tier][index]
      }
    }
  }
}
