# A module under test: the UDR egress of an existing AKS subnet (route table,
# default route to the firewall, association) and the cluster in it.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

variable "resource_group_name" {
  type = string
}

variable "location" {
  type = string
}

variable "subnet_id" {
  type = string
}

variable "firewall_private_ip" {
  type = string
}

resource "aksudr_route_table" "egress" {
  name                          = "rt-aks-egress"
  resource_group_name           = var.resource_group_name
  location                      = var.location
  bgp_route_propagation_enabled = false
}

resource "aksudr_firewall_route" "default" {
  name                   = "default-to-firewall"
  route_table_id         = aksudr_route_table.egress.id
  next_hop_in_ip_address = var.firewall_private_ip
}

resource "aksudr_subnet_route_table_association" "aks" {
  subnet_id      = var.subnet_id
  route_table_id = aksudr_route_table.egress.id
}

resource "aksudr_cluster" "aks" {
  name                = "aks-platform"
  resource_group_name = var.resource_group_name
  location            = var.location
  dns_prefix          = "aks-platform"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    vnet_subnet_id = aksudr_subnet_route_table_association.aks.subnet_id
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    egress_route_id     = aksudr_firewall_route.default.id
  }
}

output "route_table_id" {
  value = aksudr_route_table.egress.id
}

output "outbound_type" {
  value = aksudr_cluster.aks.network_profile[0].outbound_type
}
