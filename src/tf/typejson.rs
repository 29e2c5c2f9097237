//! cty's JSON syntax for types, as found in dynamic values and schemas:
//! `"string"`, `["list","number"]`, `["object",{"a":"bool"}]` and so on.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::codec_error::{preview, CodecError, MAX_DEPTH};
use super::value::Type;

/// The JSON form of a type. Object attributes come out in name order, as
/// cty writes them (it marshals a Go map, whose keys `encoding/json` sorts).
pub fn type_to_json(ty: &Type) -> Json {
    match ty {
        Type::Bool => Json::from("bool"),
        Type::Number => Json::from("number"),
        Type::String => Json::from("string"),
        Type::Dynamic => Json::from("dynamic"),
        Type::List(e) => Json::Array(vec![Json::from("list"), type_to_json(e)]),
        Type::Set(e) => Json::Array(vec![Json::from("set"), type_to_json(e)]),
        Type::Map(e) => Json::Array(vec![Json::from("map"), type_to_json(e)]),
        Type::Object(attrs) => {
            let attrs = attrs.iter().map(|(k, t)| (k.clone(), type_to_json(t))).collect();
            Json::Array(vec![Json::from("object"), Json::Object(attrs)])
        }
        Type::Tuple(elems) => {
            Json::Array(vec![Json::from("tuple"), Json::Array(elems.iter().map(type_to_json).collect())])
        }
    }
}

/// The compact JSON text of a type, as cty's `Type.MarshalJSON` produces.
pub fn type_to_json_bytes(ty: &Type) -> Vec<u8> {
    // `Display` of a JSON value is compact JSON and cannot fail.
    type_to_json(ty).to_string().into_bytes()
}

/// Parses a type from its JSON text.
pub fn type_from_json(bytes: &[u8]) -> Result<Type, CodecError> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| CodecError::at(&[], format!("invalid type JSON: {e}")))?;
    type_from_json_value(&json)
}

/// Parses a type from already-parsed JSON.
pub fn type_from_json_value(json: &Json) -> Result<Type, CodecError> {
    parse(json, 0).map_err(|message| CodecError::at(&[], format!("invalid type: {message}")))
}

fn parse(json: &Json, depth: usize) -> Result<Type, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let items = match json {
        Json::String(name) => {
            return match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(format!("unknown primitive type {}", preview(other))),
            }
        }
        Json::Array(items) => items,
        other => return Err(format!("expected a string or an array, found {}", preview(&other.to_string()))),
    };
    let Some(Json::String(kind)) = items.first() else {
        return Err("a type array must start with the kind name".to_string());
    };
    let args = &items[1..];
    match (kind.as_str(), args) {
        ("list", [e]) => Ok(Type::list(parse(e, depth + 1)?)),
        ("set", [e]) => Ok(Type::set(parse(e, depth + 1)?)),
        ("map", [e]) => Ok(Type::map(parse(e, depth + 1)?)),
        // cty 1.3+ adds a third element naming the optional attributes; that
        // only matters for type constraints, never for values, so it is
        // checked for shape and otherwise ignored.
        ("object", [Json::Object(attrs)]) | ("object", [Json::Object(attrs), Json::Array(_)]) => {
            let mut out = BTreeMap::new();
            for (name, t) in attrs {
                let t = parse(t, depth + 1).map_err(|e| format!("attribute {}: {e}", preview(name)))?;
                out.insert(name.clone(), t);
            }
            Ok(Type::Object(out))
        }
        ("tuple", [Json::Array(elems)]) => {
            let elems = elems.iter().map(|t| parse(t, depth + 1)).collect::<Result<_, _>>()?;
            Ok(Type::Tuple(elems))
        }
        ("list" | "set" | "map", _) => Err(format!("{kind} needs exactly one element type")),
        ("object", _) => Err("object needs a JSON object of attribute types".to_string()),
        ("tuple", _) => Err("tuple needs a JSON array of element types".to_string()),
        (other, _) => Err(format!("unknown type kind {}", preview(other))),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use super::*;

    fn obj(attrs: &[(&str, Type)]) -> Type {
        Type::Object(attrs.iter().map(|(k, t)| (k.to_string(), t.clone())).collect())
    }

    #[test]
    fn types_round_trip_through_their_json_text() {
        let cases = [
            (Type::String, r#""string""#),
            (Type::Number, r#""number""#),
            (Type::Bool, r#""bool""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (Type::map(Type::Bool), r#"["map","bool"]"#),
            (obj(&[]), r#"["object",{}]"#),
            (obj(&[("b", Type::String), ("a", Type::Number)]), r#"["object",{"a":"number","b":"string"}]"#),
            (Type::Tuple(vec![]), r#"["tuple",[]]"#),
            (Type::Tuple(vec![Type::String, Type::Dynamic]), r#"["tuple",["string","dynamic"]]"#),
            (
                Type::list(obj(&[("x", Type::set(Type::map(Type::list(Type::String))))])),
                r#"["list",["object",{"x":["set",["map",["list","string"]]]}]]"#,
            ),
        ];
        for (ty, text) in cases {
            assert_eq!(String::from_utf8_lossy(&type_to_json_bytes(&ty)), text);
            assert_eq!(type_from_json(text.as_bytes()), Ok(ty), "{text}");
        }
    }

    #[test]
    fn optional_attribute_list_is_accepted_and_ignored() {
        let ty = type_from_json(br#"["object",{"a":"string","b":"number"},["b"]]"#);
        assert_eq!(ty, Ok(obj(&[("a", Type::String), ("b", Type::Number)])));
    }

    #[test]
    fn malformed_types_are_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "invalid type JSON"),
            (b"[", "invalid type JSON"),
            (br#""strin""#, "unknown primitive type \"strin\""),
            (b"42", "expected a string or an array"),
            (b"[]", "must start with the kind name"),
            (br#"[1,"string"]"#, "must start with the kind name"),
            (br#"["list"]"#, "list needs exactly one element type"),
            (br#"["map","string","string"]"#, "map needs exactly one element type"),
            (br#"["object",["a"]]"#, "object needs a JSON object"),
            (br#"["object",{},"b"]"#, "object needs a JSON object"),
            (br#"["tuple","string"]"#, "tuple needs a JSON array"),
            (br#"["capsule","x"]"#, "unknown type kind \"capsule\""),
            (br#"["object",{"a":"nope"}]"#, "attribute \"a\": unknown primitive type"),
        ];
        for (bytes, want) in cases {
            let err = type_from_json(bytes).expect_err(&String::from_utf8_lossy(bytes)).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn deep_types_are_rejected() {
        let depth = MAX_DEPTH + 1;
        let text = format!("{}\"string\"{}", r#"["list","#.repeat(depth), "]".repeat(depth));
        let err = type_from_json(text.as_bytes()).expect_err("too deep").to_string();
        assert!(err.contains("nested deeper than 64"), "{err}");
        let ok = format!("{}\"string\"{}", r#"["list","#.repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(type_from_json(ok.as_bytes()).is_ok());
        // Far deeper than that stops in serde_json's own recursion limit.
        let huge = format!("{}\"string\"{}", r#"["list","#.repeat(10_000), "]".repeat(10_000));
        assert!(type_from_json(huge.as_bytes()).is_err());
    }
}
