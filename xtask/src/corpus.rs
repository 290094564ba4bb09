//! A generated corpus of realistic migrations for the benchmarks: tables
//! with foreign keys and indexes, later ALTERs, JSONB, CHECKs, enums and
//! comments, each with a down script that undoes it.

use anyhow::Result;
use std::fmt::Write;
use std::path::Path;

/// Writes `count` migration pairs into `dir`.
pub fn generate(dir: &Path, count: usize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut last_table = None::<usize>;
    for version in 1..=count {
        let (name, up, down) = match version % 5 {
            1 => {
                let table = version;
                let parent = last_table
                    .map(|p| {
                        format!("    parent_id bigint REFERENCES t{p} (id) ON DELETE CASCADE,\n")
                    })
                    .unwrap_or_default();
                let parent_index = last_table
                    .map(|_| format!("CREATE INDEX t{table}_parent_id ON t{table} (parent_id);\n"))
                    .unwrap_or_default();
                last_table = Some(table);
                (
                    format!("create_t{table}"),
                    format!(
                        "-- Table {table}: one entity of the generated corpus.\n\
                         CREATE TABLE t{table} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n{parent}\
                         \x20   name text NOT NULL,\n    payload jsonb NOT NULL DEFAULT '{{}}',\n\
                         \x20   amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),\n\
                         \x20   created_at timestamptz NOT NULL DEFAULT now()\n);\n{parent_index}\
                         COMMENT ON TABLE t{table} IS 'generated table {table}';\n"
                    ),
                    format!("DROP TABLE t{table};\n"),
                )
            }
            2 => {
                let table = last_table.unwrap_or(1);
                (
                    format!("add_status_to_t{table}"),
                    format!(
                        "ALTER TABLE t{table} ADD COLUMN status text NOT NULL DEFAULT 'new'\n\
                         \x20   CONSTRAINT t{table}_status_check CHECK (status IN ('new', 'active', 'archived'));\n\
                         CREATE INDEX t{table}_active ON t{table} (created_at) WHERE status = 'active';\n"
                    ),
                    format!("DROP INDEX t{table}_active;\nALTER TABLE t{table} DROP COLUMN status;\n"),
                )
            }
            3 => {
                let table = last_table.unwrap_or(1);
                (
                    format!("index_t{table}_payload"),
                    format!("CREATE INDEX t{table}_payload ON t{table} USING gin (payload jsonb_path_ops);\n"),
                    format!("DROP INDEX t{table}_payload;\n"),
                )
            }
            4 => {
                let table = last_table.unwrap_or(1);
                (
                    format!("t{table}_priority_enum"),
                    format!(
                        "CREATE TYPE t{table}_priority AS ENUM ('low', 'medium', 'high');\n\
                         ALTER TABLE t{table} ADD COLUMN priority t{table}_priority NOT NULL DEFAULT 'medium';\n\
                         COMMENT ON COLUMN t{table}.priority IS 'how urgent the row is';\n"
                    ),
                    format!("ALTER TABLE t{table} DROP COLUMN priority;\nDROP TYPE t{table}_priority;\n"),
                )
            }
            _ => {
                let table = last_table.unwrap_or(1);
                (
                    format!("t{table}_unique_name"),
                    format!(
                        "ALTER TABLE t{table} ADD CONSTRAINT t{table}_name_key UNIQUE (name);\n\
                         CREATE VIEW t{table}_recent AS\n    SELECT id, name, amount FROM t{table} WHERE created_at > now() - interval '7 days';\n"
                    ),
                    format!("DROP VIEW t{table}_recent;\nALTER TABLE t{table} DROP CONSTRAINT t{table}_name_key;\n"),
                )
            }
        };
        let mut file_up = String::new();
        let _ = write!(file_up, "{up}");
        std::fs::write(dir.join(format!("{version:04}_{name}.up.sql")), file_up)?;
        std::fs::write(dir.join(format!("{version:04}_{name}.down.sql")), down)?;
    }
    Ok(())
}
