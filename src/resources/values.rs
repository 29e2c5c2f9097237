//! Reading Terraform values and ARM's JSON in the shapes the resources
//! need: known strings, rule inputs, objects, and the prior spelling kept
//! where ARM returns another.

use crate::rules::Input;
use crate::tf::model::Val;
use crate::tf::value::Value;

/// A string attribute as the rules see it.
pub(crate) fn input_str(v: &Value, name: &str) -> Input<String> {
    match v.attr(name) {
        Some(Value::String(s)) => Input::Known(s.clone()),
        Some(Value::Unknown) => Input::Unknown,
        _ => Input::Null,
    }
}

/// A known string attribute.
pub(crate) fn str_attr<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.attr(name).and_then(Value::as_str)
}

/// An object value from attribute pairs.
pub(crate) fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A string from ARM, or null.
pub(crate) fn json_str(v: &serde_json::Value, pointer: &str) -> Value {
    v.pointer(pointer).and_then(|s| s.as_str()).map(Value::string).unwrap_or(Value::Null)
}

/// Keeps the prior spelling of a value that ARM returns in another case or
/// form (IDs, regions, enums), so the difference never shows as drift.
pub(crate) fn keep_spelling(prior: &Value, name: &str, from_arm: Value, same: fn(&Value, &Value) -> bool) -> Value {
    match prior.attr(name) {
        Some(p) if !p.is_null() && same(p, &from_arm) => p.clone(),
        _ => from_arm,
    }
}

/// Removes `keys` from a JSON object (read-only properties before a PUT of
/// what a GET returned); no effect on other values.
pub(crate) fn remove_keys(v: &mut serde_json::Value, keys: &[&str]) {
    if let Some(obj) = v.as_object_mut() {
        for k in keys {
            obj.remove(*k);
        }
    }
}

/// [`keep_spelling`] for a model's field: the prior spelling when ARM's
/// value is the same to Azure (`same`), else ARM's.
pub(crate) fn keep(prior: &Val<String>, from_arm: String, same: fn(&str, &str) -> bool) -> Val<String> {
    match prior {
        Val::Known(p) if same(p, &from_arm) => Val::Known(p.clone()),
        _ => Val::Known(from_arm),
    }
}
