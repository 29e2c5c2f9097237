# AKS with egress through Azure Firewall, after Azure's tutorial "Limit network
# traffic with Azure Firewall in AKS": a route table on the AKS subnet sends
# 0.0.0.0/0 to the firewall's private IP, the firewall's own public IP keeps a
# direct route to the Internet, and the cluster uses outbound_type
# userDefinedRouting, so AKS creates no outbound public IP of its own.

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

provider "aksudr" {}

variable "resource_group_name" {
  description = "The existing resource group for the route table and the cluster."
  type        = string
  default     = "rg-egress"
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "aks_subnet_id" {
  description = "The existing subnet the AKS nodes join."
  type        = string
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
}

variable "users_subnet_id" {
  description = "The existing subnet of the user node pool, in the same virtual network."
  type        = string
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/users"
}

variable "firewall_private_ip" {
  description = "The firewall's private IP address in AzureFirewallSubnet: the next hop of all egress."
  type        = string
  default     = "10.0.4.4"
}

variable "firewall_public_ip" {
  description = "The firewall's public IP address, which must stay reachable directly."
  type        = string
  default     = "20.50.60.70"
}

resource "aksudr_route_table" "egress" {
  name                          = "rt-aks-egress"
  resource_group_name           = var.resource_group_name
  location                      = var.location
  bgp_route_propagation_enabled = false
  tags = {
    purpose = "aks-egress"
  }
}

# All egress from the AKS subnet goes to the firewall.
resource "aksudr_firewall_route" "default" {
  name                   = "default-to-firewall"
  route_table_id         = aksudr_route_table.egress.id
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = var.firewall_private_ip
}

# The firewall's public IP is reached directly (asymmetric routing otherwise).
resource "aksudr_route" "firewall_public_ip" {
  name           = "firewall-public-ip"
  route_table_id = aksudr_route_table.egress.id
  address_prefix = "${var.firewall_public_ip}/32"
  next_hop_type  = "Internet"
}

resource "aksudr_subnet_route_table_association" "aks" {
  subnet_id      = var.aks_subnet_id
  route_table_id = aksudr_route_table.egress.id
}

resource "aksudr_cluster" "aks" {
  name                = "aks-egress"
  resource_group_name = var.resource_group_name
  location            = var.location
  dns_prefix          = "aks-egress"

  # Nodes must reach the API server through the firewall's public IP.
  api_server_authorized_ip_ranges = ["${var.firewall_public_ip}/32"]

  default_node_pool {
    name       = "system"
    vm_size    = "Standard_D2s_v5"
    node_count = 2
    # Through the association: the route table is on the subnet before the
    # cluster is created.
    vnet_subnet_id = aksudr_subnet_route_table_association.aks.subnet_id
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    outbound_type       = "userDefinedRouting"
    # The route that carries egress: created before the cluster, and checked
    # to be the subnet's default route before the cluster is written.
    egress_route_id = aksudr_firewall_route.default.id
    service_cidr    = "10.2.0.0/16"
    dns_service_ip  = "10.2.0.10"
    pod_cidr        = "10.244.0.0/16"
  }
}

# The user pool's subnet egresses through the same route table: checked at
# plan, and again before the pool is created, like the cluster's subnet.
resource "aksudr_subnet_route_table_association" "users" {
  subnet_id      = var.users_subnet_id
  route_table_id = aksudr_route_table.egress.id
}

resource "aksudr_node_pool" "users" {
  name       = "users"
  cluster_id = aksudr_cluster.aks.id
  vm_size    = "Standard_D4s_v5"
  # The reference orders the association before the pool.
  vnet_subnet_id = aksudr_subnet_route_table_association.users.subnet_id

  auto_scaling_enabled = true
  min_count            = 1
  max_count            = 3
}

output "cluster_id" {
  value = aksudr_cluster.aks.id
}
