//! The checks of one MongoDB validator file (`schemas/<database>/<collection>.json`)
//! that need no server: valid JSON, only spec keys, only keywords and BSON
//! types MongoDB's `$jsonSchema` accepts, `required` fields defined.
//! [`crate::mongo::spec`] refuses a file that fails them; `lint` reports them
//! as findings with positions.
//!
//! MongoDB's `$jsonSchema` is a dialect of JSON Schema draft 4 without
//! several keywords; a validator that uses them is rejected by the server
//! (or, for `format`, silently ignored by older servers).

use crate::model::text_position::LineIndex;
use serde_json::Value;

/// Keywords MongoDB's `$jsonSchema` accepts.
const KEYWORDS: &[&str] = &[
    "bsonType",
    "type",
    "enum",
    "required",
    "properties",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "additionalProperties",
    "dependencies",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "title",
    "description",
];

/// BSON type aliases `bsonType` accepts.
const BSON_TYPES: &[&str] = &[
    "double",
    "string",
    "object",
    "array",
    "binData",
    "objectId",
    "bool",
    "date",
    "null",
    "regex",
    "javascript",
    "int",
    "timestamp",
    "long",
    "decimal",
    "minKey",
    "maxKey",
    "number",
    "undefined",
    "dbPointer",
    "symbol",
    "javascriptWithScope",
];

/// Rule ids of the validator checks.
pub mod ids {
    /// Not valid JSON.
    pub const INVALID_JSON: &str = "schema-invalid-json";
    /// A keyword `$jsonSchema` does not accept.
    pub const UNSUPPORTED_KEYWORD: &str = "schema-unsupported-keyword";
    /// `required` names a field `properties` does not define.
    pub const REQUIRED_NOT_IN_PROPERTIES: &str = "schema-required-not-in-properties";
    /// An unknown `bsonType`.
    pub const INVALID_BSON_TYPE: &str = "schema-invalid-bson-type";
    /// `validationAction: "warn"`.
    pub const VALIDATION_ACTION_WARN: &str = "schema-validation-action-warn";
}

/// One problem: rule id, byte offset in the file (when known), message, help.
pub type Raw = (&'static str, Option<usize>, String, String);

/// Checks one validator file's text.
pub fn check_file(text: &str, out: &mut Vec<Raw>) {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let offset = LineIndex::new(text).offset(text, e.line(), e.column());
            out.push((ids::INVALID_JSON, Some(offset), format!("not valid JSON: {e}"), "fix the syntax; MongoDB validators are plain JSON (no comments, no trailing commas)".into()));
            return;
        }
    };
    if value.get("validationAction").and_then(Value::as_str) == Some("warn") {
        out.push((
            ids::VALIDATION_ACTION_WARN,
            locate(text, "\"validationAction\""),
            "validationAction is \"warn\": documents that break the schema are accepted and only logged".into(),
            "use \"error\" once existing documents comply (`schemactl migrate` reports how many do not)".into(),
        ));
    }
    for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
        if ![
            "validator",
            "validationLevel",
            "validationAction",
            "indexes",
        ]
        .contains(&key.as_str())
        {
            out.push((
                ids::UNSUPPORTED_KEYWORD,
                locate(text, &format!("\"{key}\"")),
                format!("`{key}` is not a spec key"),
                "use validator, validationLevel, validationAction and indexes".into(),
            ));
        }
    }
    if let Some(schema) = value.pointer("/validator/$jsonSchema") {
        check_schema(text, schema, "$jsonSchema", out);
    }
}

fn check_schema(text: &str, schema: &Value, path: &str, out: &mut Vec<Raw>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    for (key, value) in object {
        if !KEYWORDS.contains(&key.as_str()) {
            out.push((
                ids::UNSUPPORTED_KEYWORD,
                locate(text, &format!("\"{key}\"")),
                format!("{path}.{key}: `{key}` is not a keyword MongoDB's $jsonSchema accepts; the server rejects the validator"),
                "remove it (MongoDB has no $ref, $schema, definitions, default or format); describe formats with `pattern`".into(),
            ));
        }
        match key.as_str() {
            "bsonType" => {
                let names: Vec<&str> = match value {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                for name in names.into_iter().filter(|n| !BSON_TYPES.contains(n)) {
                    out.push((
                        ids::INVALID_BSON_TYPE,
                        locate(text, &format!("\"{name}\"")),
                        format!("{path}.bsonType: `{name}` is not a BSON type"),
                        format!("use one of: {}", BSON_TYPES.join(", ")),
                    ));
                }
            }
            "properties" | "patternProperties" => {
                if let Some(children) = value.as_object() {
                    for (name, child) in children {
                        check_schema(text, child, &format!("{path}.{key}.{name}"), out);
                    }
                }
            }
            "items" | "additionalItems" | "additionalProperties" | "not" => match value {
                Value::Array(items) => items
                    .iter()
                    .for_each(|i| check_schema(text, i, &format!("{path}.{key}"), out)),
                other => check_schema(text, other, &format!("{path}.{key}"), out),
            },
            "allOf" | "anyOf" | "oneOf" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check_schema(text, item, &format!("{path}.{key}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    if let (Some(required), Some(properties)) = (
        object.get("required").and_then(Value::as_array),
        object.get("properties").and_then(Value::as_object),
    ) {
        for name in required
            .iter()
            .filter_map(Value::as_str)
            .filter(|n| !properties.contains_key(*n))
        {
            out.push((
                ids::REQUIRED_NOT_IN_PROPERTIES,
                locate(text, &format!("\"{name}\"")),
                format!("{path}.required names `{name}`, which {path}.properties does not define: its type is never checked"),
                format!("add `{name}` to properties, or remove it from required"),
            ));
        }
    }
}

fn locate(text: &str, needle: &str) -> Option<usize> {
    text.find(needle)
}

#[cfg(test)]
mod tests {
    use super::{check_file, ids};

    fn rules(text: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        check_file(text, &mut out);
        out.iter().map(|(rule, ..)| *rule).collect()
    }

    #[test]
    fn a_valid_validator_is_clean() {
        let text = r#"{"validator": {"$jsonSchema": {"bsonType": "object", "required": ["name"], "properties": {"name": {"bsonType": "string", "description": "who"}, "tags": {"bsonType": "array", "items": {"bsonType": "string"}}}}}, "validationLevel": "strict", "validationAction": "error"}"#;
        assert!(rules(text).is_empty(), "{:?}", rules(text));
    }

    #[test]
    fn finds_each_kind_of_problem() {
        assert_eq!(rules("{ \"validator\": "), vec![ids::INVALID_JSON]);
        let text = r##"{"validator": {"$jsonSchema": {"$schema": "x", "bsonType": "objekt", "required": ["name", "age"], "properties": {"name": {"bsonType": "string", "format": "email", "default": ""}}}}, "validationAction": "warn"}"##;
        let mut found = rules(text);
        found.sort();
        assert_eq!(
            found,
            vec![
                ids::INVALID_BSON_TYPE,
                ids::REQUIRED_NOT_IN_PROPERTIES,
                ids::UNSUPPORTED_KEYWORD,
                ids::UNSUPPORTED_KEYWORD,
                ids::UNSUPPORTED_KEYWORD,
                ids::VALIDATION_ACTION_WARN
            ]
        );
    }
}
