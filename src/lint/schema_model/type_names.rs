//! A column type as PostgreSQL itself names it (`format_type`), so that
//! two spellings of one type compare equal: `int`, `int4` and `serial` are
//! `integer`; `varchar(255)` is `character varying(255)`; `timestamptz(3)`
//! is `timestamp(3) with time zone`. A spelling this table does not know
//! gives `None`, and the down check then does not judge the column.

/// PostgreSQL's name for `written` (lower case, as `sqlparser` prints it),
/// or `None` when it is not one this table can vouch for.
pub(crate) fn canonical(written: &str) -> Option<String> {
    let written = written.trim().to_ascii_lowercase();
    let (element, array) = match written.strip_suffix("[]") {
        Some(element) => (element.trim_end(), "[]"),
        None => (written.as_str(), ""),
    };
    // `head(mods) tail`: `timestamp(3) with time zone`.
    let (head, modifiers, tail) = match (element.find('('), element.find(')')) {
        (Some(open), Some(close)) if open < close => (
            &element[..open],
            &element[open..=close],
            &element[close + 1..],
        ),
        (None, None) => (element, "", ""),
        _ => return None,
    };
    let base: Vec<&str> = head
        .split_whitespace()
        .chain(tail.split_whitespace())
        .collect();
    let base = base.join(" ");
    let modifiers: String = modifiers.chars().filter(|c| !c.is_whitespace()).collect();
    let (name, suffix) = match base.as_str() {
        "int" | "integer" | "int4" | "serial" | "serial4" => ("integer", ""),
        "bigint" | "int8" | "bigserial" | "serial8" => ("bigint", ""),
        "smallint" | "int2" | "smallserial" | "serial2" => ("smallint", ""),
        "varchar" | "character varying" => ("character varying", ""),
        "char" | "character" | "bpchar" => ("character", ""),
        "bool" | "boolean" => ("boolean", ""),
        "float8" | "double precision" => ("double precision", ""),
        "float" if modifiers.is_empty() => ("double precision", ""),
        "float4" | "real" => ("real", ""),
        "decimal" | "numeric" => ("numeric", ""),
        "timestamp" | "timestamp without time zone" => ("timestamp", " without time zone"),
        "timestamptz" | "timestamp with time zone" => ("timestamp", " with time zone"),
        "time" | "time without time zone" => ("time", " without time zone"),
        "timetz" | "time with time zone" => ("time", " with time zone"),
        "text" | "uuid" | "json" | "jsonb" | "bytea" | "date" | "inet" | "cidr" | "macaddr"
        | "interval" | "tsvector" | "money" | "xml" | "oid" | "citext" => (base.as_str(), ""),
        _ => return None,
    };
    Some(format!("{name}{modifiers}{suffix}{array}"))
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn spellings_of_one_type_are_one_name() {
        for (written, named) in [
            ("INT", "integer"),
            ("int4", "integer"),
            ("serial", "integer"),
            ("VARCHAR(255)", "character varying(255)"),
            ("character varying (255)", "character varying(255)"),
            ("TIMESTAMPTZ", "timestamp with time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("text[]", "text[]"),
            ("NUMERIC(10,2)", "numeric(10,2)"),
            ("bpchar(3)", "character(3)"),
        ] {
            assert_eq!(canonical(written).as_deref(), Some(named), "{written}");
        }
        for unknown in [
            "mood",
            "geometry(Point, 4326)",
            "float(24)",
            "bit varying(3)",
        ] {
            assert_eq!(canonical(unknown), None, "{unknown}");
        }
    }
}
