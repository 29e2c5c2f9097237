//! Typed models: a resource's (or a nested block's) attributes as one Rust
//! struct, which is both its schema and its state. `#[derive(Model)]`
//! (crate `aksudr-derive`) writes [`Model`] for it from the fields and their
//! `#[tf(...)]` attributes; the conversions between the struct and
//! Terraform's [`Value`] are the field types' own ([`Field`]), written and
//! tested once here rather than per resource.

use std::collections::BTreeMap;

pub use aksudr_derive::Model;

use super::diag::{AttributePath, Diagnostic};
use super::schema::{Attribute, Block};
use super::value::{Number, Value};

/// An attribute's value as a plan or state holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Val<T> {
    /// Set to this value.
    Known(T),
    /// Not set.
    #[default]
    Null,
    /// Set, but known only after apply.
    Unknown,
    /// A collection not all of whose elements are known strings (some known
    /// only after apply, or null): kept as given, so that a plan read into
    /// the model and written back is unchanged.
    Partly(Value),
}

impl<T> Val<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Val::Known(t) => Some(t),
            _ => None,
        }
    }
}

/// A value that does not fit its field: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// `name`, `block[0].name`, ...
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl ModelError {
    /// An error at the value itself (`at` adds where it was found).
    pub fn new(message: impl Into<String>) -> Self {
        ModelError { path: String::new(), message: message.into() }
    }

    /// As a diagnostic on the attribute.
    pub fn diagnostic(&self, summary: &str) -> Diagnostic {
        Diagnostic::error(summary, self.to_string()).at(AttributePath::parse(&self.path))
    }
}

/// `e`, found under `key` (what the derived code calls for each field).
pub fn at(key: &str, mut e: ModelError) -> ModelError {
    e.path = match e.path.as_str() {
        "" => key.to_string(),
        rest if rest.starts_with('[') => format!("{key}{rest}"),
        rest => format!("{key}.{rest}"),
    };
    e
}

/// A struct that is a block's schema and values.
pub trait Model: Sized {
    /// The fields, in declaration order.
    const FIELDS: &'static [&'static str];
    /// The schema block: one attribute or nested block per field.
    fn block() -> Block;
    /// The struct from a value of the block's type.
    fn from_value(v: &Value) -> Result<Self, ModelError>;
    /// The struct as a value of the block's type.
    fn to_value(&self) -> Value;
}

/// A field's conversions; `None` is an attribute absent from the object.
pub trait Field: Sized {
    fn from_value(v: Option<&Value>) -> Result<Self, ModelError>;
    fn to_value(&self) -> Value;
}

/// A field that is an attribute: the schema attribute of its type.
pub trait AttrField: Field {
    fn attribute(name: &'static str, description: &str) -> Attribute;
}

/// A field that is a nested block: a `Vec` of its model for a list
/// nesting (`exactly_one`, `at_most_one`), an `Option` for `single`.
pub trait Blocks {
    type Item: Model;
    /// Whether the field holds a `single` block (an object, not a list).
    const SINGLE: bool;
}

impl<M: Model> Blocks for Vec<M> {
    type Item = M;
    const SINGLE: bool = false;
}

impl<M: Model> Blocks for Option<M> {
    type Item = M;
    const SINGLE: bool = true;
}

/// The value types an attribute can have.
pub trait Scalar: Sized {
    /// What the type is called in errors.
    const NAME: &'static str;
    fn read(v: &Value) -> Option<Self>;
    fn write(&self) -> Value;
    fn attribute(name: &'static str, description: &str) -> Attribute;
}

impl Scalar for String {
    const NAME: &'static str = "a string";
    fn read(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
    fn write(&self) -> Value {
        Value::string(self)
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::string(name, description)
    }
}

impl Scalar for bool {
    const NAME: &'static str = "a bool";
    fn read(v: &Value) -> Option<Self> {
        v.as_bool()
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::bool(name, description)
    }
}

impl Scalar for i64 {
    const NAME: &'static str = "a whole number";
    fn read(v: &Value) -> Option<Self> {
        v.as_i64()
    }
    fn write(&self) -> Value {
        Value::Number(Number::from_i64(*self))
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::integer(name, description)
    }
}

/// Known strings of a list or set; an unknown element makes the whole
/// unknown to a model (it is read whole or not at all).
fn strings(items: &[Value]) -> Option<Vec<String>> {
    items.iter().map(|i| i.as_str().map(str::to_string)).collect()
}

impl Scalar for Vec<String> {
    const NAME: &'static str = "a list of strings";
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => strings(items),
            _ => None,
        }
    }
    fn write(&self) -> Value {
        Value::List(self.iter().map(Value::string).collect())
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::string_list(name, description)
    }
}

/// A set of strings, in the order received (Terraform compares sets
/// without regard to order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringSet(pub Vec<String>);

impl Scalar for StringSet {
    const NAME: &'static str = "a set of strings";
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::Set(items) => strings(items).map(StringSet),
            _ => None,
        }
    }
    fn write(&self) -> Value {
        Value::Set(self.0.iter().map(Value::string).collect())
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::string_set(name, description)
    }
}

