//! Collection specs: one JSON file per collection,
//! `schemas/<database>/<collection>.json`:
//!
//! ```json
//! {
//!   "validator": { "$jsonSchema": { "bsonType": "object", "required": ["name"], "properties": { … } } },
//!   "validationLevel": "strict",
//!   "validationAction": "error",
//!   "indexes": [
//!     { "name": "name_1", "key": { "name": 1 }, "unique": true },
//!     { "name": "created_ttl", "key": { "created_at": 1 }, "expireAfterSeconds": 86400 },
//!     { "name": "open_only", "key": { "status": 1 }, "partialFilterExpression": { "status": "open" } }
//!   ]
//! }
//! ```
//!
//! The checksum is the SHA-256 of a canonical form (keys sorted, no
//! whitespace, numbers as written), so formatting and key order do not count.

use crate::model::text_position::{LineIndex, TextPosition};
use crate::model::SourceProblem;
use crate::mongo::validator_checks;
use crate::Error;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Index options schemactl manages (others are refused, so that nothing is silently ignored).
pub const INDEX_OPTIONS: &[&str] = &[
    "unique",
    "sparse",
    "partialFilterExpression",
    "expireAfterSeconds",
    "collation",
    "hidden",
];

/// The desired state of one collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    /// The file it came from.
    pub path: PathBuf,
    /// The database (the file's directory name).
    pub database: String,
    /// The collection (the file name without `.json`).
    pub collection: String,
    /// The canonical spec: validator, validationLevel, validationAction, indexes (sorted by name).
    pub canonical: Value,
    /// SHA-256 of the canonical form.
    pub checksum: String,
}

impl CollectionSpec {
    /// `database.collection`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.database, self.collection)
    }
}

