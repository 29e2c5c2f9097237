//! How a resource's ARM calls end up in Terraform: ARM errors as
//! diagnostics, and the state a write leaves (an object Azure accepted is
//! tracked whatever happens next, and every write ends with a read).

use crate::tf::diag::Diagnostics;
use crate::tf::resource::ApplyOutcome;
use crate::tf::value::Value;

/// The diagnostic for a failed ARM call while doing `action` (e.g.
/// "creating route table rg/rt").
pub(crate) fn arm_error(action: &str, e: crate::arm::ArmError) -> Diagnostics {
    use crate::arm::ArmError;
    let summary = match &e {
        ArmError::Credential(_) | ArmError::CredentialUnavailable(_) => "Cannot authenticate to Azure".to_string(),
        ArmError::Stopped => format!("Interrupted while {action}"),
        ArmError::Timeout => format!("Timed out while {action}"),
        _ => format!("Azure refused {action}"),
    };
    let summary = match e.code() {
        Some(code) if !e.is_credential() => format!("{summary} ({code})"),
        _ => summary,
    };
    crate::tf::diag::Diagnostic::error(summary, format!("While {action}: {e}")).into()
}

/// A read at plan that failed. A refusal (a credential Azure rejects, a
/// missing configuration, a 403) fails the plan, naming what to fix, since
/// the apply would fail the same way; only a transient failure (Azure or the
/// login endpoint unreachable or failing after retries, a timeout) lets the
/// plan go on, with a warning that says so and that `then` happens at apply.
pub(crate) fn plan_read_failed(check: &str, then: &str, e: crate::arm::ArmError, path: &str) -> Diagnostics {
    let path = crate::tf::diag::AttributePath::parse(path);
    if e.is_transient() {
        return crate::tf::diag::Diagnostic::warning(
            format!("Could not {check} at plan"),
            format!(
                "Azure could not be reached or failed, which may pass: {e}\n{then} This plan is not a verdict on \
                 it."
            ),
        )
        .at(path)
        .into();
    }
    let mut d = arm_error(&format!("trying to {check} at plan"), e);
    for d in &mut d.0 {
        d.path = Some(path.clone());
    }
    d
}

/// What state records of an object that Azure has accepted: the planned
/// values with the ID, values known only after apply as null. Terraform then
/// keeps tracking the object whatever happens next, instead of orphaning it.
pub(crate) fn tracked_state(planned: &Value, id: &str) -> Value {
    let mut s = known_only(planned);
    s.set_attr("id", Value::string(id));
    s
}

/// [`tracked_state`] for an update: what the plan leaves unknown keeps its
/// prior value (not null), so that a read failing after the update does
/// not wipe, say, the kubeconfig from the state.
pub(crate) fn tracked_update(planned: &Value, prior: &Value, id: &str) -> Value {
    fn fill(v: &Value, prior: Option<&Value>) -> Value {
        match v {
            Value::Unknown => prior.cloned().unwrap_or(Value::Null),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), fill(v, prior.and_then(|p| p.attr(k))))).collect())
            }
            Value::List(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| fill(v, prior.and_then(Value::elements).and_then(|e| e.get(i))))
                    .collect(),
            ),
            other => known_only(other),
        }
    }
    let mut s = fill(planned, Some(prior));
    s.set_attr("id", Value::string(id));
    s
}

/// `v` with unknowns (inside sets and maps) as null.
fn known_only(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.iter().map(known_only).collect()),
        Value::Set(items) => Value::Set(items.iter().map(known_only).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), known_only(v))).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), known_only(v))).collect()),
        other => other.clone(),
    }
}

/// The outcome of a write that Azure completed, from the read that follows
/// it: the object as read; when the read fails (a permission the identity
/// lacks, a transient error), `tracked` with the read's errors as warnings,
/// since the write itself succeeded and the next refresh reads it; when the
/// object has vanished, `tracked` with an error.
pub(crate) fn after_write(read: Result<Option<Value>, Diagnostics>, tracked: Value, what: &str) -> ApplyOutcome {
    match read {
        Ok(Some(state)) => ApplyOutcome::ok(state),
        Ok(None) => ApplyOutcome::failed(
            tracked,
            crate::tf::diag::Diagnostic::error(
                format!("{what} vanished"),
                format!("Azure completed the write of the {what}, then had no such object."),
            )
            .into(),
        ),
        Err(d) => {
            let mut warnings = Diagnostics::new();
            for e in d.0 {
                warnings.push(crate::tf::diag::Diagnostic::warning(
                    format!("Written, but not read back: {}", e.summary),
                    format!(
                        "Azure completed the write of the {what}; reading it afterwards failed, so the state holds \
                         the planned values until the next refresh.\n{}",
                        e.detail
                    ),
                ));
            }
            ApplyOutcome { state: tracked, diagnostics: warnings }
        }
    }
}

/// Whether a conditional write should be redone on a fresh read: 412 (the
/// object changed since it was read) or an answer lost after sending (our
/// own write may have landed; the read tells).
pub(crate) fn stale_or_unanswered(e: &crate::arm::ArmError) -> bool {
    e.status() == Some(412) || matches!(e, crate::arm::ArmError::Unanswered { .. })
}

/// The error for a create's PUT: a 412 answers `If-None-Match: *` (the
/// object appeared since it was checked), which needs an import.
pub(crate) fn create_error(type_name: &str, action: &str, id: &str, e: crate::arm::ArmError) -> Diagnostics {
    if e.status() == Some(412) {
        return requires_import(type_name, id);
    }
    arm_error(action, e)
}

/// The error for creating something that already exists: Terraform must
/// import it rather than silently adopt (or overwrite) it.
pub(crate) fn requires_import(type_name: &str, id: &str) -> Diagnostics {
    crate::tf::diag::Diagnostic::error(
        "A resource with this ID already exists - to be managed via Terraform it needs to be imported",
        format!(
            "{id} already exists in Azure. Import it into the state with\n  terraform import <address> {id}\n\
             or an import block, then plan again. ({type_name})"
        ),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::values::object;

    #[test]
    fn tracked_states() {
        let planned = object([
            ("id", Value::Null),
            ("name", Value::string("c")),
            ("kube_config_raw", Value::Unknown),
            ("tags", Value::Map([("a".to_string(), Value::Unknown)].into_iter().collect())),
        ]);
        let created = tracked_state(&planned, "/x");
        assert_eq!(created.attr("id"), Some(&Value::string("/x")));
        assert_eq!(created.attr("kube_config_raw"), Some(&Value::Null));
        let prior = object([("kube_config_raw", Value::string("apiVersion: v1"))]);
        let updated = tracked_update(&planned, &prior, "/x");
        assert_eq!(updated.attr("kube_config_raw"), Some(&Value::string("apiVersion: v1")), "kept from prior");
        assert_eq!(updated.attr("name"), Some(&Value::string("c")));
        assert!(!updated.contains_unknown(), "{updated:?}");
    }
}
