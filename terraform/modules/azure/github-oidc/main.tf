# GitHub Actions signs in to Azure with its OIDC token: an Entra application with one federated
# credential per GitHub environment, no client secret, and exactly two roles: AcrPush on the
# registry and Cluster User on the AKS cluster.

data "azuread_client_config" "current" {}

locals {
  owners = length(var.owners) > 0 ? var.owners : [data.azuread_client_config.current.object_id]
}

resource "azuread_application" "this" {
  display_name     = var.display_name
  owners           = local.owners
  sign_in_audience = "AzureADMyOrg"
  notes            = "GitHub Actions of ${var.github_repository} (environments: ${join(", ", var.github_environments)}). Federated credentials only: do not add client secrets or certificates."
}

resource "azuread_application_federated_identity_credential" "github" {
  # checkov:skip=CKV_AZURE_249:The subject is repo:OWNER/REPO:environment:ENV from variables whose validations refuse wildcards and anything but OWNER/REPO; checkov cannot resolve a variable without a default and reads the literal.
  for_each = toset(var.github_environments)

  application_id = azuread_application.this.id
  display_name   = substr(replace(lower("github-${var.github_repository}-${each.key}"), "/[^a-z0-9-]/", "-"), 0, 120)
  description    = "GitHub Actions jobs of ${var.github_repository} in environment ${each.key}"
  audiences      = [var.audience]
  issuer         = var.issuer
  subject        = "repo:${var.github_repository}:environment:${each.key}"
}

resource "azuread_service_principal" "this" {
  client_id                    = azuread_application.this.client_id
  owners                       = local.owners
  app_role_assignment_required = false
}

resource "azurerm_role_assignment" "acr_push" {
  scope                = var.acr_id
  role_definition_name = "AcrPush"
  principal_id         = azuread_service_principal.this.object_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "aks_cluster_user" {
  scope                = var.aks_cluster_id
  role_definition_name = "Azure Kubernetes Service Cluster User Role"
  principal_id         = azuread_service_principal.this.object_id
  principal_type       = "ServicePrincipal"
}
