//! `lint`'s static `down-does-not-reverse` against `verify`'s replay on the
//! real server: on each case built for a dependency PostgreSQL resolves on
//! its own (a drop that cascades, a column that takes its index, a rename
//! back, an index re-created under its name), the two must agree.

use crate::support::{schemactl, server, Project};

/// A table the cases build on, and one case: its up and down scripts, and
/// whether they restore the schema.
const BASE_UP: &str = "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\nCREATE INDEX t_a ON t (a);\nCREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n";
const BASE_DOWN: &str = "DROP FUNCTION touch();\nDROP TABLE t;\n";

struct Case {
    name: &'static str,
    up: &'static str,
    down: &'static str,
    reversible: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "a column the down drops that the up never made (Ory Kratos' shifted downs)",
        up: "SELECT 1;\n",
        down: "ALTER TABLE t DROP COLUMN b;\n",
        reversible: false,
    },
    Case {
        name: "a column the down adds that the up never dropped",
        up: "SELECT 1;\n",
        down: "ALTER TABLE t ADD COLUMN extra timestamp;\n",
        reversible: false,
    },
    Case {
        name: "a NOT NULL the down sets that the up never dropped",
        up: "SELECT 1;\n",
        down: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n",
        reversible: false,
    },
    Case {
        name: "a down that drops an index no migration made fails",
        up: "SELECT 1;\n",
        down: "DROP INDEX t_b_idx;\n",
        reversible: false,
    },
    Case {
        name: "a down that adds a column that is already there fails",
        up: "SELECT 1;\n",
        down: "ALTER TABLE t ADD COLUMN a int;\n",
        reversible: false,
    },
    Case {
        name: "a type the down changes that the up left alone",
        up: "SELECT 1;\n",
        down: "ALTER TABLE t ALTER COLUMN b TYPE bigint;\n",
        reversible: false,
    },
    Case {
        name: "a type the up widens and the down narrows back, spelled differently",
        up: "ALTER TABLE t ALTER COLUMN a TYPE bigint;\n",
        down: "ALTER TABLE t ALTER COLUMN a TYPE int4;\n",
        reversible: true,
    },
    Case {
        name: "a type the up changes and the down leaves",
        up: "ALTER TABLE t ALTER COLUMN b TYPE text;\n",
        down: "SELECT 1;\n",
        reversible: false,
    },
    Case {
        name: "a NOT NULL the up sets and the down takes back",
        up: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n",
        down: "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\n",
        reversible: true,
    },
    Case {
        name: "a NOT NULL the up sets and the down leaves",
        up: "ALTER TABLE t ALTER COLUMN b SET NOT NULL;\n",
        down: "SELECT 1;\n",
        reversible: false,
    },
    Case {
        name: "a serial or identity column's sequence goes with the column",
        up: "ALTER TABLE t ADD COLUMN s bigserial;\nALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS IDENTITY;\n",
        down: "ALTER TABLE t DROP COLUMN g;\nALTER TABLE t DROP COLUMN s;\n",
        reversible: true,
    },
    Case {
        name: "a serial column added and dropped by the up leaves nothing to reverse",
        up: "ALTER TABLE t ADD COLUMN s serial;\nALTER TABLE t DROP COLUMN s;\n",
        down: "SELECT 1;\n",
        reversible: true,
    },
    Case {
        name: "a sequence made by a serial table left by the down is found",
        up: "CREATE TABLE q (id serial PRIMARY KEY);\n",
        down: "DROP SEQUENCE q_id_seq CASCADE;\n",
        reversible: false,
    },
    Case {
        name: "dropping a table takes its indexes, constraints and triggers",
        up: "CREATE TABLE c (id bigint PRIMARY KEY, t_id bigint CONSTRAINT c_t REFERENCES t (id) ON DELETE CASCADE, n int CONSTRAINT c_n CHECK (n > 0));\nCREATE INDEX c_t_id ON c (t_id);\nCREATE TRIGGER c_touch BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION touch();\n",
        down: "DROP TABLE c;\n",
        reversible: true,
    },
    Case {
        name: "dropping a column takes the indexes over it",
        up: "ALTER TABLE t ADD COLUMN x int;\nCREATE INDEX t_x ON t (x);\nCREATE INDEX t_b_x ON t (b, x);\n",
        down: "ALTER TABLE t DROP COLUMN x;\n",
        reversible: true,
    },
    Case {
        name: "an index dropped and re-created under its name is restored",
        up: "DROP INDEX t_a;\nCREATE INDEX t_a ON t (a, b);\n",
        down: "DROP INDEX t_a;\nCREATE INDEX t_a ON t (a);\n",
        reversible: true,
    },
    Case {
        name: "a rename is undone by the rename back",
        up: "ALTER TABLE t RENAME COLUMN b TO c;\nALTER INDEX t_a RENAME TO t_a_idx;\n",
        down: "ALTER INDEX t_a_idx RENAME TO t_a;\nALTER TABLE t RENAME COLUMN c TO b;\n",
        reversible: true,
    },
    Case {
        name: "dropping a type with CASCADE takes the columns of that type",
        up: "CREATE TYPE mood AS ENUM ('ok', 'sad');\nALTER TABLE t ADD COLUMN m mood;\n",
        down: "DROP TYPE mood CASCADE;\n",
        reversible: true,
    },
    Case {
        name: "dropping a materialized view takes its indexes",
        up: "CREATE MATERIALIZED VIEW t_ids AS SELECT id FROM t;\nCREATE UNIQUE INDEX t_ids_id ON t_ids (id);\n",
        down: "DROP MATERIALIZED VIEW t_ids;\n",
        reversible: true,
    },
    Case {
        name: "dropping a table with CASCADE takes the views over it",
        up: "CREATE TABLE d (id bigint PRIMARY KEY);\nCREATE VIEW d_ids AS SELECT id FROM d;\n",
        down: "DROP TABLE d CASCADE;\n",
        reversible: true,
    },
    Case {
        name: "a function the down forgets",
        up: "CREATE TABLE e (id bigint PRIMARY KEY);\nCREATE FUNCTION e_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM e $$;\n",
        down: "DROP TABLE e CASCADE;\n",
        reversible: false,
    },
    Case {
        name: "unnamed constraints come back under PostgreSQL's default names",
        up: "CREATE TABLE u (id bigint PRIMARY KEY, t_id bigint REFERENCES t ON DELETE CASCADE, k int UNIQUE, n int CHECK (n > 0));\nCREATE INDEX ON u (t_id);\nALTER TABLE u DROP CONSTRAINT u_pkey, DROP CONSTRAINT u_t_id_fkey, DROP CONSTRAINT u_k_key, DROP CONSTRAINT u_n_check;\nDROP INDEX u_t_id_idx;\n",
        down: "DROP TABLE u;\n",
        reversible: true,
    },
    Case {
        name: "a constraint dropped by its default name and re-created unnamed",
        up: "ALTER TABLE t ADD UNIQUE (b);\nALTER TABLE t DROP CONSTRAINT t_b_key;\nALTER TABLE t ADD CONSTRAINT t_b_positive CHECK (b > 0);\n",
        down: "ALTER TABLE t DROP CONSTRAINT t_b_positive;\n",
        reversible: true,
    },
    Case {
        name: "a named column constraint is the constraint an ADD CONSTRAINT made",
        up: "CREATE TABLE w (id bigint PRIMARY KEY, t_id bigint NOT NULL);\nALTER TABLE w ADD CONSTRAINT fk_w_t FOREIGN KEY (t_id) REFERENCES t ON DELETE CASCADE;\nDROP TABLE w;\nCREATE TABLE w (id bigint PRIMARY KEY, t_id bigint NOT NULL CONSTRAINT fk_w_t REFERENCES t ON DELETE CASCADE);\n",
        down: "DROP TABLE w;\n",
        reversible: true,
    },
    Case {
        name: "dropping a column takes the foreign key over it",
        up: "ALTER TABLE t ADD COLUMN q bigint REFERENCES t ON DELETE SET NULL;\nALTER TABLE t ADD CONSTRAINT t_q_again FOREIGN KEY (q) REFERENCES t ON DELETE SET NULL;\n",
        down: "ALTER TABLE t DROP COLUMN q;\n",
        reversible: true,
    },
    Case {
        name: "a table renamed and then dropped takes its indexes",
        up: "CREATE TABLE bk (id bigint PRIMARY KEY, a int);\nCREATE INDEX bk_a ON bk (a);\nCREATE INDEX ON bk (a, id);\n",
        down: "ALTER TABLE bk RENAME TO bk_old;\nDROP TABLE bk_old;\n",
        reversible: true,
    },
    Case {
        name: "DROP VIEW CASCADE takes the materialized views over it",
        up: "CREATE VIEW tv AS SELECT id FROM t;\nCREATE MATERIALIZED VIEW tmv AS SELECT id FROM tv;\nCREATE UNIQUE INDEX tmv_id ON tmv (id);\n",
        down: "DROP VIEW tv CASCADE;\n",
        reversible: true,
    },
    Case {
        name: "a function CREATE OR REPLACE makes and the down leaves",
        up: "CREATE OR REPLACE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
        down: "SELECT 1;\n",
        reversible: false,
    },
    Case {
        name: "a constraint the up drops by its default name and the down forgets",
        up: "ALTER TABLE t DROP CONSTRAINT t_pkey;\n",
        down: "SELECT 1;\n",
        reversible: false,
    },
    Case {
        name: "an index the up drops and the down does not restore",
        up: "DROP INDEX t_a;\n",
        down: "SELECT 1;\n",
        reversible: false,
    },
    Case {
        name: "a column dropped with the index over it, restored without the index",
        up: "ALTER TABLE t DROP COLUMN a;\n",
        down: "ALTER TABLE t ADD COLUMN a int;\n",
        reversible: false,
    },
];

#[test]
fn lint_and_verify_agree_on_dependency_cases() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin = server().admin_url();
    let mut disagreements = Vec::new();
    for case in CASES {
        let project = Project::new();
        project
            .write("0001_base.up.sql", BASE_UP)
            .write("0001_base.down.sql", BASE_DOWN)
            .write("0002_case.up.sql", case.up)
            .write("0002_case.down.sql", case.down);
        let db = runtime.block_on(server().database());
        let lint = schemactl(&project, &db, &["lint", "--format", "json"]);
        let findings: serde_json::Value = serde_json::from_str(&lint.stdout)
            .unwrap_or_else(|e| panic!("{}: lint JSON: {e}\n{}", case.name, lint.output()));
        let lint_errors = findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "down-does-not-reverse" && f["severity"] == "error")
            .count();
        let verify = schemactl(&project, &db, &["verify", "--dev-url", &admin]);
        let verified = verify.code == 0;
        assert_eq!(
            verified,
            case.reversible,
            "{}: verify disagrees with the case\n{}",
            case.name,
            verify.output()
        );
        if (lint_errors == 0) != case.reversible {
            disagreements.push(format!("{}: lint {}", case.name, lint.stdout));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
