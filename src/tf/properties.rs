//! Property tests of the wire codecs: whatever bytes Terraform (or an
//! attacker on a broken connection) sends, decoding returns a value or an
//! error and never panics; and every value of every type survives an
//! encode → decode round trip. `make fuzz` runs them with many more cases
//! (`AKSUDR_FUZZ_CASES`) than `make test` does, and prints the count.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::value::{Number, Type, Value};
use super::{json, msgpack};

/// Cases per property: `AKSUDR_FUZZ_CASES`, else a quick default.
pub(crate) fn cases() -> u32 {
    std::env::var("AKSUDR_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000)
}

/// Runs `strategy` through `test` for [`cases`] cases and prints how many.
pub(crate) fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let n = cases();
    let mut runner = TestRunner::new(Config { cases: n, failure_persistence: None, ..Config::default() });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    println!("property {name}: {n} cases passed");
}

fn leaf_type() -> impl Strategy<Value = Type> {
    prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)]
}

/// Types of bounded depth, every kind included.
fn any_type() -> impl Strategy<Value = Type> {
    leaf_type().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            proptest::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            proptest::collection::vec(inner, 0..3).prop_map(Type::Tuple),
            Just(Type::Dynamic),
        ]
    })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        "-?[1-9][0-9]{0,40}(\\.[0-9]{1,20})?".prop_filter_map("decimal", |s| Number::parse(&s)),
    ]
}

/// A value of `ty`; `unknown` allows unknowns (msgpack carries them, JSON
/// state does not).
fn value_of(ty: Type, unknown: bool) -> BoxedStrategy<Value> {
    let concrete: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::Dynamic => {
            leaf_type().prop_flat_map(move |t| value_of(t.clone(), unknown).prop_map(move |v| dynamic(&t, v))).boxed()
        }
        Type::List(t) => proptest::collection::vec(value_of(*t, unknown), 0..4).prop_map(Value::List).boxed(),
        // Distinct elements: a set holds each value once.
        Type::Set(t) => proptest::collection::vec(value_of(*t, unknown), 0..4)
            .prop_map(|items| {
                let mut out: Vec<Value> = Vec::new();
                for i in items {
                    if !i.is_unknown() && !out.iter().any(|o| o.semantically_equal(&i)) {
                        out.push(i);
                    }
                }
                Value::Set(out)
            })
            .boxed(),
        Type::Map(t) => {
            proptest::collection::btree_map(".{0,6}", value_of(*t, unknown), 0..4).prop_map(Value::Map).boxed()
        }
        Type::Object(attrs) => {
            let fields: Vec<BoxedStrategy<(String, Value)>> = attrs
                .into_iter()
                .map(|(k, t)| value_of(t, unknown).prop_map(move |v| (k.clone(), v)).boxed())
                .collect();
            fields.prop_map(|pairs| Value::Object(pairs.into_iter().collect::<BTreeMap<_, _>>())).boxed()
        }
        Type::Tuple(types) => {
            let items: Vec<BoxedStrategy<Value>> = types.into_iter().map(|t| value_of(t, unknown)).collect();
            items.prop_map(Value::Tuple).boxed()
        }
    };
    if unknown {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => concrete].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => concrete].boxed()
    }
}

/// A dynamic value as the codecs represent it: null and unknown stay bare.
fn dynamic(t: &Type, v: Value) -> Value {
    match v {
        Value::Null | Value::Unknown => v,
        v => Value::Dynamic(Box::new((t.clone(), v))),
    }
}

fn typed_value(unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    any_type().prop_flat_map(move |t| value_of(t.clone(), unknown).prop_map(move |v| (t.clone(), v)))
}

#[test]
fn msgpack_decoding_arbitrary_bytes_never_panics() {
    check(
        "msgpack decode of arbitrary bytes",
        (any_type(), proptest::collection::vec(any::<u8>(), 0..64)),
        |(t, b)| {
            let _ = msgpack::decode(&b, &t);
            Ok(())
        },
    );
}

#[test]
fn json_decoding_arbitrary_bytes_never_panics() {
    let text = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[\\[\\]{}\",:0-9a-z .eE+-]{0,48}".prop_map(String::into_bytes),
    ];
    check("json decode of arbitrary bytes", (any_type(), text), |(t, b)| {
        let _ = json::decode(&b, &t);
        Ok(())
    });
}

/// Values equal as cty compares them after a msgpack trip: a fractional
/// number that travelled as an exact float64 comes back as the shortest
/// decimal of that float (cty's `rawNumberEqual` compares fractional
/// numbers by that text), everything else exactly.
fn cty_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || x.as_f64().is_some_and(|f| Number::from_f64(f).as_ref() == Some(y) && y.as_f64() == Some(f))
        }
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| cty_equal(p, q))
        }
        (Value::Set(x), Value::Set(y)) => x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| cty_equal(p, q))),
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| cty_equal(p, q)))
        }
        (Value::Dynamic(x), Value::Dynamic(y)) => x.0 == y.0 && cty_equal(&x.1, &y.1),
        _ => a == b,
    }
}

#[test]
fn msgpack_round_trips_every_value() {
    check("msgpack round trip", typed_value(true), |(t, v)| {
        let bytes = msgpack::encode(&v, &t).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let back = msgpack::decode(&bytes, &t).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
        prop_assert!(cty_equal(&v, &back), "{v:?} came back as {back:?}");
        // And what came back travels unchanged from then on.
        let again = msgpack::encode(&back, &t).map_err(|e| TestCaseError::fail(format!("re-encode: {e}")))?;
        let twice = msgpack::decode(&again, &t).map_err(|e| TestCaseError::fail(format!("re-decode: {e}")))?;
        prop_assert!(twice.semantically_equal(&back), "{back:?} came back as {twice:?}");
        Ok(())
    });
}

#[test]
fn json_round_trips_every_known_value() {
    check("json round trip", typed_value(false), |(t, v)| {
        let j = json::encode(&v, &t).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let back = json::decode_json(&j, &t).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
        prop_assert!(back.semantically_equal(&v), "{v:?} came back as {back:?}");
        Ok(())
    });
}
