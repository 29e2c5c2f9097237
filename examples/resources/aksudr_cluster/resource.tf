resource "aksudr_cluster" "example" {
  name                = "aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  dns_prefix          = "aks-egress"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    vnet_subnet_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
  }

  network_profile {
    network_plugin = "azure"
    # outbound_type defaults to userDefinedRouting.
  }
}
