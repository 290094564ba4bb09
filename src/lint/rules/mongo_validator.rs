//! The rules of the MongoDB validator checks. Their logic walks JSON, not
//! SQL, and lives with the spec in [`crate::mongo::validator_checks`]; they are declared here so
//! that configuration, ignores and SARIF know them like any other rule.

use super::Rule;
use crate::lint::Severity;
use crate::mongo::validator_checks::ids;

macro_rules! declared_rule {
    ($name:ident, $id:expr, $severity:expr, $summary:expr) => {
        #[doc = $summary]
        pub struct $name;

        impl Rule for $name {
            fn id(&self) -> &'static str {
                $id
            }
            fn default_severity(&self) -> Severity {
                $severity
            }
            fn summary(&self) -> &'static str {
                $summary
            }
        }
    };
}

declared_rule!(
    InvalidJson,
    ids::INVALID_JSON,
    Severity::Error,
    "a validator file that is not valid JSON"
);
declared_rule!(UnsupportedKeyword, ids::UNSUPPORTED_KEYWORD, Severity::Error, "a keyword MongoDB's $jsonSchema does not accept ($ref, $schema, default, format, definitions…)");
declared_rule!(
    RequiredNotInProperties,
    ids::REQUIRED_NOT_IN_PROPERTIES,
    Severity::Error,
    "a required field that properties does not define"
);
declared_rule!(
    InvalidBsonType,
    ids::INVALID_BSON_TYPE,
    Severity::Error,
    "a bsonType that is not a BSON type alias"
);
declared_rule!(
    ValidationActionWarn,
    ids::VALIDATION_ACTION_WARN,
    Severity::Warning,
    "validationAction \"warn\": invalid documents are accepted"
);
