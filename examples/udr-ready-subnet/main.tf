# A module that refuses, at plan, to put a cluster into a subnet that is not
# ready for user-defined routing: the data source aksudr_subnet_egress gives
# the verdict of the cluster's own plan-time checks, in the same words, so
# the module can fail early with its own message (Terraform 1.2+).

terraform {
  required_providers {
    aksudr = {
      source = "aksudr/aksudr"
    }
  }
}

provider "aksudr" {}

variable "subnet_id" {
  description = "The subnet the cluster's nodes join."
  type        = string
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"
}

data "aksudr_subnet_egress" "nodes" {
  subnet_id = var.subnet_id
}

resource "aksudr_cluster" "aks" {
  name                = "aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  dns_prefix          = "aks-egress"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    vnet_subnet_id = var.subnet_id
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
  }

  lifecycle {
    precondition {
      condition     = data.aksudr_subnet_egress.nodes.udr_ready
      error_message = "The subnet ${var.subnet_id} is not ready for user-defined routing: ${join("; ", data.aksudr_subnet_egress.nodes.problems[*].summary)}."
    }
  }
}
