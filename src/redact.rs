//! Removing passwords from connection strings before anything is printed.
//!
//! Every place that shows a database target goes through [`redact`], so that a
//! password given in a URL or a `key=value` string never reaches a terminal,
//! a CI log or an error report.

/// Returns `target` with any password replaced by `***`.
///
/// Handles URLs (`postgres://user:secret@host/db`, `mongodb://…`), a
/// `password=` query parameter, and libpq `key=value` strings.
pub fn redact(target: &str) -> String {
    if let Ok(mut url) = url::Url::parse(target) {
        if url.has_host() || target.contains("://") {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            return url.to_string();
        }
    }
    if target.contains("://") {
        return redact_userinfo(target);
    }
    redact_key_value(target)
}

/// For URLs the `url` crate rejects (a bad port, say): cut the password out
/// of `scheme://user:password@host` by position.
fn redact_userinfo(target: &str) -> String {
    let Some(scheme_end) = target.find("://").map(|i| i + 3) else {
        return target.to_string();
    };
    let authority_end = target[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(target.len(), |i| scheme_end + i);
    let authority = &target[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return redact_key_value(target);
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return redact_key_value(target);
    };
    let rest = redact_key_value(&target[scheme_end + at..]);
    format!(
        "{}{}:***{}",
        &target[..scheme_end],
        &userinfo[..colon],
        rest
    )
}

fn redact_key_value(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    let mut rest = target;
    while let Some(index) = find_password_key(rest) {
        let (before, after) = rest.split_at(index);
        out.push_str(before);
        out.push_str("password=***");
        let value = &after["password=".len()..];
        rest = skip_value(value);
    }
    out.push_str(rest);
    out
}

fn find_password_key(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("password=") {
        let index = from + found;
        if index == 0
            || matches!(
                lower.as_bytes()[index - 1],
                b' ' | b'\t' | b'\n' | b'?' | b'&'
            )
        {
            return Some(index);
        }
        from = index + 1;
    }
    None
}

fn skip_value(value: &str) -> &str {
    if let Some(quoted) = value.strip_prefix('\'') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => return &quoted[i + 1..],
                _ => escaped = false,
            }
        }
        ""
    } else {
        let end = value
            .find(|c: char| c.is_whitespace() || c == '&')
            .unwrap_or(value.len());
        &value[end..]
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn removes_passwords_from_every_form() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            redact("postgresql://app@db/app?password=s3cret&sslmode=require"),
            "postgresql://app@db/app?password=***&sslmode=require"
        );
        assert_eq!(
            redact("host=db password=s3cret user=app"),
            "host=db password=*** user=app"
        );
        assert_eq!(
            redact("host=db password='s3 cret' user=app"),
            "host=db password=*** user=app"
        );
        assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
        assert!(!redact("mongodb://u:p%40ss@h/?x=1").contains("p%40ss"));
        assert_eq!(
            redact("postgres://app:s3cret@db:notaport/app"),
            "postgres://app:***@db:notaport/app"
        );
        assert_eq!(
            redact("postgres://app:s3@cret@db/app"),
            "postgres://app:***@db/app"
        );
        assert_eq!(
            redact("postgres://db:x/app?password=s3cret&a=b"),
            "postgres://db:x/app?password=***&a=b"
        );
    }
}
