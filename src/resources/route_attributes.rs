//! The attributes and the configuration check that `aksudr_route` and
//! `aksudr_firewall_route` share.

use super::attributes::{check_network_name, check_route_table_id};
use super::values::input_str;
use crate::rules::{
    self,
    route::{RouteKind, RouteSpec},
};
use crate::tf::diag::Diagnostics;
use crate::tf::schema::Attribute;
use crate::tf::value::Value;

pub(crate) fn route_table_id_attribute(what: &str) -> Attribute {
    Attribute::string(
        "route_table_id",
        &format!(
            "The ARM ID of the route table the {what} belongs to (`aksudr_route_table.<name>.id`). \
             Changing it forces replacement."
        ),
    )
    .required()
    .forces_replacement()
    .equivalent(crate::tf::schema::case_insensitive)
    .check(check_route_table_id)
}

pub(crate) fn route_name_attribute() -> Attribute {
    Attribute::string("name", "The route's name, unique within its route table. Changing it forces replacement.")
        .required()
        .forces_replacement()
        .check(check_network_name)
}

pub(crate) fn route_next_hop_ip_attribute() -> Attribute {
    Attribute::string(
        "next_hop_in_ip_address",
        "The IP address of the firewall or NVA. Required when `next_hop_type` is `VirtualAppliance`, \
         not allowed otherwise. Updated in place.",
    )
    .optional()
}

/// Runs the route rules (R1-R4) on a route resource's configuration.
pub(crate) fn check_route_config(kind: RouteKind, config: &Value) -> Diagnostics {
    rules::route::check_route(&RouteSpec {
        kind,
        address_prefix: input_str(config, "address_prefix"),
        next_hop_type: input_str(config, "next_hop_type"),
        next_hop_in_ip_address: input_str(config, "next_hop_in_ip_address"),
    })
}
