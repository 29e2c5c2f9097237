//! The msgpack form of `DynamicValue`: written byte for byte as cty's
//! `msgpack` package writes it (unknowns never carry refinements), and read
//! accepting everything that package writes.

use std::collections::BTreeMap;

use super::codec_error::{preview, type_kind, value_kind, MAX_DEPTH};
use super::diag::Step;
use super::typejson;
use super::value::{Number, Type, Value};

pub use super::codec_error::CodecError;

/// cty writes a wholly unknown value as a fixext1 of extension type 0 with a
/// zero payload byte: a one-byte payload is shorter than an empty ext8.
const UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];
/// Extension type of an unknown value carrying refinements (a msgpack map of
/// what is known about it, such as "not null" or a string prefix).
const REFINED_UNKNOWN_EXT: i8 = 0x0c;
/// Upper bound on capacity reserved ahead of decoding a collection; larger
/// collections grow as their elements actually arrive.
const PREALLOC_LIMIT: usize = 1024;

/// Decodes a msgpack `DynamicValue` of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut d = Decoder { input: bytes, pos: 0, path: Vec::new(), depth: 0 };
    let v = d.value(ty)?;
    if d.pos != bytes.len() {
        return Err(CodecError::at(&[], format!("{} unexpected bytes after the value", bytes.len() - d.pos)));
    }
    Ok(v)
}

/// Encodes `v`, which must conform to `ty`, as a msgpack `DynamicValue`.
/// Object attributes missing from `v` are written as null.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut e = Encoder { out: Vec::new(), path: Vec::new(), depth: 0 };
    e.value(v, ty)?;
    Ok(e.out)
}

/// The exact decimal value of a finite `f64`. Every binary fraction has a
/// finite decimal expansion, of at most 1074 fractional digits, and Rust's
/// fixed-precision formatting prints it exactly.
fn exact_decimal(f: f64) -> Option<Number> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 {
        Number::parse(&format!("{f:.0}"))
    } else {
        Number::parse(&format!("{f:.1074}"))
    }
}

/// The `f64` equal to `n` with no rounding, if there is one; cty writes a
/// number as float64 only then (`big.Float.Float64` reporting `big.Exact`).
fn exact_f64(n: &Number) -> Option<f64> {
    let f = n.as_f64()?;
    (exact_decimal(f)? == *n).then_some(f)
}

/// The number a msgpack float stands for. cty compares whole numbers
/// exactly but other numbers by their shortest decimal text
/// (`rawNumberEqual`), so whole floats keep their exact value and fractional
/// ones their shortest text: `0.1` rather than its 55-digit binary value.
fn number_from_float(f: f64) -> Option<Number> {
    if !f.is_finite() {
        None
    } else if f.fract() == 0.0 {
        exact_decimal(f)
    } else {
        Number::from_f64(f)
    }
}

/// One msgpack item's marker and length fields.
#[derive(Clone, Copy, Debug)]
enum Head {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Float32(f32),
    Float64(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext {
        tag: i8,
        len: usize,
    },
    /// 0xc1, which the msgpack spec never uses.
    Unused,
}

impl Head {
    fn kind(self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Uint(_) | Head::Int(_) => "integer",
            Head::Float32(_) | Head::Float64(_) => "float",
            Head::Str(_) => "string",
            Head::Bin(_) => "binary",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext { .. } => "extension",
            Head::Unused => "the unused marker 0xc1",
        }
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    path: Vec<Step>,
    depth: usize,
}

impl<'a> Decoder<'a> {
    fn err(&self, message: impl Into<String>) -> CodecError {
        CodecError::at(&self.path, message)
    }

