terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

# Credentials usually come from ARM_* environment variables (as for azurerm):
# ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID and ARM_CLIENT_SECRET, or
# ARM_USE_OIDC with an OIDC token, or a managed identity, or the Azure CLI.
provider "aksudr" {
  subscription_id = "00000000-0000-0000-0000-000000000000"
}
