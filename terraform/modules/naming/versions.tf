terraform {
  # 1.9: validations that read other variables (the region pattern depends on the cloud).
  required_version = ">= 1.9"
}
