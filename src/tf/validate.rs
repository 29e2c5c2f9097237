//! Per-attribute validation driven by the schema: allowed values and string
//! checks, reported on the attribute's path. Cross-attribute rules live in
//! `crate::rules`.

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::schema::{Attribute, Block};
use super::value::Value;

/// Validates every known value in `config` against `block`.
pub fn validate(block: &Block, config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if !matches!(config, Value::Object(_)) {
        return;
    }
    for a in &block.attributes {
        if let Some(v) = config.attr(a.name) {
            check_value(a, v, &path.clone().attr(a.name), diags);
        }
    }
    for b in &block.blocks {
        let base = path.clone().attr(b.name);
        match config.attr(b.name) {
            Some(Value::List(items)) | Some(Value::Set(items)) => {
                for (i, item) in items.iter().enumerate() {
                    validate(&b.block, item, &base.clone().index(i as i64), diags);
                }
            }
            Some(obj @ Value::Object(_)) => validate(&b.block, obj, &base, diags),
            _ => {}
        }
    }
}

fn check_value(a: &Attribute, v: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    match v {
        Value::String(s) => check_string(a, s, path, diags),
        Value::Number(n) if a.whole && n.as_i64().is_none() => diags.push(
            Diagnostic::error(format!("Invalid value for {}", a.name), format!("{n} is not a whole number."))
                .at(path.clone()),
        ),
        Value::List(items) | Value::Set(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(a, item, &path.clone().index(i as i64), diags);
            }
        }
        Value::Map(m) => {
            for (k, item) in m {
                check_value(a, item, &path.clone().key(k), diags);
            }
        }
        _ => {}
    }
}

fn check_string(a: &Attribute, s: &str, path: &AttributePath, diags: &mut Diagnostics) {
    if let Some(allowed) = a.one_of {
        if canonical(allowed, s).is_none() {
            diags.push(
                Diagnostic::error(
                    format!("Invalid value for {}", a.name),
                    format!("{s:?} is not one of: {}. Values are matched case-insensitively.", allowed.join(", ")),
                )
                .at(path.clone()),
            );
        }
    }
    for check in &a.checks {
        if let Err(why) = check(s) {
            diags.push(Diagnostic::error(format!("Invalid value for {}", a.name), why).at(path.clone()));
        }
    }
}

/// Azure's canonical spelling of `value` among `allowed`, compared
/// case-insensitively.
pub fn canonical(allowed: &[&'static str], value: &str) -> Option<&'static str> {
    allowed.iter().copied().find(|c| c.eq_ignore_ascii_case(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::schema::NestedBlock;

    fn no_spaces(s: &str) -> Result<(), String> {
        if s.contains(' ') {
            Err("must not contain spaces".into())
        } else {
            Ok(())
        }
    }

    #[test]
    fn reports_each_problem_on_its_path() {
        let block = Block::new("")
            .attr(Attribute::string("kind", "").optional().one_of(&["VirtualAppliance", "Internet"]))
            .block(NestedBlock::exactly_one(
                "inner",
                Block::new("").attr(Attribute::string_list("names", "").optional().check(no_spaces)),
            ));
        let cfg = Value::Object(
            [
                ("kind".to_string(), Value::string("virtualappliance")),
                (
                    "inner".to_string(),
                    Value::List(vec![Value::Object(
                        [(
                            "names".to_string(),
                            Value::List(vec![Value::string("ok"), Value::string("not ok"), Value::Unknown]),
                        )]
                        .into(),
                    )]),
                ),
            ]
            .into(),
        );
        let mut d = Diagnostics::new();
        validate(&block, &cfg, &AttributePath::default(), &mut d);
        let paths: Vec<String> = d.iter().filter_map(|d| d.path.as_ref()).map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["inner[0].names[1]"]);

        let mut cfg2 = cfg.clone();
        cfg2.set_attr("kind", Value::string("Firewall"));
        let mut d = Diagnostics::new();
        validate(&block, &cfg2, &AttributePath::default(), &mut d);
        assert!(d
            .iter()
            .any(|d| d.path == Some(AttributePath::root("kind")) && d.detail.contains("VirtualAppliance, Internet")));
    }

    #[test]
    fn canonical_spelling() {
        assert_eq!(canonical(&["VirtualAppliance"], "VIRTUALAPPLIANCE"), Some("VirtualAppliance"));
        assert_eq!(canonical(&["VirtualAppliance"], "Virtual Appliance"), None);
    }

    #[test]
    fn whole_numbers() {
        let block = Block::new("").attr(Attribute::integer("count", "").optional());
        let cfg = |n: &str| {
            Value::Object(
                [("count".to_string(), Value::Number(crate::tf::value::Number::parse(n).expect("number")))].into(),
            )
        };
        let mut d = Diagnostics::new();
        validate(&block, &cfg("3"), &AttributePath::default(), &mut d);
        assert!(d.is_empty());
        validate(&block, &cfg("1.5"), &AttributePath::default(), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path, Some(AttributePath::root("count")));
    }
}