impl Scalar for BTreeMap<String, String> {
    const NAME: &'static str = "a map of strings";
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::Map(m) => m.iter().map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect(),
            _ => None,
        }
    }
    fn write(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), Value::string(v))).collect())
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::string_map(name, description)
    }
}

/// An attribute whose value is an object of `M`'s attributes (not a nested
/// block: `Attribute::of_type` with `M`'s object type).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object<M>(pub M);

impl<M: Model> Scalar for Object<M> {
    const NAME: &'static str = "an object";
    fn read(v: &Value) -> Option<Self> {
        M::from_value(v).ok().map(Object)
    }
    fn write(&self) -> Value {
        self.0.to_value()
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::of_type(name, M::block().object_type(), description)
    }
}

/// An attribute whose value is a list of objects of `M`'s attributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Objects<M>(pub Vec<M>);

impl<M: Model> Scalar for Objects<M> {
    const NAME: &'static str = "a list of objects";
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => items.iter().map(|i| M::from_value(i).ok()).collect::<Option<Vec<M>>>().map(Objects),
            _ => None,
        }
    }
    fn write(&self) -> Value {
        Value::List(self.0.iter().map(Model::to_value).collect())
    }
    fn attribute(name: &'static str, description: &str) -> Attribute {
        Attribute::of_type(name, super::value::Type::list(M::block().object_type()), description)
    }
}

impl<T: Scalar> Field for Val<T> {
    fn from_value(v: Option<&Value>) -> Result<Self, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(Val::Null),
            Some(Value::Unknown) => Ok(Val::Unknown),
            Some(v) => match T::read(v) {
                Some(t) => Ok(Val::Known(t)),
                None if matches!(v, Value::List(_) | Value::Set(_) | Value::Map(_)) => Ok(Val::Partly(v.clone())),
                None => Err(ModelError::new(format!("expected {}", T::NAME))),
            },
        }
    }
    fn to_value(&self) -> Value {
        match self {
            Val::Known(t) => t.write(),
            Val::Null => Value::Null,
            Val::Unknown => Value::Unknown,
            Val::Partly(v) => v.clone(),
        }
    }
}

impl<T: Scalar> AttrField for Val<T> {
    fn attribute(name: &'static str, description: &str) -> Attribute {
        T::attribute(name, description)
    }
}

impl<M: Model> Field for Vec<M> {
    fn from_value(v: Option<&Value>) -> Result<Self, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::List(items) | Value::Set(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| M::from_value(item).map_err(|e| at(&format!("[{i}]"), e)))
                .collect(),
            Some(Value::Unknown) => Err(ModelError::new("the blocks are known only after apply")),
            Some(_) => Err(ModelError::new("expected a list of blocks")),
        }
    }
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(Model::to_value).collect())
    }
}

impl<M: Model> Field for Option<M> {
    fn from_value(v: Option<&Value>) -> Result<Self, ModelError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(_)) => M::from_value(v).map(Some),
            Some(Value::Unknown) => Err(ModelError::new("the block is known only after apply")),
            Some(_) => Err(ModelError::new("expected a block")),
        }
    }
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Model::to_value)
    }
}

