//! What a MongoDB run does, decided without touching a server: from each
//! spec file, what was last recorded for its collection, and what the
//! server has, either the commands to run or the refusals that stop the
//! run (every refusal and every flag that would lift them, at once). The
//! executor ([`crate::mongo::runner`]) gathers the inputs under the lock,
//! calls these functions, and runs what they return.

use super::live;
use super::report::{CollectionState, MongoOptions, Step, Violations};
use super::spec::{canonical, CollectionSpec};
use crate::Error;
use serde_json::Value;

/// The spec last recorded for a collection.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The checksum of the file applied.
    pub checksum: &'a str,
    /// The spec applied, canonical.
    pub spec: &'a Value,
}

/// One collection as the executor found it.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    /// The file.
    pub spec: &'a CollectionSpec,
    /// What was last recorded, if anything.
    pub recorded: Option<Recorded<'a>>,
    /// What the server has (`None`: no such collection).
    pub live: Option<Value>,
    /// Existing documents the new validator rejects, when counted
    /// (see [`needs_violation_count`]).
    pub violations: Option<Violations>,
}

/// A collection the run changes.
#[derive(Debug, Clone)]
pub struct PlannedChange<'a> {
    /// The file.
    pub spec: &'a CollectionSpec,
    /// What the server had before.
    pub live: Option<Value>,
    /// The commands, in order (empty: only the record changes).
    pub steps: Vec<Step>,
    /// Documents the new validator rejects.
    pub violations: Option<Violations>,
}

fn drifted(recorded: Option<Recorded<'_>>, live: Option<&Value>) -> bool {
    recorded.is_some_and(|r| !live::matches_record(live, r.spec))
}

fn up_to_date(observed: &Observed<'_>) -> bool {
    let same_file = observed
        .recorded
        .is_some_and(|r| r.checksum == observed.spec.checksum);
    same_file && !drifted(observed.recorded, observed.live.as_ref())
}

/// The state of a collection, for `status`.
pub fn state(
    spec: &CollectionSpec,
    recorded: Option<Recorded<'_>>,
    live: Option<&Value>,
) -> CollectionState {
    match recorded {
        Some(_) if drifted(recorded, live) => CollectionState::Drifted,
        Some(r) if r.checksum == spec.checksum => CollectionState::InSync,
        _ => CollectionState::Pending,
    }
}

/// Whether the executor must count the documents the spec's validator
/// would reject before planning: the collection changes, exists, and gets a
/// validator that differs from its current one and is enforced.
pub fn needs_violation_count(
    spec: &CollectionSpec,
    recorded: Option<Recorded<'_>>,
    live: Option<&Value>,
) -> bool {
    let observed = Observed {
        spec,
        recorded,
        live: live.cloned(),
        violations: None,
    };
    if up_to_date(&observed) || live::plan(&spec.collection, live, &spec.canonical).is_empty() {
        return false;
    }
    let Some(validator) = spec.canonical.get("validator") else {
        return false;
    };
    let unchanged = live
        .and_then(|l| l.get("validator"))
        .is_some_and(|v| canonical(v) == canonical(validator));
    let level = spec
        .canonical
        .get("validationLevel")
        .and_then(Value::as_str)
        .unwrap_or("strict");
    live.is_some() && !unchanged && level != "off"
}