    fn mismatch(&self, expected: &str, found: Head) -> CodecError {
        self.err(format!("expected {expected}, found {}", found.kind()))
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(self.err(format!("needs {n} more bytes but only {} remain", self.remaining())));
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A big-endian length field of `width` bytes.
    fn len(&mut self, width: usize) -> Result<usize, CodecError> {
        let n = match width {
            1 => u64::from(self.byte()?),
            2 => u64::from(u16::from_be_bytes(self.array()?)),
            _ => u64::from(u32::from_be_bytes(self.array()?)),
        };
        usize::try_from(n).map_err(|_| self.err(format!("length {n} does not fit in memory")))
    }

    fn head(&mut self) -> Result<Head, CodecError> {
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => Head::Uint(u64::from(m)),
            0x80..=0x8f => Head::Map(usize::from(m & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(m & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(m & 0x1f)),
            0xc0 => Head::Nil,
            0xc1 => Head::Unused,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.len(1)?),
            0xc5 => Head::Bin(self.len(2)?),
            0xc6 => Head::Bin(self.len(4)?),
            0xc7..=0xc9 => {
                let len = self.len(1 << (m - 0xc7))?;
                Head::Ext { tag: i8::from_be_bytes(self.array()?), len }
            }
            0xca => Head::Float32(f32::from_be_bytes(self.array()?)),
            0xcb => Head::Float64(f64::from_be_bytes(self.array()?)),
            0xcc => Head::Uint(u64::from(self.byte()?)),
            0xcd => Head::Uint(u64::from(u16::from_be_bytes(self.array()?))),
            0xce => Head::Uint(u64::from(u32::from_be_bytes(self.array()?))),
            0xcf => Head::Uint(u64::from_be_bytes(self.array()?)),
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.array()?)),
            0xd4..=0xd8 => Head::Ext { tag: i8::from_be_bytes(self.array()?), len: 1 << (m - 0xd4) },
            0xd9 => Head::Str(self.len(1)?),
            0xda => Head::Str(self.len(2)?),
            0xdb => Head::Str(self.len(4)?),
            0xdc => Head::Array(self.len(2)?),
            0xdd => Head::Array(self.len(4)?),
            0xde => Head::Map(self.len(2)?),
            0xdf => Head::Map(self.len(4)?),
            0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([m]))),
        })
    }

    /// Steps into a container, refusing to go deeper than [`MAX_DEPTH`].
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

    /// The element count of an array, checked against the input left: every
    /// element takes at least one byte.
    fn array_len(&self, head: Head, expected: &str) -> Result<usize, CodecError> {
        match head {
            Head::Array(n) if n > self.remaining() => {
                Err(self.err(format!("array claims {n} elements but only {} bytes remain", self.remaining())))
            }
            Head::Array(n) => Ok(n),
            other => Err(self.mismatch(expected, other)),
        }
    }

    /// The entry count of a map; every entry takes at least two bytes.
    fn map_len(&self, head: Head, expected: &str) -> Result<usize, CodecError> {
        match head {
            Head::Map(n) if n > self.remaining() / 2 => {
                Err(self.err(format!("map claims {n} entries but only {} bytes remain", self.remaining())))
            }
            Head::Map(n) => Ok(n),
            other => Err(self.mismatch(expected, other)),
        }
    }

    fn text(&mut self, len: usize) -> Result<String, CodecError> {
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(self.err(format!("string is not valid UTF-8 (byte {})", e.valid_up_to()))),
        }
    }

    fn value(&mut self, ty: &Type) -> Result<Value, CodecError> {
        let head = self.head()?;
        // cty reads any extension as an unknown, before looking at the type.
        if let Head::Ext { tag, len } = head {
            return self.unknown(tag, len);
        }
        if let Head::Nil = head {
            return Ok(Value::Null);
        }
        match ty {
            Type::Bool => match head {
                Head::Bool(b) => Ok(Value::Bool(b)),
                other => Err(self.mismatch("bool", other)),
            },
            Type::Number => self.number(head).map(Value::Number),
            // cty's decoder (vmihailenco/msgpack `DecodeString`) takes bin
            // as well as str.
            Type::String => match head {
                Head::Str(n) | Head::Bin(n) => self.text(n).map(Value::String),
                other => Err(self.mismatch("string", other)),
            },
            Type::List(et) => {
                let n = self.array_len(head, "list")?;
                self.elements(n, |_| et).map(Value::List)
            }
            Type::Set(et) => {
                let n = self.array_len(head, "set")?;
                self.elements(n, |_| et).map(Value::Set)
            }
            Type::Tuple(ets) => {
                let n = self.array_len(head, "tuple")?;
                if n != ets.len() {
                    return Err(self.err(format!("expected a tuple of {} elements, found {n}", ets.len())));
                }
                self.elements(n, |i| &ets[i]).map(Value::Tuple)
            }
            Type::Map(et) => self.map(head, et),
            Type::Object(attrs) => self.object(head, attrs),
            Type::Dynamic => self.dynamic(head),
        }
    }

    /// Skips an extension's payload. As in cty, a payload of at most one
    /// byte is a wholly unknown value whatever its extension type; a longer
    /// one must be a refinement map, whose refinements this provider does
    /// not use.
    fn unknown(&mut self, tag: i8, len: usize) -> Result<Value, CodecError> {
        self.take(len)?;
        if len <= 1 || tag == REFINED_UNKNOWN_EXT {
            Ok(Value::Unknown)
        } else {
            Err(self.err(format!("unsupported msgpack extension type {tag} with {len} bytes")))
        }
    }

    fn number(&mut self, head: Head) -> Result<Number, CodecError> {
        match head {
            Head::Int(i) => Ok(Number::from_i64(i)),
            Head::Uint(u) => Number::parse(&u.to_string()).ok_or_else(|| self.err(format!("invalid number {u}"))),
            Head::Float32(f) => self.float(f64::from(f)),
            Head::Float64(f) => self.float(f),
            // cty writes numbers that fit neither int64 nor float64 exactly
            // as their decimal text.
            Head::Str(n) | Head::Bin(n) => {
                let text = self.text(n)?;
                Number::parse(&text).ok_or_else(|| self.err(format!("invalid number {}", preview(&text))))
            }
            other => Err(self.mismatch("number", other)),
        }
    }

    fn float(&self, f: f64) -> Result<Number, CodecError> {
        number_from_float(f).ok_or_else(|| self.err(format!("number {f} is not finite")))
    }

    fn elements<'t>(&mut self, n: usize, elem_type: impl Fn(usize) -> &'t Type) -> Result<Vec<Value>, CodecError> {
        self.enter()?;
        let mut out = Vec::with_capacity(n.min(PREALLOC_LIMIT));
        for i in 0..n {
            self.path.push(Step::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            out.push(self.value(elem_type(i))?);
            self.path.pop();
        }
        self.leave();
        Ok(out)
    }

    fn key(&mut self) -> Result<String, CodecError> {
        match self.head()? {
            Head::Str(n) | Head::Bin(n) => self.text(n),
            other => Err(self.err(format!("keys must be strings, found {}", other.kind()))),
        }
    }

    fn map(&mut self, head: Head, et: &Type) -> Result<Value, CodecError> {
        let n = self.map_len(head, "map")?;
        self.enter()?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let key = self.key()?;
            self.path.push(Step::Key(key.clone()));
            let v = self.value(et)?;
            if out.insert(key, v).is_some() {
                return Err(self.err("duplicate map key"));
            }
            self.path.pop();
        }
        self.leave();
        Ok(Value::Map(out))
    }

    /// cty writes every attribute; any it leaves out read as null.
    fn object(&mut self, head: Head, attrs: &BTreeMap<String, Type>) -> Result<Value, CodecError> {
        let n = self.map_len(head, "object")?;
        self.enter()?;
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let key = self.key()?;
            let Some(aty) = attrs.get(&key) else {
                return Err(self.err(format!("unsupported attribute {}", preview(&key))));
            };
            self.path.push(Step::Attr(key.clone()));
            let v = self.value(aty)?;
            if out.insert(key, v).is_some() {
                return Err(self.err("duplicate attribute"));
            }
            self.path.pop();
        }
        self.leave();
        for name in attrs.keys() {
            out.entry(name.clone()).or_insert(Value::Null);
        }
        Ok(Value::Object(out))
    }

    /// A known value of dynamic type is `[type JSON, value]`.
    fn dynamic(&mut self, head: Head) -> Result<Value, CodecError> {
        let n = self.array_len(head, "a [type, value] array for a dynamic value")?;
        if n != 2 {
            return Err(self.err(format!("a dynamic value must be a [type, value] array, found {n} elements")));
        }
        self.enter()?;
        let type_json = match self.head()? {
            Head::Str(n) | Head::Bin(n) => self.take(n)?,
            other => return Err(self.mismatch("the type of a dynamic value as JSON bytes", other)),
        };
        let ty = typejson::type_from_json(type_json).map_err(|e| self.err(e.message))?;
        let v = self.value(&ty)?;
        self.leave();
        Ok(Value::Dynamic(Box::new((ty, v))))
    }
}

