//! The documents `--format json` prints, as JSON Schema (draft 2020-12)
//! generated from the report types: `docs/reference/json/<name>.schema.json`.
//! Programs may rely on every field these schemas name; new fields may
//! appear, so they do not forbid unknown ones.

use schemars::JsonSchema;
use serde_json::Value;

/// A PostgreSQL report with the MongoDB side beside it, as `migrate`,
/// `status` and `verify` print it.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct WithMongodb<Report, Mongo> {
    #[serde(flatten)]
    report: Report,
    /// The MongoDB side; null when MongoDB is not configured.
    mongodb: Option<Mongo>,
}

fn schema<T: JsonSchema>(title: &str) -> Value {
    // As serialized: a field skipped when empty is not required.
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    schema["title"] = Value::String(title.to_string());
    schema
}

/// Every document, by the file name it is written under.
pub fn schemas() -> Vec<(&'static str, Value)> {
    use schemactl::runner::{RunReport, StatusReport, Validation};
    vec![
        (
            "migrate",
            schema::<WithMongodb<RunReport, schemactl::mongo::report::MongoReport>>(
                "schemactl migrate --format json",
            ),
        ),
        (
            "rollback",
            schema::<RunReport>("schemactl rollback --format json"),
        ),
        (
            "baseline",
            schema::<RunReport>("schemactl baseline --format json"),
        ),
        (
            "check",
            schema::<schemactl::runner::compatibility::Compatibility>(
                "schemactl check --format json",
            ),
        ),
        (
            "status",
            schema::<WithMongodb<StatusReport, Vec<schemactl::mongo::report::CollectionStatus>>>(
                "schemactl status --format json",
            ),
        ),
        (
            "validate",
            schema::<Validation>("schemactl validate --format json"),
        ),
        (
            "verify",
            schema::<
                WithMongodb<
                    schemactl::verify::VerifyReport,
                    Vec<schemactl::mongo::report::CollectionVerification>,
                >,
            >("schemactl verify --format json"),
        ),
        (
            "diff",
            schema::<schemactl::verify::DiffReport>("schemactl diff --format json"),
        ),
        (
            "dump",
            schema::<schemactl::catalog::Snapshot>("schemactl dump --format json"),
        ),
        (
            "lint",
            schema::<schemactl::lint::report::LintDocument>("schemactl lint --format json"),
        ),
        (
            "fleet",
            schema::<schemactl::fleet::FleetReport>("schemactl fleet … --format json"),
        ),
        (
            "backup-list",
            schema::<schemactl::backup::BackupList>("schemactl backup list --format json"),
        ),
        (
            "backup-create",
            schema::<schemactl::backup::BackupCreated>("schemactl backup create --format json"),
        ),
        (
            "error",
            schema::<crate::dispatch::ErrorDocument>("any command's error with --format json"),
        ),
    ]
}
