//! The standard planning behaviour every resource gets: defaults, computed
//! values that become unknown on change, and which changes force replacement.

use std::collections::BTreeMap;

use super::diag::AttributePath;
use super::schema::{Block, Nesting};
use super::value::Value;

/// The framework's plan for one resource instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Plans a create (`prior` null) or an update from Terraform's proposed new
/// state (configuration merged with prior computed values).
pub fn plan(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> Planned {
    let prior = (!prior.is_null()).then_some(prior);
    let mut state = plan_object(block, prior, proposed, config);
    let mut requires_replace = Vec::new();
    if let Some(prior) = prior {
        if !same_object(block, prior, &state) {
            forget_unstable(block, &mut state, config);
        }
        collect_replacements(block, prior, &state, &AttributePath::default(), &mut requires_replace);
    }
    Planned { state, requires_replace }
}

fn attr_or_null<'a>(v: Option<&'a Value>, name: &str) -> &'a Value {
    const NULL: &Value = &Value::Null;
    v.and_then(|v| v.attr(name)).unwrap_or(NULL)
}

fn plan_object(block: &Block, prior: Option<&Value>, proposed: &Value, config: &Value) -> Value {
    if proposed.is_null() || proposed.is_unknown() {
        return proposed.clone();
    }
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let cfg = attr_or_null(Some(config), a.name);
        let prop = attr_or_null(Some(proposed), a.name);
        let v = if a.computed && cfg.is_null() {
            match (&a.default, prior) {
                (Some(d), _) => d.clone(),
                (None, None) => Value::Unknown,
                // Terraform copies the prior computed value into `proposed`.
                (None, Some(_)) => prop.clone(),
            }
        } else {
            match prior.and_then(|p| p.attr(a.name)) {
                // Terraform accepts the prior value in place of an equivalent
                // configured one ("West Europe" for "westeurope", another
                // set order), so such a difference never shows in a plan.
                Some(pri) if !pri.is_null() && !cfg.is_null() && !prop.is_unknown() && a.same(pri, prop) => pri.clone(),
                _ => prop.clone(),
            }
        };
        out.insert(a.name.to_string(), v);
    }
    for b in &block.blocks {
        let prop = attr_or_null(Some(proposed), b.name);
        let cfg = attr_or_null(Some(config), b.name);
        let pri = prior.and_then(|p| p.attr(b.name)).filter(|v| !v.is_null());
        let v = match (b.nesting, prop) {
            // A block cannot be computed: it exists in the plan exactly when
            // the configuration has it. (Older Terraform, e.g. 1.0.3,
            // proposes the prior block when the configuration drops it.)
            (Nesting::Single, _) if cfg.is_null() => Value::Null,
            (Nesting::List, Value::List(items)) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let pri_i = pri.and_then(|p| p.elements()).and_then(|e| e.get(i));
                        let cfg_i = cfg.elements().and_then(|e| e.get(i)).unwrap_or(&Value::Null);
                        plan_object(&b.block, pri_i, item, cfg_i)
                    })
                    .collect(),
            ),
            (Nesting::Single, Value::Object(_)) => plan_object(&b.block, pri, prop, cfg),
            _ => prop.clone(),
        };
        out.insert(b.name.to_string(), v);
    }
    Value::Object(out)
}

/// Whether two instances of a block are the same for Azure, attribute by
/// attribute, honouring each attribute's equivalence.
pub fn same_object(block: &Block, a: &Value, b: &Value) -> bool {
    if a.is_null() || b.is_null() || a.is_unknown() || b.is_unknown() {
        return a == b;
    }
    let attrs_same =
        block.attributes.iter().all(|at| at.same(attr_or_null(Some(a), at.name), attr_or_null(Some(b), at.name)));
    attrs_same
        && block.blocks.iter().all(|nb| {
            let (x, y) = (attr_or_null(Some(a), nb.name), attr_or_null(Some(b), nb.name));
            match (x.elements(), y.elements()) {
                (Some(xs), Some(ys)) => {
                    xs.len() == ys.len() && xs.iter().zip(ys).all(|(p, q)| same_object(&nb.block, p, q))
                }
                _ if nb.nesting == Nesting::Single => same_object(&nb.block, x, y),
                _ => x == y,
            }
        })
}

/// Computed values the configuration does not set become unknown when the
/// resource changes, unless declared stable: the update may change them.
fn forget_unstable(block: &Block, state: &mut Value, config: &Value) {
    for a in &block.attributes {
        let cfg_null = attr_or_null(Some(config), a.name).is_null();
        if a.computed && cfg_null && a.default.is_none() && !a.stable {
            state.set_attr(a.name, Value::Unknown);
        }
    }
    for b in &block.blocks {
        let cfg = attr_or_null(Some(config), b.name).clone();
        match state.attr_mut(b.name) {
            Some(Value::List(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let cfg_i = cfg.elements().and_then(|e| e.get(i)).cloned().unwrap_or(Value::Null);
                    forget_unstable(&b.block, item, &cfg_i);
                }
            }
            Some(obj @ Value::Object(_)) => forget_unstable(&b.block, obj, &cfg),
            _ => {}
        }
    }
}

