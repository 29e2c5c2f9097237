resource "aksudr_route_table" "example" {
  name                = "rt-aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
