//! Terraform values and types: the in-memory form of what travels as
//! `DynamicValue`, with null and unknown as first-class states.

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform (cty) type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type; values of it carry their concrete type (see [`Value::Dynamic`]).
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
}

/// An arbitrary-precision decimal number, kept as its canonical decimal text
/// so that numbers beyond `i64`/`f64` round-trip exactly.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(String);

impl Number {
    /// Parses decimal text (`-12`, `3.5`, `1e400`); `None` when it is not a
    /// finite decimal number.
    pub fn parse(text: &str) -> Option<Number> {
        canonical_decimal(text).map(Number)
    }
    pub fn from_i64(n: i64) -> Number {
        Number(n.to_string())
    }
    /// `None` for NaN and infinities, which Terraform numbers cannot hold.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        // `{}` prints the shortest text that reads back to the same f64.
        Number::parse(&format!("{f}"))
    }
    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The value as `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    /// The value as the nearest `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Canonical form of a decimal number: no exponent, no leading zeros, no
/// trailing fractional zeros, no `-0`. Exponents are expanded, bounded so
/// that hostile input cannot allocate without limit.
fn canonical_decimal(text: &str) -> Option<String> {
    const MAX_DIGITS: i64 = 4096;
    let t = text.trim();
    let (neg, rest) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if exp.abs() > MAX_DIGITS {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    // Position of the decimal point counted from the start of `digits`.
    let point = int_part.len() as i64 + exp;
    let mut int_digits = String::new();
    let mut frac_digits = String::new();
    if point <= 0 {
        frac_digits.push_str(&"0".repeat(usize::try_from(-point).ok()?));
        frac_digits.push_str(&digits);
    } else if point as usize >= digits.len() {
        int_digits.push_str(&digits);
        int_digits.push_str(&"0".repeat(point as usize - digits.len()));
    } else {
        int_digits.push_str(&digits[..point as usize]);
        frac_digits.push_str(&digits[point as usize..]);
    }
    let int_digits = int_digits.trim_start_matches('0');
    let frac_digits = frac_digits.trim_end_matches('0');
    let mut out = String::new();
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Some("0".to_string());
    }
    if neg {
        out.push('-');
    }
    out.push_str(if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    });
    if !frac_digits.is_empty() {
        out.push('.');
        out.push_str(frac_digits);
    }
    Some(out)
}

/// A Terraform value. Null and unknown carry no type of their own: the
/// schema supplies it wherever a value is encoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Not known until apply.
    Unknown,
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements in the order they were received; equality is order-sensitive,
    /// use [`Value::semantically_equal`] to compare sets.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value in a position of type [`Type::Dynamic`], with its concrete type.
    Dynamic(Box<(Type, Value)>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(n: i64) -> Value {
        Value::Number(Number::from_i64(n))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when the value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().any(Value::contains_unknown)
            }
            Value::Map(m) | Value::Object(m) => m.values().any(Value::contains_unknown),
            Value::Dynamic(b) => b.1.contains_unknown(),
            _ => false,
        }
    }
    /// Attribute of an object; `None` for anything that is not an object.
    pub fn attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
    /// Sets an attribute of an object; no effect on other values.
    pub fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// Equality where set element order does not matter.
    pub fn semantically_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.semantically_equal(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.semantically_equal(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantically_equal(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).is_some_and(|y| x.semantically_equal(y)))
            }
            (Value::Dynamic(a), Value::Dynamic(b)) => a.0 == b.0 && a.1.semantically_equal(&b.1),
            _ => self == other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("007", "7"),
            ("1.500", "1.5"),
            ("1e3", "1000"),
            ("1.25e-2", "0.0125"),
            ("-12345678901234567890123", "-12345678901234567890123"),
            ("+4", "4"),
            (".5", "0.5"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Number::parse(input).map(|n| n.0),
                Some(want.to_string()),
                "{input}"
            );
        }
        for bad in ["", "-", "1.2.3", "abc", "1e", "NaN", "1e99999999"] {
            assert_eq!(Number::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn float_conversion_is_exact_for_shortest_repr() {
        assert_eq!(Number::from_f64(0.1).map(|n| n.0), Some("0.1".into()));
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_i64(i64::MIN).as_i64(), Some(i64::MIN));
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("a"), Value::string("b")]);
        let b = Value::Set(vec![Value::string("b"), Value::string("a")]);
        assert!(a.semantically_equal(&b));
        assert_ne!(a, b);
    }
}
