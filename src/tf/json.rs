//! Terraform's JSON form of values, as in state files and
//! `UpgradeResourceState`'s `RawState.json` (cty's `json` package).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::codec_error::{preview, type_kind, value_kind, CodecError, MAX_DEPTH};
use super::diag::Step;
use super::typejson;
use super::value::{Number, Type, Value};

/// Decodes JSON text as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| CodecError::at(&[], format!("invalid JSON: {e}")))?;
    decode_json(&json, ty)
}

/// Decodes already-parsed JSON as a value of type `ty`. Numbers keep every
/// digit (the crate builds serde_json with `arbitrary_precision`).
pub fn decode_json(json: &Json, ty: &Type) -> Result<Value, CodecError> {
    Decoder { path: Vec::new(), depth: 0 }.value(json, ty)
}

/// Encodes `v`, which must conform to `ty` and be wholly known, as JSON.
/// Object attributes missing from `v` are written as null.
pub fn encode(v: &Value, ty: &Type) -> Result<Json, CodecError> {
    Encoder { path: Vec::new(), depth: 0 }.value(v, ty)
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

struct Decoder {
    path: Vec<Step>,
    depth: usize,
}

impl Decoder {
    fn err(&self, message: impl Into<String>) -> CodecError {
        CodecError::at(&self.path, message)
    }

    fn mismatch(&self, expected: &str, found: &Json) -> CodecError {
        self.err(format!("expected {expected}, found {}", json_kind(found)))
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn number(&self, text: &str) -> Result<Number, CodecError> {
        Number::parse(text).ok_or_else(|| self.err(format!("invalid number {}", preview(text))))
    }

    fn value(&mut self, json: &Json, ty: &Type) -> Result<Value, CodecError> {
        if json.is_null() {
            return Ok(Value::Null);
        }
        // Like cty, primitives convert from other primitives where Terraform
        // would: older states hold numbers and bools as strings.
        match (ty, json) {
            (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Bool, Json::String(s)) if s == "true" => Ok(Value::Bool(true)),
            (Type::Bool, Json::String(s)) if s == "false" => Ok(Value::Bool(false)),
            (Type::Bool, Json::String(s)) => Err(self.err(format!("expected bool, found string {}", preview(s)))),
            (Type::Bool, other) => Err(self.mismatch("bool", other)),
            (Type::Number, Json::Number(n)) => self.number(n.as_str()).map(Value::Number),
            (Type::Number, Json::String(s)) => self.number(s).map(Value::Number),
            (Type::Number, other) => Err(self.mismatch("number", other)),
            (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
            // cty keeps the number's literal text.
            (Type::String, Json::Number(n)) => Ok(Value::string(n.as_str())),
            (Type::String, Json::Bool(b)) => Ok(Value::string(b.to_string())),
            (Type::String, other) => Err(self.mismatch("string", other)),
            (Type::List(et), Json::Array(items)) => self.elements(items, |_| et).map(Value::List),
            (Type::Set(et), Json::Array(items)) => self.elements(items, |_| et).map(Value::Set),
            (Type::Tuple(ets), Json::Array(items)) => {
                if items.len() != ets.len() {
                    return Err(self.err(format!("expected a tuple of {} elements, found {}", ets.len(), items.len())));
                }
                self.elements(items, |i| &ets[i]).map(Value::Tuple)
            }
            (Type::List(_) | Type::Set(_) | Type::Tuple(_), other) => {
                Err(self.mismatch(&format!("an array for a {}", type_kind(ty)), other))
            }
            (Type::Map(et), Json::Object(entries)) => {
                self.enter()?;
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    self.path.push(Step::Key(k.clone()));
                    out.insert(k.clone(), self.value(v, et)?);
                    self.path.pop();
                }
                self.leave();
                Ok(Value::Map(out))
            }
            (Type::Object(atys), Json::Object(attrs)) => self.object(attrs, atys),
            (Type::Map(_) | Type::Object(_), other) => {
                Err(self.mismatch(&format!("a JSON object for a {}", type_kind(ty)), other))
            }
            (Type::Dynamic, Json::Object(fields)) => self.dynamic(fields),
            (Type::Dynamic, other) => Err(self.mismatch("a {\"value\", \"type\"} object for a dynamic value", other)),
        }
    }

    fn elements<'t>(
        &mut self,
        items: &[Json],
        elem_type: impl Fn(usize) -> &'t Type,
    ) -> Result<Vec<Value>, CodecError> {
        self.enter()?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path.push(Step::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            out.push(self.value(item, elem_type(i))?);
            self.path.pop();
        }
        self.leave();
        Ok(out)
    }

    /// Attributes the JSON leaves out are null; ones the type lacks are an
    /// error, as in cty, and the caller decides whether to drop them first.
    fn object(&mut self, attrs: &Map<String, Json>, atys: &BTreeMap<String, Type>) -> Result<Value, CodecError> {
        if let Some(extra) = attrs.keys().find(|k| !atys.contains_key(*k)) {
            return Err(self.err(format!("unsupported attribute {}", preview(extra))));
        }
        self.enter()?;
        let mut out = BTreeMap::new();
        for (name, aty) in atys {
            let v = match attrs.get(name) {
                Some(json) => {
                    self.path.push(Step::Attr(name.clone()));
                    let v = self.value(json, aty)?;
                    self.path.pop();
                    v
                }
                None => Value::Null,
            };
            out.insert(name.clone(), v);
        }
        self.leave();
        Ok(Value::Object(out))
    }

    /// A known value of dynamic type is `{"value": ..., "type": ...}`.
    fn dynamic(&mut self, fields: &Map<String, Json>) -> Result<Value, CodecError> {
        if let Some(extra) = fields.keys().find(|k| *k != "value" && *k != "type") {
            return Err(self.err(format!("invalid key {} in a dynamic value", preview(extra))));
        }
        let (Some(value), Some(type_json)) = (fields.get("value"), fields.get("type")) else {
            return Err(self.err("a dynamic value needs both \"value\" and \"type\""));
        };
        let ty = typejson::type_from_json_value(type_json).map_err(|e| self.err(e.message))?;
        self.enter()?;
        let v = self.value(value, &ty)?;
        self.leave();
        Ok(Value::Dynamic(Box::new((ty, v))))
    }
}

struct Encoder {
    path: Vec<Step>,
    depth: usize,
}

impl Encoder {
    fn err(&self, message: impl Into<String>) -> CodecError {
        CodecError::at(&self.path, message)
    }

    fn enter(&mut self) -> Result<(), CodecError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<Json, CodecError> {
        Ok(match (v, ty) {
            (Value::Unknown, _) => return Err(self.err("an unknown value cannot be written as JSON")),
            (Value::Null, _) => Json::Null,
            // cty writes "value" before "type"; serde_json keeps insertion
            // order here (`preserve_order`).
            (Value::Dynamic(inner), Type::Dynamic) => {
                let (concrete, v) = &**inner;
                self.enter()?;
                let mut fields = Map::new();
                fields.insert("value".to_string(), self.value(v, concrete)?);
                fields.insert("type".to_string(), typejson::type_to_json(concrete));
                self.leave();
                Json::Object(fields)
            }
            (other, Type::Dynamic) => {
                return Err(self.err(format!(
                    "a known value of dynamic type must be Value::Dynamic carrying its type, found {}",
                    value_kind(other)
                )))
            }
            (Value::Bool(b), Type::Bool) => Json::Bool(*b),
            (Value::Number(n), Type::Number) => Json::Number(
                n.as_str()
                    .parse()
                    .map_err(|e| self.err(format!("number {} is not valid JSON: {e}", preview(n.as_str()))))?,
            ),
            (Value::String(s), Type::String) => Json::String(s.clone()),
            (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
                self.elements(items, |_| et)?
            }
            (Value::Tuple(items), Type::Tuple(ets)) => {
                if items.len() != ets.len() {
                    return Err(self.err(format!(
                        "tuple type has {} elements but the value has {}",
                        ets.len(),
                        items.len()
                    )));
                }
                self.elements(items, |i| &ets[i])?
            }
            (Value::Map(entries), Type::Map(et)) => {
                self.enter()?;
                let mut out = Map::new();
                for (k, v) in entries {
                    self.path.push(Step::Key(k.clone()));
                    out.insert(k.clone(), self.value(v, et)?);
                    self.path.pop();
                }
                self.leave();
                Json::Object(out)
            }
            (Value::Object(attrs), Type::Object(atys)) => {
                if let Some(extra) = attrs.keys().find(|k| !atys.contains_key(*k)) {
                    return Err(self.err(format!("unsupported attribute {}", preview(extra))));
                }
                self.enter()?;
                let mut out = Map::new();
                for (name, aty) in atys {
                    self.path.push(Step::Attr(name.clone()));
                    out.insert(name.clone(), self.value(attrs.get(name).unwrap_or(&Value::Null), aty)?);
                    self.path.pop();
                }
                self.leave();
                Json::Object(out)
            }
            (v, ty) => return Err(self.err(format!("expected {} value, found {}", type_kind(ty), value_kind(v)))),
        })
    }

    fn elements<'t>(&mut self, items: &[Value], elem_type: impl Fn(usize) -> &'t Type) -> Result<Json, CodecError> {
        self.enter()?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path.push(Step::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            out.push(self.value(item, elem_type(i))?);
            self.path.pop();
        }
        self.leave();
        Ok(Json::Array(out))
    }
}

