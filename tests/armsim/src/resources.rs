//! Microsoft.Resources resource groups: the containers every other resource lives in.

use serde_json::{json, Value};

use crate::error::ArmError;
use crate::http::{HResult, Req, Resp};
use crate::paths::{self, Target};
use crate::store::Kind;
use crate::world::{check_preconditions, normalize_location, read_tags, World};

/// A resource group body.
pub(crate) fn rg_body(id: &str, location: &str, tags: Option<Value>) -> Value {
    let mut b = json!({
        "id": id,
        "name": paths::name_of(id),
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": { "provisioningState": "Succeeded" },
    });
    if let Some(t) = tags {
        b["tags"] = t;
    }
    b
}

/// Handles `/subscriptions/{sub}/resourceGroups[/{rg}]`.
pub(crate) fn handle(w: &mut World, req: &Req, target: &Target) -> HResult {
    match target {
        Target::ResourceGroups { sub } if req.method == "GET" => {
            let value: Vec<Value> = w
                .store
                .list(Kind::ResourceGroup, &format!("/subscriptions/{sub}/resourceGroups"))
                .iter()
                .map(|e| e.body.clone())
                .collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        Target::ResourceGroup { sub, rg } => {
            let id = paths::rg_id(sub, rg);
            let existing = w.store.get(&id).cloned();
            match req.method.as_str() {
                "GET" => {
                    existing.map(|e| Resp::json(200, e.body)).ok_or_else(|| ArmError::resource_group_not_found(rg))
                }
                "HEAD" => Ok(Resp::empty(if existing.is_some() { 204 } else { 404 })),
                "PUT" => {
                    check_preconditions(req, existing.as_ref())?;
                    let body = req.json_object()?;
                    let location = match body.get("location") {
                        Some(Value::String(l)) if !l.is_empty() => normalize_location(l),
                        _ => {
                            return Err(ArmError::bad_request(
                                "LocationRequired",
                                "The location property is required for this definition.",
                            ))
                        }
                    };
                    let tags = read_tags(body.get("tags"))?;
                    if let Some(e) = &existing {
                        if e.location() != Some(location.as_str()) {
                            return Err(ArmError::bad_request(
                                "InvalidResourceGroupLocation",
                                format!(
                                    "Invalid resource group location '{location}'. The Resource group \
                                     already exists in location '{}'.",
                                    e.location().unwrap_or("")
                                ),
                            ));
                        }
                    }
                    let id = existing.as_ref().map_or(id, |e| e.id.clone());
                    let body = rg_body(&id, &location, tags);
                    w.store.put(Kind::ResourceGroup, &id, body.clone());
                    Ok(Resp::json(if existing.is_some() { 200 } else { 201 }, body))
                }
                // Deleting a group deletes everything in it. ARM runs this as an LRO; the
                // simulator completes it synchronously (200), which clients accept as done.
                "DELETE" => match existing {
                    None => Err(ArmError::resource_group_not_found(rg)),
                    Some(e) => {
                        w.store.remove_tree(&e.id);
                        Ok(Resp::empty(200))
                    }
                },
                m => Err(crate::network::method_not_allowed(m)),
            }
        }
        _ => Err(crate::network::method_not_allowed(&req.method)),
    }
}
