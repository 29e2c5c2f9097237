# The root configuration the tests drive: the module with the seeded network.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

# Endpoints, CA and credentials come from the environment (run.sh sets them).
provider "aksudr" {}

variable "firewall_private_ip" {
  type    = string
  default = "10.20.4.4"
}

module "egress" {
  source              = "./modules/aks-egress"
  resource_group_name = "rg-platform"
  location            = "northeurope"
  subnet_id           = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/aks"
  firewall_private_ip = var.firewall_private_ip
}

output "route_table_id" {
  value = module.egress.route_table_id
}

output "outbound_type" {
  value = module.egress.outbound_type
}
