//! Configurations the tests write: IDs in armsim's seed, HCL strings, the
//! provider block, and the egress stack many tests start from.

use super::*;

/// A subscription-shaped prefix for IDs in test configurations.
pub const SUBSCRIPTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

/// A subnet ID of the shape ARM returns.
pub fn subnet_id(name: &str) -> String {
    format!("{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/{name}")
}

/// A route table ID of the shape ARM returns.
pub fn route_table_id(name: &str) -> String {
    format!("{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.Network/routeTables/{name}")
}

/// The egress of subnet `aks`: route table `table` (in `rg-egress`), a
/// firewall route `0.0.0.0/0` to 10.0.4.4, and the association. Resource
/// addresses: `aksudr_route_table.rt`, `aksudr_firewall_route.default`,
/// `aksudr_subnet_route_table_association.aks`.
pub fn egress_stack(table: &str) -> String {
    format!(
        r#"resource "aksudr_route_table" "rt" {{
  name                = "{table}"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_firewall_route" "default" {{
  name                   = "default"
  route_table_id         = aksudr_route_table.rt.id
  next_hop_in_ip_address = "10.0.4.4"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.rt.id
}}
"#,
        subnet = subnet_id("aks")
    )
}

/// A whole configuration: the provider requirement, an empty provider block
/// (plans must not need credentials) and the given resources.
pub fn config(resources: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    aksudr = {{
      source  = "aksudr/aksudr"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "aksudr" {{}}

{resources}"#
    )
}

/// Quotes text as an HCL string literal, template sequences included.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_hcl_strings() {
        assert_eq!(hcl_string(r#"/a "b"\c"#), r#""/a \"b\"\\c""#);
        assert_eq!(hcl_string("x${y}%{z}$"), r#""x$${y}%%{z}$""#);
    }
}
