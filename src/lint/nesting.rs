//! How deeply a statement nests, read from its tokens. sqlparser stops at
//! its recursion limit, but past it a `NOT` or `CASE` is re-read as a
//! column name, so the limit surfaces as an unrelated syntax error
//! ("found: NOT"); this tells such a statement from a mistyped one.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The deepest nesting in `sql`: open parentheses, brackets and
/// `CASE … END`, plus the current run of consecutive `NOT`s and signs
/// (each one more level for the parser). 0 when `sql` does not tokenise.
pub(super) fn depth(sql: &str) -> usize {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return 0;
    };
    let (mut open, mut run, mut deepest) = (0usize, 0usize, 0usize);
    for token in tokens {
        match token {
            Token::Whitespace(_) => continue,
            Token::LParen | Token::LBracket => open += 1,
            Token::RParen | Token::RBracket => open = open.saturating_sub(1),
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::CASE => open += 1,
                Keyword::END => open = open.saturating_sub(1),
                Keyword::NOT => {
                    run += 1;
                    deepest = deepest.max(open + run);
                    continue;
                }
                _ => {}
            },
            Token::Minus | Token::Plus => {
                run += 1;
                deepest = deepest.max(open + run);
                continue;
            }
            _ => {}
        }
        run = 0;
        deepest = deepest.max(open);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::depth;

    #[test]
    fn nesting_counts_brackets_case_and_runs_of_not() {
        assert_eq!(depth("SELECT 1"), 0);
        assert_eq!(depth("SELECT ((1)), ARRAY[[1]]"), 2);
        assert_eq!(
            depth("SELECT CASE WHEN a THEN CASE WHEN b THEN 1 END END"),
            2
        );
        assert_eq!(depth("SELECT NOT NOT NOT a AND NOT b"), 3);
        assert_eq!(depth("SELECT (- - 1)"), 3);
        // Quoted words and words in strings are not keywords.
        assert_eq!(depth("SELECT \"case\", 'case ( case'"), 0);
    }
}
