# The state store's settings. terraform/aws/backend/*.hcl name the bucket these produce (the
# backend_configs output prints them; modules/aws/state-backend's test compares): change both.
project       = "shiprail"
region        = "eu-west-1"
unique_suffix = "sr01"
owner         = "platform"
cost_center   = "platform"
environments  = ["dev", "stage", "prod"]