fn collect_replacements(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for a in block.attributes.iter().filter(|a| a.forces_replacement) {
        let (p, n) = (attr_or_null(Some(prior), a.name), attr_or_null(Some(planned), a.name));
        if !a.same(p, n) {
            out.push(path.clone().attr(a.name));
        }
    }
    for b in &block.blocks {
        let (p, n) = (attr_or_null(Some(prior), b.name), attr_or_null(Some(planned), b.name));
        let base = path.clone().attr(b.name);
        match (p.elements(), n.elements()) {
            (Some(ps), Some(ns)) => {
                for (i, (pi, ni)) in ps.iter().zip(ns).enumerate() {
                    collect_replacements(&b.block, pi, ni, &base.clone().index(i as i64), out);
                }
            }
            _ if b.nesting == Nesting::Single && !p.is_null() && !n.is_null() => {
                collect_replacements(&b.block, p, n, &base, out)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::schema::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new("t")
            .attr(Attribute::string("id", "id").computed().stable())
            .attr(Attribute::string("name", "n").required().forces_replacement())
            .attr(Attribute::string("fqdn", "f").computed())
            .attr(Attribute::bool("flag", "b").default(Value::Bool(true)))
            .attr(Attribute::string("kind", "k").optional().one_of(&["VirtualAppliance", "Internet"]))
            .block(NestedBlock::exactly_one(
                "pool",
                Block::new("p")
                    .attr(Attribute::number("count", "c").default(Value::int(1)))
                    .attr(Attribute::string("size", "s").required().forces_replacement()),
            ))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn pool(count: Value, size: &str) -> Value {
        Value::List(vec![obj(&[("count", count), ("size", Value::string(size))])])
    }

    fn config(name: &str, kind: &str, size: &str) -> Value {
        obj(&[
            ("id", Value::Null),
            ("name", Value::string(name)),
            ("fqdn", Value::Null),
            ("flag", Value::Null),
            ("kind", Value::string(kind)),
            ("pool", pool(Value::Null, size)),
        ])
    }

    #[test]
    fn create_fills_defaults_and_unknowns() {
        let cfg = config("a", "Internet", "small");
        let p = plan(&block(), &Value::Null, &cfg, &cfg);
        assert_eq!(p.state.attr("id"), Some(&Value::Unknown));
        assert_eq!(p.state.attr("fqdn"), Some(&Value::Unknown));
        assert_eq!(p.state.attr("flag"), Some(&Value::Bool(true)));
        assert_eq!(p.state.attr("pool"), Some(&pool(Value::int(1), "small")));
        assert!(p.requires_replace.is_empty());
    }

    fn prior() -> Value {
        obj(&[
            ("id", Value::string("/x")),
            ("name", Value::string("a")),
            ("fqdn", Value::string("a.example")),
            ("flag", Value::Bool(true)),
            ("kind", Value::string("Internet")),
            ("pool", pool(Value::int(1), "small")),
        ])
    }

    /// What Terraform proposes: config with prior computed values merged in.
    fn proposed(cfg: &Value, prior: &Value) -> Value {
        let mut p = cfg.clone();
        for k in ["id", "fqdn", "flag"] {
            if let Some(v) = prior.attr(k) {
                p.set_attr(k, v.clone());
            }
        }
        let mut pl = pool(Value::int(1), "small");
        if let Some(Value::List(items)) = cfg.attr("pool") {
            pl = Value::List(
                items
                    .iter()
                    .map(|i| {
                        let mut i = i.clone();
                        i.set_attr("count", Value::int(1));
                        i
                    })
                    .collect(),
            );
        }
        p.set_attr("pool", pl);
        p
    }

    #[test]
    fn no_change_keeps_everything() {
        let cfg = config("a", "Internet", "small");
        let pri = prior();
        let p = plan(&block(), &pri, &proposed(&cfg, &pri), &cfg);
        assert_eq!(p.state, pri);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn case_only_change_is_not_a_change() {
        let cfg = config("a", "INTERNET", "small");
        let pri = prior();
        let p = plan(&block(), &pri, &proposed(&cfg, &pri), &cfg);
        // The prior spelling is kept, so nothing changes at all.
        assert_eq!(p.state, pri);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn update_forgets_unstable_computed_and_reports_replacement() {
        let cfg = config("b", "Internet", "large");
        let pri = prior();
        let p = plan(&block(), &pri, &proposed(&cfg, &pri), &cfg);
        assert_eq!(p.state.attr("id"), Some(&Value::string("/x")));
        assert_eq!(p.state.attr("fqdn"), Some(&Value::Unknown));
        let paths: Vec<String> = p.requires_replace.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, vec!["name", "pool[0].size"]);
    }

    #[test]
    fn a_single_block_dropped_from_the_configuration_is_planned_null() {
        let b = Block::new("t")
            .attr(Attribute::string("name", "n").required())
            .block(NestedBlock::single("timeouts", Block::new("t").attr(Attribute::string("create", "c").optional())));
        let pri = obj(&[("name", Value::string("a")), ("timeouts", obj(&[("create", Value::string("10m"))]))]);
        let cfg = obj(&[("name", Value::string("a")), ("timeouts", Value::Null)]);
        // What Terraform 1.0.3 proposes: the prior block.
        let p = plan(&b, &pri, &pri, &cfg);
        assert_eq!(p.state.attr("timeouts"), Some(&Value::Null));
    }

    #[test]
    fn destroy_plans_null() {
        let p = plan(&block(), &prior(), &Value::Null, &Value::Null);
        assert_eq!(p.state, Value::Null);
    }
}
