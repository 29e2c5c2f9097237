terraform import aksudr_node_pool.example /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.ContainerService/managedClusters/aks-egress/agentPools/users
