//! How a down file differs from the down script applied with its
//! migration: a short unified diff for the refusal that `rollback` gives.

/// At most this many lines of difference are shown.
const SHOWN_LINES: usize = 40;

/// The difference from `applied` (the history's copy) to `file`, as an
/// indented unified diff that starts on a new line.
pub(crate) fn down_difference(applied: &str, file: &str) -> String {
    let diff = similar::TextDiff::from_lines(applied, file);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header("applied", "file")
        .to_string();
    let mut out = String::from("\n    the down script applied (-) and the file now (+):");
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(SHOWN_LINES) {
        out.push_str("\n      ");
        out.push_str(line);
    }
    if lines.len() > SHOWN_LINES {
        out.push_str(&format!(
            "\n      … {} more lines",
            lines.len() - SHOWN_LINES
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_what_the_file_changed() {
        let shown = down_difference("DROP TABLE b;\n", "DROP TABLE b CASCADE;\n");
        assert!(
            shown.contains("-DROP TABLE b;") && shown.contains("+DROP TABLE b CASCADE;"),
            "{shown}"
        );
    }
}
