//! Syntax of the Azure resource IDs the rules accept, so that a mistyped
//! subnet ID is reported at plan with what is wrong rather than by ARM later.

/// The parts of a subnet resource ID
/// `/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetId {
    pub subscription_id: String,
    pub resource_group: String,
    pub virtual_network: String,
    pub subnet: String,
}

/// The fixed segments of a subnet ID, by position, in Azure's casing; `None`
/// marks a name.
const SUBNET_ID_SHAPE: [Option<&str>; 10] = [
    Some("subscriptions"),
    None,
    Some("resourceGroups"),
    None,
    Some("providers"),
    Some("Microsoft.Network"),
    Some("virtualNetworks"),
    None,
    Some("subnets"),
    None,
];

/// What each name segment of a subnet ID holds, for messages.
fn name_role(index: usize) -> &'static str {
    match index {
        1 => "subscription ID",
        3 => "resource group name",
        7 => "virtual network name",
        _ => "subnet name",
    }
}

/// Parses a subnet resource ID. Fixed segments match case-insensitively, as
/// ARM resource IDs do; the error says which part is wrong and what was
/// expected there.
pub fn parse_subnet_id(id: &str) -> Result<SubnetId, String> {
    let expected = "/subscriptions/{subscription-guid}/resourceGroups/{resource-group}/providers/\
                    Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}";
    if id.trim().is_empty() {
        return Err(format!("the ID is empty; expected {expected}"));
    }
    if id.trim() != id {
        return Err("the ID has leading or trailing whitespace".to_string());
    }
    let Some(rest) = id.strip_prefix('/') else {
        return Err(format!(
            "the ID must start with \"/subscriptions/\"; expected {expected}"
        ));
    };
    if rest.ends_with('/') {
        return Err("the ID must not end with \"/\"".to_string());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() != SUBNET_ID_SHAPE.len() {
        let hint = if segments.len() == 8 {
            " (this looks like a virtual network ID; append \"/subnets/{subnet}\")"
        } else {
            ""
        };
        return Err(format!(
            "the ID has {} segments where a subnet ID has {}{hint}; expected {expected}",
            segments.len(),
            SUBNET_ID_SHAPE.len()
        ));
    }
    for (i, (segment, shape)) in segments.iter().zip(SUBNET_ID_SHAPE).enumerate() {
        match shape {
            Some(keyword) if !segment.eq_ignore_ascii_case(keyword) => {
                return Err(format!(
                    "segment {} is \"{segment}\" where \"{keyword}\" was expected",
                    i + 1
                ));
            }
            Some(_) => {}
            None if segment.trim().is_empty() => {
                return Err(format!("the {} (segment {}) is empty", name_role(i), i + 1));
            }
            None => {}
        }
    }
    let subscription_id = segments[1];
    if !is_guid(subscription_id) {
        return Err(format!(
            "the subscription ID \"{subscription_id}\" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
        ));
    }
    Ok(SubnetId {
        subscription_id: subscription_id.to_string(),
        resource_group: segments[3].to_string(),
        virtual_network: segments[7].to_string(),
        subnet: segments[9].to_string(),
    })
}

/// Whether `text` is a GUID in the 8-4-4-4-12 hexadecimal form ARM uses for
/// subscription IDs.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The last non-empty segment of a resource ID: the resource's name.
pub fn resource_name(id: &str) -> &str {
    id.rsplit('/').find(|s| !s.is_empty()).unwrap_or(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-1111-2222-3333-444444444444";

    #[test]
    fn parses_subnet_ids() {
        let id = format!("/subscriptions/{SUB}/resourceGroups/rg-aks/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks");
        let parsed = parse_subnet_id(&id).unwrap();
        assert_eq!(
            parsed,
            SubnetId {
                subscription_id: SUB.into(),
                resource_group: "rg-aks".into(),
                virtual_network: "vnet-hub".into(),
                subnet: "aks".into()
            }
        );
        // ARM itself returns `resourcegroups` in lower case from some APIs.
        let lower = format!("/subscriptions/{SUB}/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v/subnets/s");
        assert!(parse_subnet_id(&lower).is_ok());
    }

    #[test]
    fn rejects_malformed_subnet_ids() {
        let good_tail =
            "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s";
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "empty"),
            ("   ".into(), "empty"),
            (format!(" /subscriptions/{SUB}{good_tail}"), "whitespace"),
            (format!("subscriptions/{SUB}{good_tail}"), "must start with"),
            (format!("/subscriptions/{SUB}{good_tail}/"), "must not end"),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"),
                "virtual network ID",
            ),
            (format!("/subscriptions/{SUB}{good_tail}/extra/x"), "12 segments"),
            (
                format!("/subscriptions/{SUB}/resourceGroup/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
                "segment 3 is \"resourceGroup\" where \"resourceGroups\"",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualNetworks/v/subnets/s"),
                "\"Microsoft.Network\" was expected",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/v/subnets/s"),
                "\"virtualNetworks\" was expected",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups//providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
                "resource group name (segment 4) is empty",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/ /subnets/s"),
                "virtual network name (segment 8) is empty",
            ),
            (format!("/subscriptions/not-a-guid{good_tail}"), "is not a GUID"),
            (format!("/subscriptions/{}g{good_tail}", &SUB[..35]), "is not a GUID"),
            ("/subscriptions/ü/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s".into(), "not a GUID"),
        ];
        for (id, needle) in cases {
            let err = parse_subnet_id(&id).expect_err(&id);
            assert!(err.contains(needle), "{id:?}: {err}");
        }
    }

    #[test]
    fn guids_and_names() {
        assert!(is_guid(SUB));
        assert!(is_guid("ABCDEF01-abcd-4bcd-8bcd-0123456789ab"));
        assert!(!is_guid("00000000111122223333444444444444"));
        assert!(!is_guid("0000000-01111-2222-3333-444444444444"));
        assert!(!is_guid(""));
        assert_eq!(
            resource_name(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt-fw"
            ),
            "rt-fw"
        );
        assert_eq!(resource_name("rt/"), "rt");
        assert_eq!(resource_name(""), "");
    }
}
