# The state store's settings. The backend files under terraform/azure/backend name the account
# these produce (output backend_configs prints them): change both together.
project       = "shiprail"
location      = "westeurope"
unique_suffix = "sr01"
owner         = "platform"
cost_center   = "platform"
environments  = ["dev", "stage", "prod"]
