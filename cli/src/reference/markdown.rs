//! Text from help strings and docs, made safe for a Markdown table cell.

/// One table cell: newlines become spaces, `|` is escaped, and `<`/`>`
/// outside code spans become entities so that mdBook does not read HTML.
pub fn cell(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(flat.len());
    for (index, part) in flat.split('`').enumerate() {
        if index > 0 {
            out.push('`');
        }
        if index % 2 == 1 {
            out.push_str(&part.replace('|', "\\|"));
        } else {
            out.push_str(
                &part
                    .replace('|', "\\|")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;"),
            );
        }
    }
    out
}

/// Paragraphs of a long help or doc text, `<`/`>` outside code escaped.
pub fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(cell)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The first letter upper-cased.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
