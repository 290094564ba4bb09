//! Text into HTML: every `&`, `<`, `>`, `"` and `'` as an entity
//! (quick-xml's escaping), so that SQL, names and messages can never
//! become markup.

/// `text`, safe in element content and in quoted attributes.
pub fn html(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_stays_text() {
        assert_eq!(
            super::html(r#"<b a="x">'&'</b>"#),
            "&lt;b a=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/b&gt;"
        );
    }
}