struct Encoder {
    out: Vec<u8>,
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

    /// A marker with a length in the smallest form the format has: `fix`
    /// (the marker with the length in its low bits, up to a maximum), then
    /// the 8-bit form if there is one, then the 16- and 32-bit forms.
    fn header(
        &mut self,
        len: usize,
        fix: Option<(u8, usize)>,
        w8: Option<u8>,
        w16: u8,
        w32: u8,
    ) -> Result<(), CodecError> {
        match (fix, w8, u8::try_from(len), u16::try_from(len), u32::try_from(len)) {
            (Some((marker, max)), _, Ok(n), _, _) if len <= max => self.out.push(marker | n),
            (_, Some(marker), Ok(n), _, _) => self.out.extend_from_slice(&[marker, n]),
            (_, _, _, Ok(n), _) => {
                self.out.push(w16);
                self.out.extend_from_slice(&n.to_be_bytes());
            }
            (_, _, _, _, Ok(n)) => {
                self.out.push(w32);
                self.out.extend_from_slice(&n.to_be_bytes());
            }
            _ => return Err(self.err(format!("length {len} is too large for msgpack"))),
        }
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), CodecError> {
        self.header(s.len(), Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb)?;
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn bin(&mut self, b: &[u8]) -> Result<(), CodecError> {
        self.header(b.len(), None, Some(0xc4), 0xc5, 0xc6)?;
        self.out.extend_from_slice(b);
        Ok(())
    }

    fn array_header(&mut self, len: usize) -> Result<(), CodecError> {
        self.header(len, Some((0x90, 15)), None, 0xdc, 0xdd)
    }

    fn map_header(&mut self, len: usize) -> Result<(), CodecError> {
        self.header(len, Some((0x80, 15)), None, 0xde, 0xdf)
    }

    /// The smallest integer form, as vmihailenco/msgpack's `EncodeInt` (which
    /// cty uses) picks it: non-negative numbers in the unsigned forms. Each
    /// form holds the low bytes of the big-endian two's complement.
    fn int(&mut self, i: i64) {
        let b = i.to_be_bytes();
        let (marker, tail): (Option<u8>, &[u8]) = match i {
            -32..=0x7f => (None, &b[7..]),
            0x80..=0xff => (Some(0xcc), &b[7..]),
            0x100..=0xffff => (Some(0xcd), &b[6..]),
            0x1_0000..=0xffff_ffff => (Some(0xce), &b[4..]),
            0x1_0000_0000.. => (Some(0xcf), &b[..]),
            -0x80..=-33 => (Some(0xd0), &b[7..]),
            -0x8000..=-0x81 => (Some(0xd1), &b[6..]),
            -0x8000_0000..=-0x8001 => (Some(0xd2), &b[4..]),
            _ => (Some(0xd3), &b[..]),
        };
        self.out.extend(marker);
        self.out.extend_from_slice(tail);
    }

    /// cty's choice: int64 when whole and in range, else float64 when that
    /// is exact, else the decimal text.
    fn number(&mut self, n: &Number) -> Result<(), CodecError> {
        if let Some(i) = n.as_i64() {
            self.int(i);
        } else if let Some(f) = exact_f64(n) {
            self.out.push(0xcb);
            self.out.extend_from_slice(&f.to_be_bytes());
        } else {
            self.str(n.as_str())?;
        }
        Ok(())
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), CodecError> {
        match (v, ty) {
            (Value::Unknown, _) => self.out.extend_from_slice(&UNKNOWN),
            (Value::Null, _) => self.out.push(0xc0),
            (Value::Dynamic(inner), Type::Dynamic) => {
                let (concrete, v) = &**inner;
                self.enter()?;
                self.array_header(2)?;
                self.bin(&typejson::type_to_json_bytes(concrete))?;
                self.value(v, concrete)?;
                self.leave();
            }
            (other, Type::Dynamic) => {
                return Err(self.err(format!(
                    "a known value of dynamic type must be Value::Dynamic carrying its type, found {}",
                    value_kind(other)
                )))
            }
            (Value::Bool(b), Type::Bool) => self.out.push(if *b { 0xc3 } else { 0xc2 }),
            (Value::Number(n), Type::Number) => self.number(n)?,
            (Value::String(s), Type::String) => self.str(s)?,
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
                self.map_header(entries.len())?;
                // BTreeMap order is byte order, the order cty writes map keys in.
                for (k, v) in entries {
                    self.path.push(Step::Key(k.clone()));
                    self.str(k)?;
                    self.value(v, et)?;
                    self.path.pop();
                }
                self.leave();
            }
            (Value::Object(attrs), Type::Object(atys)) => self.object(attrs, atys)?,
            (v, ty) => return Err(self.err(format!("expected {} value, found {}", type_kind(ty), value_kind(v)))),
        }
        Ok(())
    }

