# The firewall-egress scenario of ../main.tf written the other common way: the
# cluster names its subnet by a literal ID and is ordered after the route and
# the association with depends_on. The plan-time egress check sees what this
# plan does to the route table, so one apply builds everything.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

provider "aksudr" {}

locals {
  aks_subnet_id       = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
  firewall_private_ip = "10.0.4.4"
}

resource "aksudr_route_table" "egress" {
  name                          = "rt-aks-egress"
  resource_group_name           = "rg-egress"
  location                      = "westeurope"
  bgp_route_propagation_enabled = false
}

resource "aksudr_firewall_route" "default" {
  name                   = "default-to-firewall"
  route_table_id         = aksudr_route_table.egress.id
  next_hop_in_ip_address = local.firewall_private_ip
}

resource "aksudr_subnet_route_table_association" "aks" {
  subnet_id      = local.aks_subnet_id
  route_table_id = aksudr_route_table.egress.id
}

resource "aksudr_cluster" "aks" {
  name                = "aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  dns_prefix          = "aks-egress"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    vnet_subnet_id = local.aks_subnet_id
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
  }

  # Egress is in place before the cluster is planned and created.
  depends_on = [
    aksudr_subnet_route_table_association.aks,
    aksudr_firewall_route.default,
  ]
}