/// The changes `migrate` makes, or every reason it refuses with the flags
/// that would allow it ([`Error::Refused`]; nothing is changed then).
pub fn plan_apply<'a>(
    observed: Vec<Observed<'a>>,
    options: MongoOptions,
) -> Result<Vec<PlannedChange<'a>>, Error> {
    let mut planned = Vec::new();
    let mut refusals = Vec::new();
    let mut flags: Vec<&str> = Vec::new();
    for seen in observed {
        if up_to_date(&seen) {
            continue;
        }
        let spec = seen.spec;
        let refused_before = refusals.len();
        if drifted(seen.recorded, seen.live.as_ref()) && !options.overwrite_drift {
            refusals.push(format!(
                "{} was changed by hand since schemactl applied it (`schemactl status` shows the diff); re-apply the file over it with --overwrite-drift, or put the change in the file",
                spec.label()
            ));
            flags.push("--overwrite-drift");
        }
        let steps = live::plan(&spec.collection, seen.live.as_ref(), &spec.canonical);
        if !steps.is_empty() {
            if let Some(step) = steps
                .iter()
                .find(|s| s.destructive)
                .filter(|_| !options.allow_destructive)
            {
                refusals.push(format!(
                    "{}: would {}; pass --allow-destructive to do that",
                    spec.label(),
                    step.description
                ));
                flags.push("--allow-destructive");
            }
            if let Some(v) = seen.violations.as_ref().filter(|v| v.count > 0) {
                if !options.allow_violations {
                    refusals.push(format!(
                        "{}: {} existing document(s) break the new validator (for example _id {}); fix them first, or pass --allow-violations",
                        spec.label(),
                        v.count,
                        v.sample_id
                    ));
                    flags.push("--allow-violations");
                }
            }
        }
        if refusals.len() > refused_before {
            continue;
        }
        planned.push(PlannedChange {
            spec,
            live: seen.live,
            violations: if steps.is_empty() {
                None
            } else {
                seen.violations
            },
            steps,
        });
    }
    if !refusals.is_empty() {
        flags.sort_unstable();
        flags.dedup();
        return Err(Error::refused(crate::error::refusal::RefusalKind::MongoPlan, format!(
            "MongoDB migration refused; nothing was changed:\n  - {}\nTo apply all of it anyway: schemactl migrate {}",
            refusals.join("\n  - "),
            flags.join(" ")
        )));
    }
    Ok(planned)
}