    fn elements<'t>(&mut self, items: &[Value], elem_type: impl Fn(usize) -> &'t Type) -> Result<(), CodecError> {
        self.enter()?;
        self.array_header(items.len())?;
        for (i, item) in items.iter().enumerate() {
            self.path.push(Step::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            self.value(item, elem_type(i))?;
            self.path.pop();
        }
        self.leave();
        Ok(())
    }

    /// Every attribute of the type, in name order as cty sorts them.
    fn object(&mut self, attrs: &BTreeMap<String, Value>, atys: &BTreeMap<String, Type>) -> Result<(), CodecError> {
        if let Some(extra) = attrs.keys().find(|k| !atys.contains_key(*k)) {
            return Err(self.err(format!("unsupported attribute {}", preview(extra))));
        }
        self.enter()?;
        self.map_header(atys.len())?;
        for (name, aty) in atys {
            self.path.push(Step::Attr(name.clone()));
            self.str(name)?;
            self.value(attrs.get(name).unwrap_or(&Value::Null), aty)?;
            self.path.pop();
        }
        self.leave();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use super::*;
    use crate::tf::test_values::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    fn str_bytes(s: &str) -> Vec<u8> {
        let mut out = vec![0xa0 | s.len() as u8];
        out.extend_from_slice(s.as_bytes());
        out
    }

    /// Byte-level vectors of what cty writes; each must also decode back.
    #[test]
    fn encodes_exactly_as_cty() {
        let s32 = "x".repeat(32);
        let s256 = "y".repeat(256);
        let cases: Vec<(Value, Type, Vec<u8>)> = vec![
            (Value::string("hi"), Type::String, vec![0xa2, b'h', b'i']),
            (Value::Unknown, Type::String, vec![0xd4, 0x00, 0x00]),
            (Value::Unknown, Type::Dynamic, vec![0xd4, 0x00, 0x00]),
            (Value::Null, Type::list(Type::String), vec![0xc0]),
            (Value::Null, Type::Dynamic, vec![0xc0]),
            (Value::Bool(true), Type::Bool, vec![0xc3]),
            (Value::Bool(false), Type::Bool, vec![0xc2]),
            (Value::string(""), Type::String, vec![0xa0]),
            (Value::string(s32.clone()), Type::String, [vec![0xd9, 32], s32.into_bytes()].concat()),
            (Value::string(s256.clone()), Type::String, [vec![0xda, 1, 0], s256.into_bytes()].concat()),
            (Value::int(0), Type::Number, vec![0x00]),
            (Value::int(127), Type::Number, vec![0x7f]),
            (Value::int(128), Type::Number, vec![0xcc, 0x80]),
            (Value::int(255), Type::Number, vec![0xcc, 0xff]),
            (Value::int(256), Type::Number, vec![0xcd, 0x01, 0x00]),
            (Value::int(65_536), Type::Number, vec![0xce, 0x00, 0x01, 0x00, 0x00]),
            (Value::int(1 << 32), Type::Number, vec![0xcf, 0, 0, 0, 1, 0, 0, 0, 0]),
            (Value::int(i64::MAX), Type::Number, vec![0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (Value::int(-1), Type::Number, vec![0xff]),
            (Value::int(-32), Type::Number, vec![0xe0]),
            (Value::int(-33), Type::Number, vec![0xd0, 0xdf]),
            (Value::int(-128), Type::Number, vec![0xd0, 0x80]),
            (Value::int(-129), Type::Number, vec![0xd1, 0xff, 0x7f]),
            (Value::int(-32_769), Type::Number, vec![0xd2, 0xff, 0xff, 0x7f, 0xff]),
            (Value::int(i64::MIN), Type::Number, vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            (num("0.5"), Type::Number, vec![0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]),
            (num("-2.25"), Type::Number, vec![0xcb, 0xc0, 0x02, 0x00, 0, 0, 0, 0, 0]),
            // 2^70 is exact in float64 but beyond int64.
            (num("1180591620717411303424"), Type::Number, vec![0xcb, 0x44, 0x50, 0, 0, 0, 0, 0, 0]),
            // 0.1 is not exactly any float64, so cty writes its text.
            (num("0.1"), Type::Number, str_bytes("0.1")),
            // Neither int64 nor exactly float64 (2^64 is): text.
            (num("18446744073709551615"), Type::Number, str_bytes("18446744073709551615")),
            (num("18446744073709551616"), Type::Number, vec![0xcb, 0x43, 0xf0, 0, 0, 0, 0, 0, 0]),
            (
                Value::List(vec![Value::string("a"), Value::Null, Value::Unknown]),
                Type::list(Type::String),
                vec![0x93, 0xa1, b'a', 0xc0, 0xd4, 0, 0],
            ),
            (Value::Set(vec![]), Type::set(Type::Number), vec![0x90]),
            (
                Value::Map([("k".to_string(), Value::Bool(true)), ("a".to_string(), Value::Null)].into()),
                Type::map(Type::Bool),
                vec![0x82, 0xa1, b'a', 0xc0, 0xa1, b'k', 0xc3],
            ),
            // Attributes in name order; missing ones written as null.
            (
                obj(&[("b", Value::int(1)), ("a", Value::string("x"))]),
                obj_type(&[("a", Type::String), ("b", Type::Number), ("c", Type::Bool)]),
                vec![0x83, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01, 0xa1, b'c', 0xc0],
            ),
            (
                Value::Tuple(vec![Value::string("x"), Value::Bool(false)]),
                Type::Tuple(vec![Type::String, Type::Bool]),
                vec![0x92, 0xa1, b'x', 0xc2],
            ),
            // Dynamic: [type JSON as bin, value].
            (
                dynamic(Type::String, Value::string("x")),
                Type::Dynamic,
                [vec![0x92, 0xc4, 8], b"\"string\"".to_vec(), vec![0xa1, b'x']].concat(),
            ),
            (
                dynamic(Type::list(Type::Bool), Value::Unknown),
                Type::Dynamic,
                [vec![0x92, 0xc4, 15], b"[\"list\",\"bool\"]".to_vec(), vec![0xd4, 0, 0]].concat(),
            ),
        ];
        for (v, ty, want) in cases {
            let got = encode(&v, &ty).expect("encode");
            assert_eq!(hex(&got), hex(&want), "encode {v:?}");
            let back = decode(&want, &ty).expect("decode");
            assert_eq!(encode(&back, &ty), Ok(want), "re-encode {back:?}");
        }
    }

    #[test]
    fn sixteen_element_containers_use_the_16_bit_forms() {
        let list = Value::List((0..16).map(Value::int).collect());
        let bytes = encode(&list, &Type::list(Type::Number)).expect("encode");
        assert_eq!(&bytes[..3], &[0xdc, 0x00, 0x10]);
        assert_eq!(decode(&bytes, &Type::list(Type::Number)), Ok(list));
        let map = Value::Map((0..16).map(|i| (format!("k{i:02}"), Value::Null)).collect());
        let bytes = encode(&map, &Type::map(Type::String)).expect("encode");
        assert_eq!(&bytes[..3], &[0xde, 0x00, 0x10]);
        assert_eq!(decode(&bytes, &Type::map(Type::String)), Ok(map));
    }

    #[test]
    fn round_trips_null_unknown_and_values_at_every_level() {
        let mut count = 0;
        for ty in &round_trip_types() {
            for v in variants(ty) {
                let bytes = encode(&v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
                assert_eq!(decode(&bytes, ty).as_ref(), Ok(&v), "{ty:?} bytes {}", hex(&bytes));
                count += 1;
            }
        }
        assert!(count > 400, "only {count} cases");
    }

    #[test]
    fn numbers_round_trip_exactly() {
        for text in [
            "0",
            "1",
            "-1",
            "0.1",
            "-0.1",
            "0.30000000000000004",
            "1.7976931348623157e308",
            "5e-324",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "-123456789012345678901234567890",
            "123456789012345678901234567890.5",
            "-0.000000000000000000000000000001",
            "3.14159265358979323846264338327950288419716939937510582097494459",
            "1e400",
            "1e-400",
        ] {
            let v = num(text);
            let bytes = encode(&v, &Type::Number).expect("encode");
            assert_eq!(decode(&bytes, &Type::Number), Ok(v), "{text}: {}", hex(&bytes));
        }
    }

    #[test]
    fn decodes_every_number_form_cty_may_send() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x05], "5"),
            (&[0xcc, 0x05], "5"),
            (&[0xcd, 0x00, 0x05], "5"),
            (&[0xd3, 0, 0, 0, 0, 0, 0, 0, 5], "5"),
            (&[0xd0, 0xfb], "-5"),
            (&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "18446744073709551615"),
            (&[0xca, 0x3f, 0xc0, 0x00, 0x00], "1.5"),
            // float32 0.1 widened to float64, as cty's decoder does.
            (&[0xca, 0x3d, 0xcc, 0xcc, 0xcd], "0.10000000149011612"),
            (&[0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a], "0.1"),
            (&[0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], "0"),
            // 1e300 as float64 is a whole number: its exact value, not "1e300".
            (
                &[0xcb, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c],
                "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160",
            ),
            (b"\xa31e3", "1000"),
            (b"\xc4\x03-.5", "-0.5"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes, &Type::Number), Ok(num(want)), "{}", hex(bytes));
        }
    }

    #[test]
    fn decodes_every_unknown_form() {
        let cases: &[&[u8]] = &[
            &[0xd4, 0x00, 0x00],
            &[0xc7, 0x00, 0x00],
            &[0xd4, 0x05, 0x00],
            // Refined unknowns: ext 12 holding {1: false} ("not null"), and a
            // string prefix {1: false, 2: "az"}.
            &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
            &[0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'z'],
            &[0xd6, 0x0c, 0x81, 0x05, 0x01, 0x00],
        ];
        for ty in [Type::String, Type::Number, Type::list(Type::String), Type::Dynamic] {
            for bytes in cases {
                assert_eq!(decode(bytes, &ty), Ok(Value::Unknown), "{ty:?} {}", hex(bytes));
            }
        }
        let nested = [0x81, 0xa1, b'a', 0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(decode(&nested, &obj_type(&[("a", Type::String)])), Ok(obj(&[("a", Value::Unknown)])));
    }

    #[test]
    fn decodes_alternative_encodings() {
        let ty = obj_type(&[("a", Type::String), ("b", Type::Number)]);
        let cases: Vec<(Vec<u8>, Type, Value)> = vec![
            (b"\xc4\x02hi".to_vec(), Type::String, Value::string("hi")),
            (b"\xd9\x02hi".to_vec(), Type::String, Value::string("hi")),
            (b"\xdb\x00\x00\x00\x02hi".to_vec(), Type::String, Value::string("hi")),
            (vec![0xdd, 0, 0, 0, 1, 0xc3], Type::list(Type::Bool), Value::List(vec![Value::Bool(true)])),
            // Attributes in any order; missing ones are null.
            (b"\x81\xa1b\x07".to_vec(), ty.clone(), obj(&[("a", Value::Null), ("b", Value::int(7))])),
            (vec![0x80], ty.clone(), obj(&[("a", Value::Null), ("b", Value::Null)])),
            // Type JSON of a dynamic value as str rather than bin.
            (
                [b"\x92\xa8\"number\"".to_vec(), vec![0x07]].concat(),
                Type::Dynamic,
                dynamic(Type::Number, Value::int(7)),
            ),
            (
                [b"\x92\xc4\x09\"dynamic\"".to_vec(), b"\x92\xc4\x06\"bool\"\xc3".to_vec()].concat(),
                Type::Dynamic,
                dynamic(Type::Dynamic, dynamic(Type::Bool, Value::Bool(true))),
            ),
        ];
        for (bytes, ty, want) in cases {
            assert_eq!(decode(&bytes, &ty), Ok(want), "{}", hex(&bytes));
        }
    }

    #[test]
    fn malformed_input_is_an_error_naming_where() {
        let nested = obj_type(&[("network_profile", Type::list(obj_type(&[("outbound_type", Type::String)])))]);
        let deep_type = (0..100).fold(Type::String, |t, _| Type::list(t));
        let ten_thousand_arrays = [vec![0x91; 10_000], vec![0xc0]].concat();
        let cases: Vec<(Vec<u8>, Type, &str)> = vec![
            (vec![], Type::String, "unexpected end of input"),
            (vec![0xa5, b'h', b'i'], Type::String, "needs 5 more bytes but only 2 remain"),
            (vec![0xdb, 0xff, 0xff, 0xff, 0xff], Type::String, "needs 4294967295 more bytes"),
            (vec![0xdb, 0xff, 0xff], Type::String, "needs 4 more bytes but only 2 remain"),
            (vec![0xdd, 0xff, 0xff, 0xff, 0xff], Type::list(Type::String), "array claims 4294967295 elements"),
            (vec![0xdf, 0xff, 0xff, 0xff, 0xff], Type::map(Type::String), "map claims 4294967295 entries"),
            (vec![0xc9, 0xff, 0xff, 0xff, 0xff, 0x00], Type::String, "needs 4294967295 more bytes"),
            (vec![0xcb, 0x3f], Type::Number, "needs 8 more bytes but only 1 remain"),
            (vec![0xc1], Type::String, "expected string, found the unused marker 0xc1"),
            (vec![0xa2, 0xff, 0xfe], Type::String, "not valid UTF-8"),
            (vec![0x91, 0xa1, b'a'], Type::String, "expected string, found array"),
            (vec![0xa1, b'a'], Type::Bool, "expected bool, found string"),
            (vec![0xc3], Type::Number, "expected number, found bool"),
            (vec![0xa3, b'a', b'b', b'c'], Type::Number, "invalid number \"abc\""),
            (vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], Type::Number, "not finite"),
            (vec![0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], Type::Number, "not finite"),
            (vec![0x80], Type::list(Type::String), "expected list, found map"),
            (vec![0x90], Type::map(Type::String), "expected map, found array"),
            (vec![0x81, 0x01, 0xc0], Type::map(Type::String), "keys must be strings, found integer"),
            (b"\x82\xa1k\xc0\xa1k\xc0".to_vec(), Type::map(Type::String), "at [\"k\"]: duplicate map key"),
            (b"\x81\xa1z\xc0".to_vec(), obj_type(&[("a", Type::String)]), "unsupported attribute \"z\""),
            (b"\x82\xa1a\xc0\xa1a\xc0".to_vec(), obj_type(&[("a", Type::String)]), "at a: duplicate attribute"),
            (vec![0x91, 0xc0], Type::Tuple(vec![Type::String, Type::String]), "tuple of 2 elements, found 1"),
            (vec![0xc0, 0xc0], Type::String, "1 unexpected bytes after the value"),
            (vec![0xd5, 0x05, 0x00, 0x00], Type::String, "unsupported msgpack extension type 5 with 2 bytes"),
            (vec![0xa1, b'x'], Type::Dynamic, "expected a [type, value] array for a dynamic value, found string"),
            (vec![0x91, 0xc0], Type::Dynamic, "dynamic value must be a [type, value] array, found 1"),
            (vec![0x92, 0x01, 0xc0], Type::Dynamic, "expected the type of a dynamic value as JSON bytes"),
            (b"\x92\xc4\x05\"foo\"\xc0".to_vec(), Type::Dynamic, "unknown primitive type \"foo\""),
            (b"\x92\xc4\x08\"string\"\x01".to_vec(), Type::Dynamic, "expected string, found integer"),
            (
                b"\x81\xafnetwork_profile\x91\x81\xadoutbound_type\x90".to_vec(),
                nested,
                "at network_profile[0].outbound_type: expected string, found array",
            ),
            (ten_thousand_arrays.clone(), deep_type, "nested deeper than 64 levels"),
            (ten_thousand_arrays.clone(), Type::list(Type::list(Type::String)), "at [0][0]: expected string"),
            (ten_thousand_arrays, Type::Dynamic, "found 1 elements"),
        ];
        for (bytes, ty, want) in cases {
            let err = decode(&bytes, &ty).expect_err(&hex(&bytes[..bytes.len().min(16)])).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn deep_nesting_error_names_the_path() {
        let deep_type = (0..100).fold(Type::String, |t, _| Type::list(t));
        let bytes = [vec![0x91; 100], vec![0xc0]].concat();
        let err = decode(&bytes, &deep_type).expect_err("too deep");
        assert_eq!(err.path.0.len(), MAX_DEPTH);
        // Exactly the limit is fine.
        let ok_type = (0..MAX_DEPTH).fold(Type::String, |t, _| Type::list(t));
        let ok = [vec![0x91; MAX_DEPTH], vec![0xa0]].concat();
        assert!(decode(&ok, &ok_type).is_ok());
        assert_eq!(encode(&decode(&ok, &ok_type).expect("decode"), &ok_type), Ok(ok));
    }

    /// Every truncation and every single-byte corruption of a rich encoding
    /// either decodes or errors; none panics.
    #[test]
    fn truncated_and_corrupted_input_never_panics() {
        let ty = cluster_type();
        let sample = samples(&ty)[0].clone();
        let bytes = encode(&sample, &ty).expect("encode");
        assert!(bytes.len() > 100);
        for end in 0..bytes.len() {
            assert!(decode(&bytes[..end], &ty).is_err(), "prefix of {end} bytes decoded");
        }
        let mut corrupted = bytes.clone();
        for i in 0..bytes.len() {
            for b in 0..=255u8 {
                corrupted[i] = b;
                let _ = decode(&corrupted, &ty);
            }
            corrupted[i] = bytes[i];
        }
    }

    #[test]
    fn encode_rejects_values_that_do_not_fit_the_type() {
        let ty = obj_type(&[("a", Type::list(Type::String)), ("d", Type::Dynamic)]);
        let cases: Vec<(Value, Type, &str)> = vec![
            (Value::int(1), Type::String, "expected string value, found number"),
            (Value::string("x"), Type::Dynamic, "must be Value::Dynamic carrying its type, found string"),
            (dynamic(Type::String, Value::string("x")), Type::String, "expected string value, found dynamic"),
            (obj(&[("z", Value::Null)]), ty.clone(), "unsupported attribute \"z\""),
            (
                obj(&[("a", Value::List(vec![Value::string("ok"), Value::Bool(true)]))]),
                ty.clone(),
                "at a[1]: expected string value, found bool",
            ),
            (obj(&[("d", Value::int(1))]), ty, "at d: a known value of dynamic type"),
            (Value::Tuple(vec![]), Type::Tuple(vec![Type::String]), "tuple type has 1 elements but the value has 0"),
            (Value::Set(vec![]), Type::list(Type::String), "expected list value, found set"),
        ];
        for (v, ty, want) in cases {
            let err = encode(&v, &ty).expect_err(&format!("{v:?}")).to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
        let deep_type = (0..100).fold(Type::String, |t, _| Type::list(t));
        let deep_value = (0..100).fold(Value::string("x"), |v, _| Value::List(vec![v]));
        assert!(encode(&deep_value, &deep_type).is_err_and(|e| e.message.contains("nested deeper")));
    }

    #[test]
    fn exact_decimal_of_floats() {
        assert_eq!(
            exact_decimal(0.1).map(|n| n.to_string()).as_deref(),
            Some("0.1000000000000000055511151231257827021181583404541015625")
        );
        assert_eq!(exact_decimal(5e-324).map(|n| n.as_str().len()), Some(1076));
        assert_eq!(exact_decimal(f64::INFINITY), None);
        assert_eq!(exact_f64(&Number::from_i64(3)), Some(3.0));
        assert_eq!(exact_f64(&Number::parse("0.1").expect("number")), None);
    }
}
