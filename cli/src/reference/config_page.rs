//! The configuration reference (`docs/reference/config.md`), read from the
//! JSON Schema of `schemactl.toml`, itself derived from the file's types
//! and their docs.

use super::markdown::cell;
use super::GENERATED;
use serde_json::Value;

/// The page.
pub fn page(schema: &Value) -> String {
    let mut out = format!(
        "{GENERATED}\n\n# Configuration reference\n\n\
         Every key of `schemactl.toml`, which is found in the working directory or\n\
         the nearest parent (not above the repository's root). Every key is optional;\n\
         an unknown key is an error that names it; flags and environment variables\n\
         win over the file (see [Configuration](../configuration.md)). The same\n\
         definitions as a JSON Schema, for editors that check TOML against one:\n\
         [`schemactl.toml.schema.json`](schemactl.toml.schema.json).\n\n\
         ## Top level\n\n"
    );
    let empty = serde_json::Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    let tables: Vec<(&String, &Value)> = properties
        .iter()
        .filter(|(_, p)| definition(schema, p).is_some())
        .collect();
    out.push_str(&keys_table(schema, properties, |key| key.to_string()));
    for (name, property) in tables {
        let Some(table) = definition(schema, property) else {
            continue;
        };
        out.push_str(&format!("\n## `[{name}]`\n\n"));
        if let Some(about) = table["description"].as_str() {
            out.push_str(&cell(about));
            out.push_str("\n\n");
        }
        let keys = table["properties"].as_object().unwrap_or(&empty);
        out.push_str(&keys_table(schema, keys, |key| format!("{name}.{key}")));
    }
    out
}

/// The `$defs` entry a property refers to, when it is a table.
fn definition<'a>(schema: &'a Value, property: &Value) -> Option<&'a Value> {
    let reference = property["$ref"]
        .as_str()
        .or_else(|| property["allOf"][0]["$ref"].as_str())?;
    let name = reference.rsplit('/').next()?;
    let table = &schema["$defs"][name];
    table["properties"].is_object().then_some(table)
}

/// A table of the scalar keys of one TOML table.
fn keys_table(
    schema: &Value,
    keys: &serde_json::Map<String, Value>,
    spelled: impl Fn(&str) -> String,
) -> String {
    let mut out = String::from("| key | type | description |\n|---|---|---|\n");
    for (key, property) in keys {
        if definition(schema, property).is_some() {
            continue;
        }
        let description = property["description"].as_str().unwrap_or("");
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            spelled(key),
            type_of(property),
            cell(description)
        ));
    }
    out
}

/// The TOML type a property takes.
fn type_of(property: &Value) -> String {
    let types: Vec<&str> = match &property["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let main = types.iter().find(|t| **t != "null").copied().unwrap_or("");
    match main {
        "array" => format!("array of {}", type_of(&property["items"])),
        "object" => {
            format!(
                "table of {}",
                type_of(&property["additionalProperties"]).trim_end_matches('s')
            ) + "s"
        }
        "integer" => "integer".into(),
        "" => "any".into(),
        other => other.into(),
    }
}