/// Reads every spec below `dir` (none when it does not exist).
pub fn load_dir(dir: &Path) -> Result<Vec<CollectionSpec>, Error> {
    let Ok(databases) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let kind = |path: &Path| crate::model::dir_entry::classify(&root, path).ok();
    use crate::model::dir_entry::EntryKind;
    for database in databases
        .flatten()
        .filter(|e| kind(&e.path()) == Some(EntryKind::Directory))
    {
        let Ok(files) = std::fs::read_dir(database.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match kind(&path) {
                Some(EntryKind::File) => {}
                Some(EntryKind::Directory) | None => continue,
                Some(other) => {
                    problems.push(SourceProblem {
                        message: other.refusal().unwrap_or_default(),
                        path,
                        position: None,
                    });
                    continue;
                }
            }
            match read(&path) {
                Ok(spec) => specs.push(spec),
                Err(mut found) => problems.append(&mut found),
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(Error::InvalidMigrations(problems));
    }
    specs.sort_by_key(CollectionSpec::label);
    Ok(specs)
}

/// Reads and checks one spec file.
pub fn read(path: &Path) -> Result<CollectionSpec, Vec<SourceProblem>> {
    let problem = |position: Option<TextPosition>, message: String| SourceProblem {
        path: path.to_path_buf(),
        position,
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![problem(None, format!("cannot read the file: {e}"))])?;
    let database = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let collection = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut lint = Vec::new();
    validator_checks::check_file(&text, &mut lint);
    let index = LineIndex::new(&text);
    let mut problems: Vec<SourceProblem> = lint
        .into_iter()
        .filter(|(rule, ..)| *rule != validator_checks::ids::VALIDATION_ACTION_WARN)
        .map(|(_, offset, message, help)| {
            problem(
                offset.map(|o| index.position(&text, o)),
                format!("{message}; {help}"),
            )
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let value: Value =
        serde_json::from_str(&text).map_err(|e| vec![problem(None, e.to_string())])?;
    let Value::Object(object) = value else {
        return Err(vec![problem(
            None,
            "the file must hold a JSON object".into(),
        )]);
    };
    let mut spec = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "validator" => {
                spec.insert(key, value);
            }
            "validationLevel" => match value.as_str() {
                Some("off" | "strict" | "moderate") => {
                    spec.insert(key, value);
                }
                _ => problems.push(problem(None, format!("validationLevel: {value} is not \"off\", \"strict\" or \"moderate\""))),
            },
            "validationAction" => match value.as_str() {
                Some("error" | "warn") => {
                    spec.insert(key, value);
                }
                _ => problems.push(problem(None, format!("validationAction: {value} is not \"error\" or \"warn\""))),
            },
            "indexes" => match indexes(&value) {
                Ok(list) => {
                    spec.insert(key, Value::Array(list));
                }
                Err(message) => problems.push(problem(None, message)),
            },
            other => problems.push(problem(
                None,
                format!("`{other}` is not a spec key; use validator, validationLevel, validationAction and indexes"),
            )),
        }
    }
    if database.is_empty() || collection.is_empty() || collection.starts_with("system.") {
        problems.push(problem(
            None,
            "put the file at schemas/<database>/<collection>.json".into(),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let canonical = Value::Object(spec);
    let checksum = checksum(&canonical);
    Ok(CollectionSpec {
        path: path.to_path_buf(),
        database,
        collection,
        canonical,
        checksum,
    })
}

fn indexes(value: &Value) -> Result<Vec<Value>, String> {
    let Some(list) = value.as_array() else {
        return Err("indexes: must be an array of { name, key, options… }".into());
    };
    let mut out = Vec::new();
    for (i, index) in list.iter().enumerate() {
        let Some(object) = index.as_object() else {
            return Err(format!("indexes[{i}]: must be an object"));
        };
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("indexes[{i}].name: every index needs a name"))?;
        if name == "_id_" {
            return Err(format!(
                "indexes[{i}]: the _id index is MongoDB's; leave it out"
            ));
        }
        let key = object
            .get("key")
            .and_then(Value::as_object)
            .filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(format!(
                "indexes[{i}].key: must be a non-empty object such as {{\"field\": 1}}"
            ));
        };
        for (field, direction) in key {
            let ok = matches!(direction.as_f64(), Some(d) if d == 1.0 || d == -1.0)
                || matches!(
                    direction.as_str(),
                    Some("text" | "2dsphere" | "2d" | "hashed")
                );
            if !ok {
                return Err(format!("indexes[{i}].key.{field}: {direction} is not 1, -1, \"text\", \"2dsphere\", \"2d\" or \"hashed\""));
            }
        }
        for option in object.keys().filter(|k| *k != "name" && *k != "key") {
            if !INDEX_OPTIONS.contains(&option.as_str()) {
                return Err(format!(
                    "indexes[{i}].{option}: not an index option schemactl manages ({})",
                    INDEX_OPTIONS.join(", ")
                ));
            }
        }
        out.push(index.clone());
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    if let Some(pair) = out.windows(2).find(|w| w[0]["name"] == w[1]["name"]) {
        return Err(format!(
            "indexes: the name {} is used twice",
            pair[0]["name"]
        ));
    }
    Ok(out)
}

/// JSON with object keys sorted and no whitespace; key order inside an
/// index's `key` is kept, because it is the index's column order.
pub fn canonical(value: &Value) -> String {
    canonical_inner(value, false)
}

fn canonical_inner(value: &Value, keep_order: bool) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if !keep_order {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        canonical_inner(v, k == "key")
                    )
                })
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| canonical_inner(v, false))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// SHA-256 (hex) of the canonical form.
pub fn checksum(value: &Value) -> String {
    let digest = Sha256::digest(canonical(value).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, text: &str) -> Result<CollectionSpec, Vec<SourceProblem>> {
        let path = dir.join("app").join("users.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        read(&path)
    }

    #[test]
    fn the_checksum_ignores_formatting_and_key_order_but_not_index_key_order() {
        let dir = std::env::temp_dir().join(format!("schemactl-spec-{}", std::process::id()));
        let a = spec(&dir, r#"{"validationLevel": "strict", "validator": {"$jsonSchema": {"bsonType": "object", "required": ["a"], "properties": {"a": {"bsonType": "int"}}}}, "indexes": [{"name": "b", "key": {"x": 1, "y": -1}}, {"name": "a", "key": {"z": 1}, "unique": true}]}"#).unwrap();
        let b = spec(&dir, "{\n  \"indexes\": [ {\"key\": {\"z\": 1.0}, \"unique\": true, \"name\": \"a\"}, {\"name\": \"b\", \"key\": {\"x\": 1, \"y\": -1}} ],\n  \"validator\": {\"$jsonSchema\": {\"properties\": {\"a\": {\"bsonType\": \"int\"}}, \"required\": [\"a\"], \"bsonType\": \"object\"}},\n  \"validationLevel\": \"strict\"\n}").unwrap();
        assert_eq!(a.checksum, b.checksum);
        let c = spec(&dir, r#"{"validationLevel": "strict", "validator": {"$jsonSchema": {"bsonType": "object", "required": ["a"], "properties": {"a": {"bsonType": "int"}}}}, "indexes": [{"name": "b", "key": {"y": -1, "x": 1}}, {"name": "a", "key": {"z": 1}, "unique": true}]}"#).unwrap();
        assert_ne!(a.checksum, c.checksum);
        assert_eq!(
            (a.database.as_str(), a.collection.as_str()),
            ("app", "users")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("schemactl-spec-bad-{}", std::process::id()));
        let message = |text: &str| {
            spec(&dir, text)
                .unwrap_err()
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(message(r#"{"validationLevel": "lax"}"#).contains("validationLevel"));
        assert!(message(r#"{"indexes": [{"key": {"a": 1}}]}"#).contains("indexes[0].name"));
        assert!(message(r#"{"indexes": [{"name": "a", "key": {"a": 2}}]}"#)
            .contains("indexes[0].key.a"));
        assert!(
            message(r#"{"indexes": [{"name": "a", "key": {"a": 1}, "background": true}]}"#)
                .contains("indexes[0].background")
        );
        assert!(message(r#"{"validator": {"$jsonSchema": {"$ref": "x"}}}"#).contains("$ref"));
        assert!(message(r#"{"validator": "#).contains("not valid JSON"));
        assert!(message(r#"{"validatr": {}}"#).contains("`validatr` is not a spec key"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
