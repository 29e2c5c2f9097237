//! Attributes and checks every Azure resource type shares: its ARM ID,
//! resource group, region and tags, and the names and IDs users write.

use crate::arm::ids::{RouteTableId, SubnetId};
use crate::tf::schema::Attribute;
use crate::tf::value::Value;

/// `id`, the ARM ID, known once created and never changing afterwards.
pub(crate) fn id_attribute(what: &str) -> Attribute {
    Attribute::string("id", &format!("The ARM resource ID of the {what}.")).computed().stable()
}

pub(crate) fn resource_group_attribute(what: &str) -> Attribute {
    Attribute::string(
        "resource_group_name",
        &format!("The existing resource group of the {what}. Changing it forces replacement."),
    )
    .required()
    .forces_replacement()
    .check(check_resource_group_name)
}

pub(crate) fn location_attribute(what: &str) -> Attribute {
    Attribute::string(
        "location",
        &format!(
            "The Azure region of the {what}, e.g. `westeurope` or `West Europe` (both spellings are the same \
             region and never show as a difference). Changing it forces replacement."
        ),
    )
    .required()
    .forces_replacement()
    .equivalent(same_location)
}

pub(crate) fn tags_attribute() -> Attribute {
    Attribute::string_map("tags", "Tags to assign. Updated in place.").optional()
}

/// Region names as ARM compares them: case and spaces do not matter.
pub fn normalize_location(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

pub(crate) fn same_location(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => normalize_location(x) == normalize_location(y),
        _ => false,
    }
}

pub(crate) fn check_route_table_id(s: &str) -> Result<(), String> {
    RouteTableId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

pub(crate) fn check_subnet_id(s: &str) -> Result<(), String> {
    SubnetId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

/// Network resource names (route tables, routes): 1-80 characters of
/// letters, digits, `_`, `.` and `-`, starting with a letter or digit and
/// ending with a letter, digit or `_` (Azure's naming rules for
/// Microsoft.Network).
pub(crate) fn check_network_name(s: &str) -> Result<(), String> {
    let valid_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let last_ok = s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if s.is_empty() || s.len() > 80 || !valid_chars || !first_ok || !last_ok {
        return Err(format!(
            "{s:?} is not a valid name: use 1 to 80 letters, digits, underscores, periods or hyphens, \
             starting with a letter or digit and ending with a letter, digit or underscore."
        ));
    }
    Ok(())
}

/// Resource group names: 1-90 characters of letters, digits, `_`, `(`, `)`,
/// `-` and `.`, not ending with a period.
pub(crate) fn check_resource_group_name(s: &str) -> Result<(), String> {
    let valid_chars = s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '(' | ')' | '-' | '.'));
    if s.is_empty() || s.chars().count() > 90 || !valid_chars || s.ends_with('.') {
        return Err(format!(
            "{s:?} is not a valid resource group name: use 1 to 90 letters, digits, underscores, parentheses, \
             hyphens or periods, not ending with a period."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_network_name("rt-egress_1").is_ok());
        assert!(check_network_name("route.").is_err());
        assert!(check_network_name("-x").is_err());
        assert!(check_network_name(&"a".repeat(81)).is_err());
        assert!(check_resource_group_name("rg-egress").is_ok());
        assert!(check_resource_group_name("rg.").is_err());
    }

    #[test]
    fn locations_compare_loosely() {
        assert!(same_location(&Value::string("West Europe"), &Value::string("westeurope")));
        assert!(!same_location(&Value::string("West Europe"), &Value::string("northeurope")));
    }
}
