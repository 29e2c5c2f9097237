# The network scenario scripts/conformance.sh applies against armsim, so that
# every request the provider sends (and every answer armsim gives) can be
# checked against Azure's OpenAPI specs with `oav validate-traffic`.
#
# with_routes = false leaves out the routes and the subnet association, so the
# route-table part can run on its own. tag and firewall_ip let the script
# change the configuration between applies to exercise the update paths.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

# Everything else comes from ARM_* in the environment (set by the script).
provider "aksudr" {}

variable "with_routes" {
  type    = bool
  default = true
}

variable "tag" {
  type    = string
  default = "one"
}

variable "firewall_ip" {
  type    = string
  default = "10.0.4.4"
}

locals {
  # armsim's default seed: group rg-egress with VNet vnet and subnet aks.
  aks_subnet_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
}

resource "aksudr_route_table" "egress" {
  name                          = "rt-conformance"
  resource_group_name           = "rg-egress"
  location                      = "westeurope"
  bgp_route_propagation_enabled = false
  tags = {
    purpose = "conformance"
    step    = var.tag
  }
}

resource "aksudr_firewall_route" "default" {
  count                  = var.with_routes ? 1 : 0
  name                   = "default-to-firewall"
  route_table_id         = aksudr_route_table.egress.id
  next_hop_in_ip_address = var.firewall_ip
}

resource "aksudr_route" "firewall_public_ip" {
  count          = var.with_routes ? 1 : 0
  name           = "firewall-public-ip"
  route_table_id = aksudr_route_table.egress.id
  address_prefix = "20.50.60.70/32"
  next_hop_type  = "Internet"
}

resource "aksudr_route" "azure_cloud" {
  count          = var.with_routes ? 1 : 0
  name           = "azure-cloud"
  route_table_id = aksudr_route_table.egress.id
  address_prefix = "AzureCloud"
  next_hop_type  = "Internet"
}

resource "aksudr_subnet_route_table_association" "aks" {
  count          = var.with_routes ? 1 : 0
  subnet_id      = local.aks_subnet_id
  route_table_id = aksudr_route_table.egress.id
}

variable "node_count" {
  type    = number
  default = 2
}

# The UDR cluster on that subnet: create, an in-place update (node_count),
# credentials on every read, and delete, all in api-version 2026-07-01.
resource "aksudr_cluster" "aks" {
  count               = var.with_routes ? 1 : 0
  name                = "aks-conformance"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  dns_prefix          = "aks-conformance"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    node_count     = var.node_count
    vnet_subnet_id = aksudr_subnet_route_table_association.aks[0].subnet_id
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    egress_route_id     = aksudr_firewall_route.default[0].id
  }
}

# A user pool in the same subnet: create, an in-place update (node_count,
# with the cluster's) and delete through the agentPools API.
resource "aksudr_node_pool" "users" {
  count          = var.with_routes ? 1 : 0
  name           = "users"
  cluster_id     = aksudr_cluster.aks[0].id
  vm_size        = "Standard_D4s_v5"
  node_count     = var.node_count
  vnet_subnet_id = aksudr_subnet_route_table_association.aks[0].subnet_id
  node_labels    = { workload = "conformance" }
}