/// Removes attributes that `ty` does not have, at every level, from stored
/// state: an attribute dropped from a schema without a version bump must not
/// make every existing state unreadable (terraform-plugin-go ignores them
/// the same way).
pub fn drop_undeclared_attributes(v: &mut serde_json::Value, ty: &Type) {
    match (ty, v) {
        (Type::Object(attrs), serde_json::Value::Object(map)) => {
            map.retain(|k, _| attrs.contains_key(k));
            for (k, t) in attrs {
                if let Some(inner) = map.get_mut(k) {
                    drop_undeclared_attributes(inner, t);
                }
            }
        }
        (Type::List(t) | Type::Set(t), serde_json::Value::Array(items)) => {
            for item in items {
                drop_undeclared_attributes(item, t);
            }
        }
        (Type::Map(t), serde_json::Value::Object(map)) => {
            for item in map.values_mut() {
                drop_undeclared_attributes(item, t);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use super::*;
    use crate::tf::test_values::*;

    fn state_type() -> Type {
        obj_type(&[
            ("id", Type::String),
            ("enabled", Type::Bool),
            ("node_count", Type::Number),
            ("max_pods", Type::Number),
            ("ratio", Type::Number),
            ("tiny", Type::Number),
            ("huge", Type::Number),
            ("tags", Type::map(Type::String)),
            ("zones", Type::set(Type::String)),
            (
                "network_profile",
                Type::list(obj_type(&[("outbound_type", Type::String), ("pod_cidrs", Type::list(Type::String))])),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("extra", Type::Dynamic),
            ("added_in_v2", Type::String),
        ])
    }

    #[test]
    fn decodes_a_state_document_keeping_every_digit() {
        let doc = br#"{
            "id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
            "enabled": true,
            "node_count": 3,
            "max_pods": 123456789012345678901234567890,
            "ratio": 0.1,
            "tiny": -1.25e-30,
            "huge": 18446744073709551617.000001,
            "tags": {"env": "prod", "owner": null},
            "zones": ["1", "3"],
            "network_profile": [{"outbound_type": "userDefinedRouting", "pod_cidrs": ["10.244.0.0/16"]}],
            "pair": ["a", 99999999999999999999.5],
            "extra": {"value": {"a": [1, 2.5]}, "type": ["object", {"a": ["list", "number"]}]}
        }"#;
        let want = obj(&[
            (
                "id",
                Value::string(
                    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
                ),
            ),
            ("enabled", Value::Bool(true)),
            ("node_count", Value::int(3)),
            ("max_pods", num("123456789012345678901234567890")),
            ("ratio", num("0.1")),
            ("tiny", num("-0.00000000000000000000000000000125")),
            ("huge", num("18446744073709551617.000001")),
            ("tags", Value::Map([("env".into(), Value::string("prod")), ("owner".into(), Value::Null)].into())),
            ("zones", Value::Set(vec![Value::string("1"), Value::string("3")])),
            (
                "network_profile",
                Value::List(vec![obj(&[
                    ("outbound_type", Value::string("userDefinedRouting")),
                    ("pod_cidrs", Value::List(vec![Value::string("10.244.0.0/16")])),
                ])]),
            ),
            ("pair", Value::Tuple(vec![Value::string("a"), num("99999999999999999999.5")])),
            (
                "extra",
                dynamic(
                    obj_type(&[("a", Type::list(Type::Number))]),
                    obj(&[("a", Value::List(vec![Value::int(1), num("2.5")]))]),
                ),
            ),
            // Missing from the document: null.
            ("added_in_v2", Value::Null),
        ]);
        let got = decode(doc, &state_type()).expect("decode");
        assert_eq!(got, want);
        // Written back, the numbers keep their digits.
        let text = encode(&got, &state_type()).expect("encode").to_string();
        assert!(text.contains(r#""max_pods":123456789012345678901234567890,"#), "{text}");
        assert!(text.contains(r#""huge":18446744073709551617.000001,"#), "{text}");
        assert!(
            text.contains(r#""extra":{"value":{"a":[1,2.5]},"type":["object",{"a":["list","number"]}]}"#),
            "{text}"
        );
        assert_eq!(decode(text.as_bytes(), &state_type()), Ok(want));
    }

    #[test]
    fn primitives_convert_as_cty_does() {
        let cases: &[(&str, Type, Value)] = &[
            ("\"true\"", Type::Bool, Value::Bool(true)),
            ("\"false\"", Type::Bool, Value::Bool(false)),
            ("\"12.50\"", Type::Number, Value::Number(Number::parse("12.5").expect("number"))),
            ("1.50", Type::String, Value::string("1.50")),
            ("true", Type::String, Value::string("true")),
            ("null", Type::Dynamic, Value::Null),
            ("null", Type::list(Type::String), Value::Null),
            ("{}", obj_type(&[("a", Type::Number)]), obj(&[("a", Value::Null)])),
        ];
        for (text, ty, want) in cases {
            assert_eq!(decode(text.as_bytes(), ty).as_ref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn encodes_exactly_as_cty() {
        let cases: Vec<(Value, Type, &str)> = vec![
            (Value::string("hi"), Type::String, r#""hi""#),
            (Value::Null, Type::String, "null"),
            (num("-0.5"), Type::Number, "-0.5"),
            (num("1e30"), Type::Number, "1000000000000000000000000000000"),
            (Value::Set(vec![Value::Bool(true)]), Type::set(Type::Bool), "[true]"),
            (
                obj(&[("b", Value::int(1)), ("a", Value::string("x"))]),
                obj_type(&[("b", Type::Number), ("a", Type::String), ("c", Type::list(Type::String))]),
                r#"{"a":"x","b":1,"c":null}"#,
            ),
            (dynamic(Type::String, Value::string("x")), Type::Dynamic, r#"{"value":"x","type":"string"}"#),
            (dynamic(Type::Number, Value::Null), Type::Dynamic, r#"{"value":null,"type":"number"}"#),
        ];
        for (v, ty, want) in cases {
            assert_eq!(encode(&v, &ty).map(|j| j.to_string()).as_deref(), Ok(want));
        }
    }

    #[test]
    fn known_values_round_trip() {
        let mut count = 0;
        for ty in &round_trip_types() {
            for v in variants(ty).into_iter().filter(|v| !v.contains_unknown()) {
                let json = encode(&v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
                assert_eq!(decode(json.to_string().as_bytes(), ty).as_ref(), Ok(&v), "{json}");
                count += 1;
            }
        }
        assert!(count > 200, "only {count} cases");
    }

    #[test]
    fn malformed_input_is_an_error_naming_where() {
        let deep = (0..100).fold(Type::String, |t, _| Type::list(t));
        let cases: Vec<(String, Type, &str)> = vec![
            ("".into(), Type::String, "invalid JSON"),
            ("[1,".into(), Type::list(Type::Number), "invalid JSON"),
            ("{} {}".into(), Type::map(Type::String), "invalid JSON"),
            ("1".into(), Type::Bool, "expected bool, found number"),
            ("\"yes\"".into(), Type::Bool, "expected bool, found string \"yes\""),
            ("\"abc\"".into(), Type::Number, "invalid number \"abc\""),
            ("1e99999".into(), Type::Number, "invalid number"),
            ("[]".into(), Type::String, "expected string, found array"),
            ("{}".into(), Type::list(Type::String), "expected an array for a list, found object"),
            ("[]".into(), Type::map(Type::String), "expected a JSON object for a map, found array"),
            (r#"{"a":1}"#.into(), Type::map(Type::Bool), "at [\"a\"]: expected bool, found number"),
            (r#"["a"]"#.into(), Type::Tuple(vec![Type::String, Type::String]), "tuple of 2 elements, found 1"),
            (
                r#"{"id":"x","legacy_field":1}"#.into(),
                obj_type(&[("id", Type::String)]),
                "unsupported attribute \"legacy_field\"",
            ),
            (
                r#"{"network_profile":[{"outbound_type":[]}]}"#.into(),
                obj_type(&[("network_profile", Type::list(obj_type(&[("outbound_type", Type::String)])))]),
                "at network_profile[0].outbound_type: expected string, found array",
            ),
            ("\"x\"".into(), Type::Dynamic, "expected a {\"value\", \"type\"} object for a dynamic value"),
            (r#"{"value":1}"#.into(), Type::Dynamic, "needs both \"value\" and \"type\""),
            (r#"{"type":"number"}"#.into(), Type::Dynamic, "needs both \"value\" and \"type\""),
            (r#"{"value":1,"type":"number","x":0}"#.into(), Type::Dynamic, "invalid key \"x\""),
            (r#"{"value":1,"type":"num"}"#.into(), Type::Dynamic, "unknown primitive type \"num\""),
            (r#"{"value":"a","type":"number"}"#.into(), Type::Dynamic, "invalid number \"a\""),
            (format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100)), deep, "nested deeper than 64 levels"),
            (format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)), Type::list(Type::String), "invalid JSON"),
        ];
        for (text, ty, want) in cases {
            let err = decode(text.as_bytes(), &ty).expect_err(&text[..text.len().min(40)]).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn encode_rejects_unknowns_and_mismatches() {
        let ty = obj_type(&[("a", Type::list(Type::String)), ("d", Type::Dynamic)]);
        let cases: Vec<(Value, Type, &str)> = vec![
            (Value::Unknown, Type::String, "an unknown value cannot be written as JSON"),
            (
                obj(&[("a", Value::List(vec![Value::string("x"), Value::Unknown]))]),
                ty.clone(),
                "at a[1]: an unknown value cannot be written as JSON",
            ),
            (dynamic(Type::String, Value::Unknown), Type::Dynamic, "unknown value cannot"),
            (
                obj(&[("d", Value::string("x"))]),
                ty.clone(),
                "at d: a known value of dynamic type must be Value::Dynamic",
            ),
            (obj(&[("z", Value::Null)]), ty, "unsupported attribute \"z\""),
            (Value::Bool(true), Type::Number, "expected number value, found bool"),
            (Value::Tuple(vec![]), Type::Tuple(vec![Type::Bool]), "tuple type has 1 elements"),
        ];
        for (v, ty, want) in cases {
            let err = encode(&v, &ty).expect_err(&format!("{v:?}")).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn undeclared_attributes_are_dropped_at_every_level() {
        let ty = Type::Object(
            [
                ("a".to_string(), Type::String),
                ("b".to_string(), Type::list(Type::Object([("c".to_string(), Type::Number)].into()))),
            ]
            .into(),
        );
        let mut v = serde_json::json!({"a": "x", "gone": 1, "b": [{"c": 1, "old": true}]});
        drop_undeclared_attributes(&mut v, &ty);
        assert_eq!(v, serde_json::json!({"a": "x", "b": [{"c": 1}]}));
        assert!(decode(v.to_string().as_bytes(), &ty).is_ok());
    }
}
