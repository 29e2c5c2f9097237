resource "aksudr_firewall_route" "example" {
  name                   = "default-to-firewall"
  route_table_id         = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/routeTables/rt-aks-egress"
  next_hop_in_ip_address = "10.0.4.4"
  # address_prefix defaults to 0.0.0.0/0, next_hop_type to VirtualAppliance.
}
