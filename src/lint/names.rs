//! Identifier normalisation, so that `Orders`, `orders`, `public.orders`
//! and `"orders"` name the same table (and `"Orders"` does not).

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// An identifier as PostgreSQL folds it: unquoted names are lower-cased.
pub fn ident(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

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
