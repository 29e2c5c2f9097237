# A broken variant of ../main.tf: the default route sends egress straight to
# the Internet, bypassing the firewall. Azure only rejects this minutes into
# an apply (RouteTableInvalidNextHop); the provider rejects it at plan.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

provider "aksudr" {}

resource "aksudr_route_table" "egress" {
  name                = "rt-aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}

resource "aksudr_route" "default" {
  name           = "default-to-internet"
  route_table_id = aksudr_route_table.egress.id
  address_prefix = "0.0.0.0/0"
  next_hop_type  = "Internet"
}