/// Whether `M`'s schema has exactly its fields: an attribute built with
/// `#[tf(with = ...)]` names itself, and must name its field.
pub fn check_model<M: Model>() -> Result<(), String> {
    let block = M::block();
    let mut schema: Vec<&str> = block.attributes.iter().map(|a| a.name).collect();
    schema.extend(block.blocks.iter().map(|b| b.name));
    schema.sort_unstable();
    let mut fields = M::FIELDS.to_vec();
    fields.sort_unstable();
    if schema == fields {
        Ok(())
    } else {
        Err(format!("the schema has {schema:?}, the fields are {fields:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::schema::NestedBlock;
    use crate::tf::value::Type;

    #[derive(Debug, PartialEq, Model)]
    #[tf(description = "An inner block.")]
    struct Inner {
        #[tf(description = "A count.", build = optional())]
        count: Val<i64>,
    }

    #[derive(Debug, PartialEq, Model)]
    #[tf(description = "A test block.")]
    struct Outer {
        #[tf(with = Attribute::string("id", "The ID.").computed())]
        id: Val<String>,
        #[tf(description = "The name.", build = required().forces_replacement())]
        name: Val<String>,
        #[tf(description = "On or off.", build = default(Value::Bool(true)))]
        enabled: Val<bool>,
        #[tf(description = "Zones.", build = optional())]
        zones: Val<Vec<String>>,
        #[tf(description = "CIDRs.", build = optional())]
        ranges: Val<StringSet>,
        #[tf(description = "Tags.", build = optional())]
        tags: Val<BTreeMap<String, String>>,
        #[tf(block = at_most_one)]
        inner: Vec<Inner>,
        #[tf(block = single)]
        one: Option<Inner>,
    }

    fn hand_written() -> Block {
        Block::new("A test block.")
            .attr(Attribute::string("id", "The ID.").computed())
            .attr(Attribute::string("name", "The name.").required().forces_replacement())
            .attr(Attribute::bool("enabled", "On or off.").default(Value::Bool(true)))
            .attr(Attribute::string_list("zones", "Zones.").optional())
            .attr(Attribute::string_set("ranges", "CIDRs.").optional())
            .attr(Attribute::string_map("tags", "Tags.").optional())
            .block(NestedBlock::at_most_one(
                "inner",
                Block::new("An inner block.").attr(Attribute::integer("count", "A count.").optional()),
            ))
            .block(NestedBlock::single(
                "one",
                Block::new("An inner block.").attr(Attribute::integer("count", "A count.").optional()),
            ))
    }

    #[test]
    fn the_derived_schema_is_the_hand_written_one() {
        assert_eq!(format!("{:?}", Outer::block()), format!("{:?}", hand_written()));
        assert_eq!(Outer::block().object_type(), hand_written().object_type());
        assert_eq!(check_model::<Outer>(), Ok(()));
        assert_eq!(Outer::FIELDS, ["id", "name", "enabled", "zones", "ranges", "tags", "inner", "one"]);
    }

    #[test]
    fn values_round_trip_through_the_struct() {
        let full = Outer {
            id: Val::Unknown,
            name: Val::Known("a".into()),
            enabled: Val::Known(false),
            zones: Val::Known(vec!["1".into(), "2".into()]),
            ranges: Val::Known(StringSet(vec!["10.0.0.0/8".into()])),
            tags: Val::Known(BTreeMap::from([("k".to_string(), "v".to_string())])),
            inner: vec![Inner { count: Val::Known(3) }],
            one: Some(Inner { count: Val::Null }),
        };
        let v = full.to_value();
        assert_eq!(v.attr("inner").and_then(Value::elements).map(<[Value]>::len), Some(1));
        assert_eq!(Outer::from_value(&v), Ok(full));
        let empty = Outer {
            id: Val::Null,
            name: Val::Null,
            enabled: Val::Null,
            zones: Val::Null,
            ranges: Val::Null,
            tags: Val::Null,
            inner: vec![],
            one: None,
        };
        assert_eq!(Outer::from_value(&empty.to_value()), Ok(empty));
        // The value conforms to the schema's type.
        let ty: Type = Outer::block().object_type();
        assert!(crate::tf::msgpack::encode(&Outer::from_value(&v).expect("ok").to_value(), &ty).is_ok());
    }

    #[test]
    fn unknown_collections_and_wrong_types_are_said_with_their_path() {
        let v = Value::Object(BTreeMap::from([
            ("zones".to_string(), Value::List(vec![Value::string("1"), Value::Unknown])),
            ("name".to_string(), Value::string("a")),
        ]));
        let m = Outer::from_value(&v).expect("ok");
        assert!(matches!(m.zones, Val::Partly(_)), "a list with an unknown element is kept as it is");
        assert_eq!(m.zones.known(), None);
        assert_eq!(m.zones.to_value(), Value::List(vec![Value::string("1"), Value::Unknown]), "unchanged");
        assert_eq!(m.id, Val::Null, "absent is null");
        let tags = Value::Map(BTreeMap::from([("a".to_string(), Value::Null), ("b".to_string(), Value::string("x"))]));
        let with_null = Value::Object(BTreeMap::from([("tags".to_string(), tags.clone())]));
        assert_eq!(Outer::from_value(&with_null).expect("ok").tags.to_value(), tags, "a null element is kept");
        // A block that is not an object is no block.
        let not_a_block = Value::Object(BTreeMap::from([("one".to_string(), Value::string("x"))]));
        assert_eq!(Outer::from_value(&not_a_block).expect_err("no block").path, "one");
        assert!(Inner::from_value(&Value::Unknown).is_err(), "an unknown block is not a block of nulls");
        let bad = Value::Object(BTreeMap::from([(
            "inner".to_string(),
            Value::List(vec![Value::Object(BTreeMap::from([("count".to_string(), Value::string("x"))]))]),
        )]));
        let err = Outer::from_value(&bad).expect_err("a string is no count");
        assert_eq!(err.path, "inner[0].count");
        assert!(err.message.contains("whole number"), "{err}");
        assert_eq!(err.diagnostic("Unexpected value").path, Some(AttributePath::parse("inner[0].count")));
    }
}
