//! Sample types and values of every shape, shared by the codecs' tests.
#![allow(clippy::expect_used)] // test-only code: a failed expectation is a failed test

use std::collections::BTreeMap;

use super::value::{Number, Type, Value};

pub fn num(text: &str) -> Value {
    Value::Number(Number::parse(text).expect("test number"))
}

pub fn obj_type(attrs: &[(&str, Type)]) -> Type {
    Type::Object(attrs.iter().map(|(k, t)| (k.to_string(), t.clone())).collect())
}

pub fn obj(attrs: &[(&str, Value)]) -> Value {
    Value::Object(attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

pub fn dynamic(ty: Type, v: Value) -> Value {
    Value::Dynamic(Box::new((ty, v)))
}

/// Null, unknown and the samples of `ty`.
pub fn variants(ty: &Type) -> Vec<Value> {
    let mut out = vec![Value::Null, Value::Unknown];
    out.extend(samples(ty));
    out
}

/// Known values of `ty`. For a composite type: one built from the first
/// sample of every child, plus one per variant of each child with the others
/// left at their first sample, so null and unknown appear at every level.
pub fn samples(ty: &Type) -> Vec<Value> {
    let children = |tys: Vec<&Type>, build: &dyn Fn(Vec<Value>) -> Value| -> Vec<Value> {
        let base: Vec<Value> = tys.iter().map(|t| samples(t)[0].clone()).collect();
        let mut out = vec![build(base.clone())];
        for (i, t) in tys.iter().enumerate() {
            for v in variants(t) {
                let mut vals = base.clone();
                vals[i] = v;
                out.push(build(vals));
            }
        }
        out
    };
    match ty {
        Type::Bool => vec![Value::Bool(true), Value::Bool(false)],
        Type::Number => vec![Value::int(42), num("-0.5"), num("123456789012345678901234567890.5")],
        Type::String => vec![Value::string("hello"), Value::string(""), Value::string("ünïcødé ✓")],
        Type::Dynamic => vec![
            dynamic(Type::String, Value::string("d")),
            dynamic(Type::list(Type::Number), Value::List(vec![Value::int(1), Value::Unknown])),
            dynamic(Type::Number, Value::Null),
        ],
        Type::List(et) => {
            let mut out = children(vec![et, et], &|v| Value::List(v));
            out.push(Value::List(vec![]));
            out
        }
        Type::Set(et) => {
            let mut out = children(vec![et], &|v| Value::Set(v));
            out.push(Value::Set(vec![]));
            out
        }
        Type::Map(et) => {
            let mut out = children(vec![et, et], &|v| {
                Value::Map(v.into_iter().enumerate().map(|(i, v)| (format!("key{i}"), v)).collect())
            });
            out.push(Value::Map(BTreeMap::new()));
            out
        }
        Type::Tuple(ets) => children(ets.iter().collect(), &|v| Value::Tuple(v)),
        Type::Object(atys) => {
            let names: Vec<&String> = atys.keys().collect();
            children(atys.values().collect(), &|v| Value::Object(names.iter().map(|n| n.to_string()).zip(v).collect()))
        }
    }
}

pub fn cluster_type() -> Type {
    let pool = obj_type(&[
        ("name", Type::String),
        ("count", Type::Number),
        ("zones", Type::set(Type::String)),
        ("labels", Type::map(Type::String)),
    ]);
    obj_type(&[
        ("id", Type::String),
        ("enabled", Type::Bool),
        (
            "network_profile",
            Type::list(obj_type(&[("outbound_type", Type::String), ("routes", Type::list(pool.clone()))])),
        ),
        ("pools", Type::set(pool)),
        ("pair", Type::Tuple(vec![Type::Number, Type::list(Type::Bool)])),
        ("extra", Type::Dynamic),
        ("empty", obj_type(&[])),
    ])
}

/// Types covering every kind, nested, for round-trip tests.
pub fn round_trip_types() -> Vec<Type> {
    vec![
        Type::Bool,
        Type::Number,
        Type::String,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Bool),
        Type::Tuple(vec![]),
        Type::Tuple(vec![Type::String, Type::Number, Type::Dynamic]),
        Type::list(Type::list(Type::map(Type::set(Type::String)))),
        Type::map(Type::Dynamic),
        cluster_type(),
    ]
}
