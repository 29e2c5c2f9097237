resource "aksudr_node_pool" "example" {
  name           = "users"
  cluster_id     = aksudr_cluster.example.id
  vm_size        = "Standard_D4s_v5"
  vnet_subnet_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/users"

  auto_scaling_enabled = true
  min_count            = 1
  max_count            = 5
  node_labels          = { workload = "batch" }
}
