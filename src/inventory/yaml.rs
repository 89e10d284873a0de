//! A YAML document as a tree of nodes that remember their line and column.
//!
//! The inventory walker needs positions for every key and value (errors name `file:line:column`)
//! and must accept arbitrary variables of other tools, so the document is first read into this
//! generic tree by serde-saphyr and interpreted afterwards.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A position in the inventory file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub position: Position,
}

/// The shapes a YAML value can take.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    String(String),
    Sequence(Vec<Node>),
    /// Keys in document order; keys are kept as nodes for their positions.
    Mapping(Vec<(Node, Node)>),
}

impl Value {
    /// A short name for error messages: "a mapping", "a string", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
        }
    }
}

impl Node {
    /// The key text when this node is used as a mapping key (`true`, `1` ... become text).
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Null => String::new(),
            Value::Sequence(_) | Value::Mapping(_) => "<complex key>".to_string(),
        }
    }
}

/// A document that is not valid YAML, worded for the inventory's author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: Option<Position>,
    pub message: String,
}

/// Parses a whole document. An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    if text.trim().is_empty() {
        return Ok(Node {
            value: Value::Null,
            position: Position { line: 1, column: 1 },
        });
    }
    serde_saphyr::from_str(text).map_err(|error| syntax_error(&error))
}

/// The library's user-facing wording, without its advice to programmers (which options or
/// functions to use) and with the position kept apart.
fn syntax_error(error: &serde_saphyr::Error) -> SyntaxError {
    let position = error.location().filter(|l| l.line() > 0).map(|l| Position {
        line: l.line(),
        column: l.column(),
    });
    let inner = error.without_snippet();
    let message = match inner {
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "the file holds several YAML documents (---); an inventory is a single document"
                .to_string()
        }
        _ => {
            let mut options = serde_saphyr::RenderOptions::new(&serde_saphyr::UserMessageFormatter);
            options.snippets = serde_saphyr::SnippetMode::Off;
            let rendered = inner.render_with_options(options);
            let first = rendered.lines().next().unwrap_or("").trim();
            // "duplicate mapping key: x, set DuplicateKeyPolicy ..." -> "duplicate mapping key: x".
            let first = first.split(", set ").next().unwrap_or(first);
            let first = match first.find(" at line ") {
                Some(at) => &first[..at],
                None => first,
            };
            first.to_string()
        }
    };
    SyntaxError { position, message }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            position: Position {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key, value));
        }
        Ok(Value::Mapping(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_positions_of_keys_and_values() {
        let doc = parse("all:\n  hosts:\n    web-1:\n      ansible_port: 2222\n").unwrap();
        let Value::Mapping(top) = &doc.value else {
            panic!("not a mapping")
        };
        assert_eq!(top[0].0.key_text(), "all");
        assert_eq!(top[0].0.position, Position { line: 1, column: 1 });
        let Value::Mapping(all) = &top[0].1.value else {
            panic!("all is not a mapping")
        };
        let Value::Mapping(hosts) = &all[0].1.value else {
            panic!("hosts is not a mapping")
        };
        assert_eq!(hosts[0].0.position, Position { line: 3, column: 5 });
        let Value::Mapping(vars) = &hosts[0].1.value else {
            panic!("host vars are not a mapping")
        };
        assert_eq!(vars[0].1.value, Value::Int(2222));
        assert_eq!(
            vars[0].1.position,
            Position {
                line: 4,
                column: 21
            }
        );
    }

    #[test]
    fn empty_values_and_documents_are_null() {
        assert_eq!(parse("").unwrap().value, Value::Null);
        let doc = parse("build-01:\n").unwrap();
        let Value::Mapping(entries) = doc.value else {
            panic!("not a mapping")
        };
        assert_eq!(entries[0].1.value, Value::Null);
    }

    #[test]
    fn duplicate_keys_are_reported_without_library_advice() {
        let error = parse("all:\n  hosts:\n    a:\n    a:\n").unwrap_err();
        assert!(error.message.contains("duplicate"), "{error:?}");
        assert!(!error.message.contains("DuplicateKeyPolicy"), "{error:?}");
        assert_eq!(error.position.map(|p| p.line), Some(4));
    }

    #[test]
    fn several_documents_are_reported_plainly() {
        let error = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(!error.message.contains("from_str_multiple"), "{error:?}");
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let doc = parse("port: \"2222\"\n").unwrap();
        let Value::Mapping(entries) = doc.value else {
            panic!("not a mapping")
        };
        assert_eq!(entries[0].1.value, Value::String("2222".into()));
    }
}
