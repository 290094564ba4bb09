//! Identifier normalisation, so that `Orders`, `orders`, `public.orders`
//! and `"orders"` name the same table (and `"Orders"` does not).

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// An identifier as PostgreSQL reads it: unquoted names are lower-cased,
/// and every name is cut to 63 bytes (never inside a character).
pub fn ident(ident: &Ident) -> String {
    let mut name = match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    };
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut end = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A possibly qualified name, with the default `public.` schema dropped.
pub fn object(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string(),
        })
        .collect();
    let joined = parts.join(".");
    joined
        .strip_prefix("public.")
        .map(str::to_string)
        .unwrap_or(joined)
}
