//! Schema declarations: attributes and nested blocks with the behaviour the
//! framework derives from them (defaults, replacement, validation, planning).

use super::value::{Type, Value};

/// Checks one known string value; `Err` carries the sentence shown to the user.
pub type StringCheck = fn(&str) -> Result<(), String>;

/// Whether two known values mean the same thing to Azure (for example
/// `West Europe` and `westeurope`); such a difference is neither drift nor a
/// reason to replace.
pub type Equivalence = fn(&Value, &Value) -> bool;

/// A resource's or the provider's schema.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Bumped when the state layout changes; older state goes through
    /// UpgradeResourceState.
    pub version: i64,
    pub block: Block,
}

/// A set of attributes and nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

/// One attribute and what the framework does with it.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// A change plans a replacement (`# forces replacement`).
    pub forces_replacement: bool,
    /// Planned when the configuration leaves the attribute null. Implies
    /// `computed`, since Terraform only lets providers fill in computed values.
    pub default: Option<Value>,
    /// A computed value that stays as it is in state when the resource is
    /// updated, instead of becoming unknown.
    pub stable: bool,
    /// Allowed values of a string (or of each string in a collection),
    /// matched case-insensitively; the first spelling is Azure's canonical one.
    pub one_of: Option<&'static [&'static str]>,
    pub checks: Vec<StringCheck>,
    pub equivalent: Option<Equivalence>,
    /// A number that must be a whole number within `i64` (counts, sizes).
    pub whole: bool,
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// `block {}` at most once, as an object.
    Single,
    /// `block {}` as a list of objects (azurerm's style for "exactly one").
    List,
}

/// A nested block such as `network_profile { ... }`.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
    pub block: Block,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, description: &str) -> Attribute {
        Attribute {
            name,
            ty,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            forces_replacement: false,
            default: None,
            stable: false,
            one_of: None,
            checks: Vec::new(),
            equivalent: None,
            whole: false,
        }
    }
    pub fn string(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::String, description)
    }
    pub fn bool(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::Bool, description)
    }
    pub fn number(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::Number, description)
    }
    /// A number that must be whole (Terraform has only one number type).
    pub fn integer(name: &'static str, description: &str) -> Attribute {
        Attribute { whole: true, ..Attribute::new(name, Type::Number, description) }
    }
    pub fn string_map(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::map(Type::String), description)
    }
    pub fn string_set(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::set(Type::String), description)
    }
    pub fn string_list(name: &'static str, description: &str) -> Attribute {
        Attribute::new(name, Type::list(Type::String), description)
    }
    pub fn of_type(name: &'static str, ty: Type, description: &str) -> Attribute {
        Attribute::new(name, ty, description)
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn forces_replacement(mut self) -> Self {
        self.forces_replacement = true;
        self
    }
    /// Optional with a default (and therefore computed).
    pub fn default(mut self, v: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v);
        self
    }
    pub fn stable(mut self) -> Self {
        self.stable = true;
        self
    }
    pub fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.one_of = Some(values);
        if self.equivalent.is_none() {
            self.equivalent = Some(case_insensitive);
        }
        self
    }
    pub fn check(mut self, f: StringCheck) -> Self {
        self.checks.push(f);
        self
    }
    pub fn equivalent(mut self, f: Equivalence) -> Self {
        self.equivalent = Some(f);
        self
    }
    /// Whether the two values are the same for Azure.
    pub fn same(&self, a: &Value, b: &Value) -> bool {
        a.semantically_equal(b) || self.equivalent.is_some_and(|f| f(a, b))
    }
}

/// Equivalence of strings that differ only in case (Azure enums, IDs).
pub fn case_insensitive(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

impl Block {
    pub fn new(description: &str) -> Block {
        Block { description: description.to_string(), ..Block::default() }
    }
    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    /// The object type of one instance of this block.
    pub fn object_type(&self) -> Type {
        let mut m = std::collections::BTreeMap::new();
        for a in &self.attributes {
            m.insert(a.name.to_string(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.object_type();
            let t = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::list(inner),
            };
            m.insert(b.name.to_string(), t);
        }
        Type::Object(m)
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn nested(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
}

impl NestedBlock {
    /// A block that must appear exactly once (`min_items = max_items = 1`).
    pub fn exactly_one(name: &'static str, block: Block) -> NestedBlock {
        NestedBlock { name, nesting: Nesting::List, min_items: 1, max_items: 1, block }
    }
    /// A block that may appear once.
    pub fn at_most_one(name: &'static str, block: Block) -> NestedBlock {
        NestedBlock { name, nesting: Nesting::List, min_items: 0, max_items: 1, block }
    }
    /// A block written at most once and held as an object (`timeouts {}`).
    pub fn single(name: &'static str, block: Block) -> NestedBlock {
        NestedBlock { name, nesting: Nesting::Single, min_items: 0, max_items: 0, block }
    }
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Schema {
        Schema { version, block }
    }
    /// The state an import starts from: the ID and nothing else (list blocks
    /// empty); `read` fills in the rest.
    pub fn state_with_id(&self, id: &str) -> Value {
        let mut m = std::collections::BTreeMap::new();
        for a in &self.block.attributes {
            m.insert(a.name.to_string(), Value::Null);
        }
        for b in &self.block.blocks {
            let empty = match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::List => Value::List(Vec::new()),
            };
            m.insert(b.name.to_string(), empty);
        }
        m.insert("id".to_string(), Value::string(id));
        Value::Object(m)
    }
    pub fn value_type(&self) -> Type {
        self.block.object_type()
    }
}
