//! Byte offsets to line and column numbers, for messages that point into a
//! file.

/// The start of every line of a text, to turn byte offsets into positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    /// Whether each line is ASCII, where a column is a byte count: then a
    /// position is found without walking the line (a statement of 40 KB on
    /// one line has thousands of tokens to place).
    ascii_lines: Vec<bool>,
}

/// A position in a file: 1-based line and 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TextPosition {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii_lines = line_starts
            .iter()
            .enumerate()
            .map(|(n, &start)| {
                let end = line_starts.get(n + 1).copied().unwrap_or(text.len());
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        Self {
            line_starts,
            ascii_lines,
        }
    }

    /// The byte range of the 0-based line `n`, with its line ending.
    fn line_range(&self, n: usize, text: &str) -> (usize, usize) {
        let start = self.line_starts[n];
        let end = self.line_starts.get(n + 1).copied().unwrap_or(text.len());
        (start, end)
    }

    /// The position of the byte at `offset` in `text` (which must be the text
    /// this index was built from).
    pub fn position(&self, text: &str, offset: usize) -> TextPosition {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = if self.ascii_lines[line - 1] {
            offset - start + 1
        } else {
            text.get(start..offset).map_or(1, |s| s.chars().count() + 1)
        };
        TextPosition { line, column }
    }

    /// The byte offset of a 1-based line and character column.
    pub fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let n = line.saturating_sub(1);
        let Some(&start) = self.line_starts.get(n) else {
            return text.len();
        };
        let (_, end) = self.line_range(n, text);
        let column = column.saturating_sub(1);
        if self.ascii_lines[n] && start + column < end {
            return start + column;
        }
        text[start..]
            .char_indices()
            .nth(column)
            .map_or(text.len(), |(i, _)| start + i)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line).map_or(text.len(), |&next| next);
        text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// The byte offset of the `char_index`-th character (0-based) of `text`.
pub fn char_to_byte(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "SELECT 'é';\nSELECT x;\r\nEND";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(text, x), TextPosition { line: 2, column: 8 });
        assert_eq!(index.offset(text, 2, 8), x);
        let semicolon = text.find(';').unwrap();
        assert_eq!(
            index.position(text, semicolon),
            TextPosition {
                line: 1,
                column: 11
            }
        );
        assert_eq!(index.line_text(text, 2), "SELECT x;");
        assert_eq!(index.line_text(text, 3), "END");
        assert_eq!(char_to_byte(text, 9), text.find('\'').unwrap() + 3);
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_counting_characters() {
        let text = "ab\ncé d\n\nxyz";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            if !text.is_char_boundary(offset) {
                continue;
            }
            let position = index.position(text, offset);
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(position.column, text[start..offset].chars().count() + 1);
            assert_eq!(index.offset(text, position.line, position.column), offset);
        }
        // A column past the end of an ASCII line runs on into the next
        // line, as counting characters does.
        assert_eq!(index.offset(text, 1, 5), text.find('é').unwrap());
    }
}
