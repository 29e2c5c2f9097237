terraform import aksudr_route.example /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/routeTables/rt-aks-egress/routes/firewall-public-ip
