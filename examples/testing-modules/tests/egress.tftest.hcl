# `terraform test` (Terraform 1.6+) of the module against armsim: apply,
# check what the module built, then let terraform test destroy it.

run "builds_udr_egress" {
  assert {
    condition     = output.outbound_type == "userDefinedRouting"
    error_message = "the cluster must send its egress through the route table"
  }
  assert {
    condition     = endswith(output.route_table_id, "/routeTables/rt-aks-egress")
    error_message = "unexpected route table ID: ${output.route_table_id}"
  }
}

run "plan_is_stable" {
  command = plan
  assert {
    condition     = output.outbound_type == "userDefinedRouting"
    error_message = "the plan after apply must keep user-defined routing"
  }
}