/// The commands that bring collection `label` (`database.collection`) back
/// from `live` to `previous`, the spec recorded before the latest change;
/// with no `previous` (schemactl created the collection), dropping it,
/// which needs `allow_destructive`.
pub fn plan_restore(
    label: &str,
    collection: &str,
    live: Option<&Value>,
    previous: Option<&Value>,
    allow_destructive: bool,
) -> Result<Vec<Step>, String> {
    match previous {
        Some(previous) => Ok(live::plan(collection, live, previous)),
        None if allow_destructive => Ok(vec![Step {
            description: format!("drop collection {collection} (it did not exist before)"),
            spec_path: "",
            command: serde_json::json!({ "drop": collection }),
            destructive: true,
        }]),
        None => Err(format!(
            "{label} was created by schemactl; rolling it back drops it with its documents: pass --allow-destructive to do that"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::spec::checksum;
    use serde_json::json;

    fn spec(body: Value) -> CollectionSpec {
        let canonical: Value = serde_json::from_str(&canonical(&body)).unwrap();
        CollectionSpec {
            path: "schemas/app/users.json".into(),
            database: "app".into(),
            collection: "users".into(),
            checksum: checksum(&canonical),
            canonical,
        }
    }

    fn validator(required: &[&str]) -> Value {
        json!({ "validator": { "$jsonSchema": { "bsonType": "object", "required": required } } })
    }

    fn live_of(spec: &CollectionSpec) -> Value {
        live::with_defaults(&spec.canonical)
    }

    fn observed<'a>(
        spec: &'a CollectionSpec,
        recorded: Option<Recorded<'a>>,
        live: Option<Value>,
    ) -> Observed<'a> {
        Observed {
            spec,
            recorded,
            live,
            violations: None,
        }
    }

    #[test]
    fn a_new_collection_is_created_and_an_applied_one_is_left_alone() {
        let users = spec(validator(&["name"]));
        let plan = plan_apply(vec![observed(&users, None, None)], MongoOptions::default()).unwrap();
        assert_eq!(plan.len(), 1);
        assert!(
            plan[0].steps[0].description.contains("create"),
            "{:?}",
            plan[0].steps
        );
        let recorded = Recorded {
            checksum: &users.checksum,
            spec: &users.canonical,
        };
        let live = live_of(&users);
        assert_eq!(
            state(&users, Some(recorded), Some(&live)),
            CollectionState::InSync
        );
        let plan = plan_apply(
            vec![observed(&users, Some(recorded), Some(live))],
            MongoOptions::default(),
        )
        .unwrap();
        assert!(plan.is_empty());
    }

    #[test]
    fn drift_is_refused_unless_overwritten_and_every_flag_is_named_at_once() {
        let old = spec(validator(&["name"]));
        let new = spec(json!({
            "validator": { "$jsonSchema": { "bsonType": "object", "required": ["name", "email"] } },
            "indexes": []
        }));
        let recorded = Recorded {
            checksum: &old.checksum,
            spec: &old.canonical,
        };
        let by_hand = live_of(&spec(validator(&["nickname"])));
        assert_eq!(
            state(&new, Some(recorded), Some(&by_hand)),
            CollectionState::Drifted
        );
        let mut seen = observed(&new, Some(recorded), Some(by_hand.clone()));
        seen.violations = Some(Violations {
            count: 3,
            sample_id: "1".into(),
        });
        let Err(Error::Refused(crate::error::refusal::Refusal {
            kind: crate::error::refusal::RefusalKind::MongoPlan,
            message,
            ..
        })) = plan_apply(vec![seen.clone()], MongoOptions::default())
        else {
            panic!("drift and violations must be refused");
        };
        assert!(message.contains("changed by hand"), "{message}");
        assert!(message.contains("3 existing document(s)"), "{message}");
        assert!(
            message.ends_with("schemactl migrate --allow-violations --overwrite-drift"),
            "{message}"
        );
        let allowed = MongoOptions {
            overwrite_drift: true,
            allow_violations: true,
            ..MongoOptions::default()
        };
        let plan = plan_apply(vec![seen], allowed).unwrap();
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].violations.as_ref().map(|v| v.count), Some(3));
    }

    #[test]
    fn dropping_an_index_needs_allow_destructive() {
        let with_index = spec(json!({
            "validator": { "$jsonSchema": { "bsonType": "object" } },
            "indexes": [ { "key": { "email": 1 }, "name": "email_1", "unique": true } ]
        }));
        let without = spec(json!({
            "validator": { "$jsonSchema": { "bsonType": "object" } },
            "indexes": []
        }));
        let recorded = Recorded {
            checksum: &with_index.checksum,
            spec: &with_index.canonical,
        };
        let live = live_of(&with_index);
        let seen = observed(&without, Some(recorded), Some(live));
        let Err(Error::Refused(crate::error::refusal::Refusal {
            kind: crate::error::refusal::RefusalKind::MongoPlan,
            message,
            ..
        })) = plan_apply(vec![seen.clone()], MongoOptions::default())
        else {
            panic!("dropping an index must be refused");
        };
        assert!(message.contains("--allow-destructive"), "{message}");
        let allowed = MongoOptions {
            allow_destructive: true,
            ..MongoOptions::default()
        };
        let plan = plan_apply(vec![seen], allowed).unwrap();
        assert!(plan[0].steps.iter().any(|s| s.destructive));
    }

    #[test]
    fn violations_are_counted_only_for_an_enforced_changed_validator_on_an_existing_collection() {
        let users = spec(validator(&["name"]));
        assert!(!needs_violation_count(&users, None, None));
        let old = live_of(&spec(validator(&[])));
        assert!(needs_violation_count(&users, None, Some(&old)));
        assert!(!needs_violation_count(&users, None, Some(&live_of(&users))));
        let off = spec(json!({
            "validator": { "$jsonSchema": { "bsonType": "object", "required": ["name"] } },
            "validationLevel": "off"
        }));
        assert!(!needs_violation_count(&off, None, Some(&old)));
    }

    #[test]
    fn restoring_a_collection_schemactl_created_drops_it_only_when_allowed() {
        let refused = plan_restore("app.users", "users", None, None, false).unwrap_err();
        assert!(refused.contains("--allow-destructive"), "{refused}");
        let steps = plan_restore("app.users", "users", None, None, true).unwrap();
        assert_eq!(steps[0].command, json!({ "drop": "users" }));
        let before = spec(validator(&["name"]));
        let steps =
            plan_restore("app.users", "users", None, Some(&before.canonical), false).unwrap();
        assert!(!steps.is_empty() && !steps.iter().any(|s| s.destructive));
    }
}
