//! What a server has for a collection, in the same canonical JSON form as a
//! spec, and the commands that turn one into the other.

pub use super::report::Step;
use super::spec::{canonical, INDEX_OPTIONS};
use crate::Error;
use mongodb::bson::{doc, Bson, Document};
use mongodb::Database;
use serde_json::{Map, Value};

/// A collection as the server has it; `None` when it does not exist.
pub async fn read(database: &Database, collection: &str) -> Result<Option<Value>, Error> {
    let failed = |e: mongodb::error::Error| Error::Database {
        context: format!("cannot read {}.{collection}", database.name()),
        message: e.to_string(),
        sqlstate: None,
    };
    let listed = database
        .run_command(doc! { "listCollections": 1, "filter": { "name": collection } })
        .await
        .map_err(failed)?;
    let first = listed
        .get_document("cursor")
        .ok()
        .and_then(|c| c.get_array("firstBatch").ok())
        .and_then(|b| b.first())
        .and_then(Bson::as_document)
        .cloned();
    let Some(info) = first else {
        return Ok(None);
    };
    let options = info.get_document("options").cloned().unwrap_or_default();
    let mut spec = Map::new();
    if let Ok(validator) = options.get_document("validator") {
        if !validator.is_empty() {
            spec.insert(
                "validator".into(),
                to_json(Bson::Document(validator.clone())),
            );
        }
    }
    spec.insert(
        "validationLevel".into(),
        Value::String(
            options
                .get_str("validationLevel")
                .unwrap_or("strict")
                .into(),
        ),
    );
    spec.insert(
        "validationAction".into(),
        Value::String(
            options
                .get_str("validationAction")
                .unwrap_or("error")
                .into(),
        ),
    );
    let listed = database
        .run_command(doc! { "listIndexes": collection })
        .await
        .map_err(failed)?;
    let mut indexes: Vec<Value> = listed
        .get_document("cursor")
        .ok()
        .and_then(|c| c.get_array("firstBatch").ok())
        .into_iter()
        .flatten()
        .filter_map(Bson::as_document)
        .filter(|index| index.get_str("name") != Ok("_id_"))
        .map(|index| {
            let mut kept = Document::new();
            for (key, value) in index {
                if key == "name" || key == "key" || INDEX_OPTIONS.contains(&key.as_str()) {
                    kept.insert(key.clone(), value.clone());
                }
            }
            to_json(Bson::Document(kept))
        })
        .collect();
    indexes.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    if !indexes.is_empty() {
        spec.insert("indexes".into(), Value::Array(indexes));
    }
    Ok(Some(Value::Object(spec)))
}

fn to_json(bson: Bson) -> Value {
    bson.into_relaxed_extjson()
}

/// A spec with the server's defaults filled in, so that it compares equal to
/// what the server reports once applied.
pub fn with_defaults(spec: &Value) -> Value {
    let mut map = spec.as_object().cloned().unwrap_or_default();
    map.entry("validationLevel")
        .or_insert_with(|| Value::String("strict".into()));
    map.entry("validationAction")
        .or_insert_with(|| Value::String("error".into()));
    if map
        .get("indexes")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        map.remove("indexes");
    }
    Value::Object(map)
}

/// Whether the server's state (None: no collection) is what a record says;
/// a record of `null` means the collection did not exist (rolled back).
pub fn matches_record(live: Option<&Value>, recorded: &Value) -> bool {
    match live {
        None => recorded.is_null(),
        Some(live) => !recorded.is_null() && matches(live, recorded),
    }
}

/// Whether the live collection matches `spec`.
pub fn matches(live: &Value, spec: &Value) -> bool {
    canonical(live) == canonical(&with_defaults(spec))
}

