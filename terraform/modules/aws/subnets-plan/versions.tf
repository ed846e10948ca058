terraform {
  # No provider: this module is arithmetic only, so `terraform test` runs it offline.
  required_version = ">= 1.11"
}
