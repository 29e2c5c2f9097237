//! A resource's time limits: the `timeouts` block every resource declares,
//! Go duration syntax as Terraform users write it, and each operation's
//! deadline.

use super::model::{Model, Val};
use super::schema::{Attribute, Block, NestedBlock};
use super::value::Value;

/// The values of a `timeouts` block, for a resource's model; its schema is
/// [`Timeouts::block`], whose descriptions state each resource's defaults.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "Time limits for each operation.")]
pub struct TimeoutValues {
    #[tf(description = "How long create may take.")]
    pub create: Val<String>,
    #[tf(description = "How long read may take.")]
    pub read: Val<String>,
    #[tf(description = "How long update may take.")]
    pub update: Val<String>,
    #[tf(description = "How long delete may take.")]
    pub delete: Val<String>,
}

/// A resource's time limits: declared once, they give both the `timeouts`
/// block (each default stated in its description) and each operation's
/// deadline.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub create: std::time::Duration,
    pub read: std::time::Duration,
    pub update: std::time::Duration,
    pub delete: std::time::Duration,
}

impl Timeouts {
    /// Limits in whole minutes.
    pub const fn minutes(create: u64, read: u64, update: u64, delete: u64) -> Self {
        use std::time::Duration;
        Timeouts {
            create: Duration::from_secs(create * 60),
            read: Duration::from_secs(read * 60),
            update: Duration::from_secs(update * 60),
            delete: Duration::from_secs(delete * 60),
        }
    }

    /// The `timeouts` block.
    pub fn block(&self) -> NestedBlock {
        let attr = |name: &'static str, default: std::time::Duration| {
            Attribute::string(
                name,
                &format!(
                    "How long {name} may take, as a Go duration such as `90m` or `1h30m`. Default {}m.",
                    default.as_secs() / 60
                ),
            )
            .optional()
            .check(check_duration)
        };
        NestedBlock::single(
            "timeouts",
            Block::new("Time limits for each operation.")
                .attr(attr("create", self.create))
                .attr(attr("read", self.read))
                .attr(attr("update", self.update))
                .attr(attr("delete", self.delete)),
        )
    }

    /// When `op` must be done by: the `timeouts` block's value in `v`
    /// (config, plan or state), else the default.
    pub fn deadline(&self, v: &Value, op: Op) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.duration(v, op)
    }

    /// How long `op` may take: the `timeouts` block's value in `v`, else
    /// the default.
    pub fn duration(&self, v: &Value, op: Op) -> std::time::Duration {
        let default = match op {
            Op::Create => self.create,
            Op::Read => self.read,
            Op::Update => self.update,
            Op::Delete => self.delete,
        };
        configured_duration(v, op).unwrap_or(default)
    }
}

/// The operations a `timeouts` block bounds.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
}

/// The `timeouts` block's value for `op` in `v` (config, plan or state).
fn configured_duration(v: &Value, op: Op) -> Option<std::time::Duration> {
    let key = match op {
        Op::Create => "create",
        Op::Read => "read",
        Op::Update => "update",
        Op::Delete => "delete",
    };
    v.attr("timeouts").and_then(|t| t.attr(key)).and_then(Value::as_str).and_then(parse_duration)
}

/// Go duration syntax (`90m`, `1h30m`, `45s`), as Terraform users write
/// timeouts.
pub fn check_duration(s: &str) -> Result<(), String> {
    parse_duration(s).map(|_| ()).ok_or_else(|| {
        format!("{s:?} is not a duration: write a number with a unit, such as \"90m\", \"1h30m\" or \"45s\".")
    })
}

/// Parses Go duration syntax into a `Duration`; `None` when malformed.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * secs;
    }
    (total.is_finite() && total < 1e9).then(|| std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Some(std::time::Duration::from_secs(5400)));
        for bad in ["", "90", "m", "1x", "1h-3m", "ü"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