/// The server's own words for a failed command: its code name, code and
/// message, never the driver's dump of the raw reply.
pub fn server_message(error: &mongodb::error::Error) -> String {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*error.kind {
        ErrorKind::Command(command) => format!(
            "{} (code {}): {}",
            command.code_name, command.code, command.message
        ),
        ErrorKind::Write(WriteFailure::WriteError(write)) => {
            format!("code {}: {}", write.code, write.message)
        }
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            format!(
                "{} (code {}): {}",
                concern.code_name, concern.code, concern.message
            )
        }
        _ => {
            let text = error.to_string();
            // Some replies are only available as raw BSON, which the driver
            // prints as hex: keep the words, not the bytes.
            match text.find("RawDocumentBuf") {
                Some(at) => format!(
                    "{} (the server's reply is not shown: it was raw BSON)",
                    text[..at].trim_end_matches([' ', ':', '{', ','])
                ),
                None => text,
            }
        }
    }
}

/// The commands that turn `live` (None: the collection does not exist) into `spec`.
pub fn plan(collection: &str, live: Option<&Value>, spec: &Value) -> Vec<Step> {
    let spec = with_defaults(spec);
    let mut steps = Vec::new();
    let options = |command: &mut Map<String, Value>| {
        for key in ["validator", "validationLevel", "validationAction"] {
            if let Some(value) = spec.get(key) {
                command.insert(key.into(), value.clone());
            }
        }
    };
    match live {
        None => {
            let mut command = Map::new();
            command.insert("create".into(), Value::String(collection.into()));
            options(&mut command);
            steps.push(Step {
                description: format!("create collection {collection} with its validator"),
                spec_path: "/validator",
                command: Value::Object(command),
                destructive: false,
            });
        }
        Some(live) => {
            let differs = |key: &str| {
                canonical(live.get(key).unwrap_or(&Value::Null))
                    != canonical(spec.get(key).unwrap_or(&Value::Null))
            };
            if differs("validator") || differs("validationLevel") || differs("validationAction") {
                let mut command = Map::new();
                command.insert("collMod".into(), Value::String(collection.into()));
                options(&mut command);
                if spec.get("validator").is_none() {
                    command.insert("validator".into(), Value::Object(Map::new()));
                }
                steps.push(Step {
                    description: format!(
                        "collMod {collection}: validator, validationLevel, validationAction"
                    ),
                    spec_path: "/validator",
                    command: Value::Object(command),
                    destructive: false,
                });
            }
        }
    }
    let live_indexes: Vec<Value> = live
        .and_then(|l| l.get("indexes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let wanted: Vec<Value> = spec
        .get("indexes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_string();
    for index in &live_indexes {
        match wanted.iter().find(|w| name(w) == name(index)) {
            Some(w) if canonical(w) == canonical(index) => {}
            Some(_) => steps.push(drop_index(
                collection,
                &name(index),
                "its definition changed; it is rebuilt",
            )),
            None => steps.push(drop_index(
                collection,
                &name(index),
                "it is no longer in the spec",
            )),
        }
    }
    let to_create: Vec<Value> = wanted
        .iter()
        .filter(|w| !live_indexes.iter().any(|l| canonical(l) == canonical(w)))
        .cloned()
        .collect();
    if !to_create.is_empty() {
        let names: Vec<String> = to_create.iter().map(name).collect();
        steps.push(Step {
            description: format!("create index(es) {} on {collection}", names.join(", ")),
            spec_path: "/indexes",
            command: serde_json::json!({ "createIndexes": collection, "indexes": to_create }),
            destructive: false,
        });
    }
    steps
}

fn drop_index(collection: &str, name: &str, why: &str) -> Step {
    Step {
        description: format!("drop index {name} of {collection} ({why})"),
        spec_path: "/indexes",
        command: serde_json::json!({ "dropIndexes": collection, "index": name }),
        destructive: true,
    }
}

/// Converts a JSON command to BSON.
pub fn to_document(value: &Value) -> Result<Document, Error> {
    let Value::Object(map) = value else {
        return Err(Error::InvalidArgument(
            "a MongoDB command must be a JSON object".into(),
        ));
    };
    Document::try_from(map.clone())
        .map_err(|e| Error::InvalidArgument(format!("cannot turn the spec into BSON: {e}")))
}
