resource "aksudr_route" "example" {
  name           = "firewall-public-ip"
  route_table_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/routeTables/rt-aks-egress"
  address_prefix = "20.50.60.70/32"
  next_hop_type  = "Internet"
}
