//! The quoted parts of a script — strings, quoted identifiers, comments and
//! dollar quotes — found by a byte scan without tokenising: where lines
//! end outside them (where a large script may be cut), and which one the
//! script leaves open at its end (where to point a "cannot split" error).

/// A string, quoted identifier, comment or dollar quote that is still open
/// when the script ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unclosed {
    /// The byte offset of its opening quote.
    pub start: usize,
    /// What it is, for a message: `string`, `dollar-quoted string`…
    pub what: &'static str,
    /// What would close it: `'`, `"`, `*/`, `$body$`.
    pub closer: String,
}

/// Scans `sql`, calling `line_start` with the offset after each line break
/// that lies outside every quoted part; returns the part left open at the
/// end, if any (the scan stops there).
pub(crate) fn scan(sql: &str, mut line_start: impl FnMut(usize)) -> Option<Unclosed> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let opened = i;
        let closed = match bytes[i] {
            b'\'' => {
                // E'…' strings escape with backslashes; others double quotes.
                let escapes = i > 0 && matches!(bytes[i - 1], b'e' | b'E');
                string_end(bytes, i + 1, escapes).ok_or(("string", "'"))
            }
            b'"' => bytes[i + 1..]
                .iter()
                .position(|&b| b == b'"')
                .map(|n| i + 1 + n)
                .ok_or(("quoted identifier", "\"")),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                // To the line break, which the loop then sees.
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                comment_end(bytes, i).ok_or(("comment", "*/"))
            }
            b'$' => match dollar_tag(sql, i) {
                Some(tag) => match sql[i + tag.len()..].find(tag) {
                    Some(close) => Ok(i + tag.len() + close + tag.len() - 1),
                    None => {
                        return Some(Unclosed {
                            start: opened,
                            what: "dollar-quoted string",
                            closer: tag.to_string(),
                        })
                    }
                },
                None => Ok(i),
            },
            b'\n' => {
                line_start(i + 1);
                Ok(i)
            }
            _ => Ok(i),
        };
        match closed {
            Ok(end) => i = end + 1,
            Err((what, closer)) => {
                return Some(Unclosed {
                    start: opened,
                    what,
                    closer: closer.to_string(),
                })
            }
        }
    }
    None
}

/// The offset of the quote that ends a string whose text starts at `from`.
fn string_end(bytes: &[u8], from: usize, escapes: bool) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 1,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b'\'' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the `/` that ends the (nestable) comment opened at `from`.
fn comment_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = from;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 1;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// The `$tag$` that opens a dollar quote at `at` (not `$1`, a parameter).
fn dollar_tag(sql: &str, at: usize) -> Option<&str> {
    let bytes = sql.as_bytes();
    if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let end = bytes[at + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|n| at + 1 + n)?;
    (bytes[end] == b'$').then(|| &sql[at..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unclosed(sql: &str) -> Option<(usize, &'static str, String)> {
        scan(sql, |_| {}).map(|u| (u.start, u.what, u.closer))
    }

    #[test]
    fn finds_the_part_left_open_and_where_it_opened() {
        assert_eq!(
            unclosed("SELECT 'a', 'b\nSELECT 2;"),
            Some((12, "string", "'".into()))
        );
        assert_eq!(
            unclosed("CREATE FUNCTION f() AS $body$ SELECT 1; $bod$;"),
            Some((23, "dollar-quoted string", "$body$".into()))
        );
        assert_eq!(
            unclosed("SELECT 1; /* a /* b */ c"),
            Some((10, "comment", "*/".into()))
        );
        assert_eq!(
            unclosed("CREATE TABLE \"t (id int);"),
            Some((13, "quoted identifier", "\"".into()))
        );
        assert_eq!(unclosed("SELECT E'it\\'s"), Some((8, "string", "'".into())));
    }

    #[test]
    fn closed_parts_and_lookalikes_leave_nothing_open() {
        for sql in [
            "SELECT 'it''s', E'it\\'s', \"a\"\"b\", $1, $$ ' $$, $x$ \" $x$;",
            "SELECT 1; -- it's a comment\nSELECT 2; /* ' /* \" */ */",
            "SELECT 'a\nb';\n",
        ] {
            assert_eq!(unclosed(sql), None, "{sql}");
        }
    }

    #[test]
    fn line_starts_outside_quoted_parts_only() {
        let mut starts = Vec::new();
        scan("a\n'b\nc'\n-- d\n/* e\n*/\nf", |s| starts.push(s));
        assert_eq!(starts, vec![2, 8, 13, 21]);
    }
}
