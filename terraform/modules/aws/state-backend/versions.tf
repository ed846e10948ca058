terraform {
  # No provider: names and file contents only, so `terraform test` runs it offline.
  required_version = ">= 1.11"
}
