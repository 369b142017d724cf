//! What a search query means: its words, how each backend's full-text engine is asked for them, and the
//! snippet that shows where a body matched. Plain functions, so that both backends and the snippet agree on
//! one definition of a word: a run of letters and digits (the migrations split bodies the same way).

use crate::domain::ValidationError;
use crate::protocol::SnippetPart;

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_WORDS: usize = 8;
/// A word shorter than this cannot be searched for alone (it would match most messages).
const MIN_WORD_CHARS: usize = 2;
const SNIPPET_CHARS: usize = 160;
/// How much of the body a snippet shows before its first match.
const SNIPPET_LEAD_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    /// Lowercased, each once, in the order given.
    words: Vec<String>,
    /// The last word also matches longer words it begins: the query is still being typed.
    last_is_prefix: bool,
}

impl SearchTerms {
    pub fn parse(q: &str) -> Result<Self, ValidationError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ValidationError::new("q", format!("q must be at most {MAX_QUERY_CHARS} characters.")));
        }
        let mut words: Vec<String> = Vec::new();
        for word in words_of(q) {
            let word = word.to_lowercase();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.len() > MAX_WORDS {
            return Err(ValidationError::new("q", format!("Search for at most {MAX_WORDS} words.")));
        }
        if !words.iter().any(|w| w.chars().count() >= MIN_WORD_CHARS) {
            return Err(ValidationError::new("q", "Search for at least one word of two or more letters or digits."));
        }
        let ends_in_word = q.chars().next_back().is_some_and(char::is_alphanumeric);
        let last_is_prefix = ends_in_word && words.last().is_some_and(|w| w.chars().count() >= MIN_WORD_CHARS);
        Ok(SearchTerms { words, last_is_prefix })
    }

    /// A PostgreSQL `tsquery` (for `to_tsquery('simple', …)`): every word, the last as a prefix when typed so.
    /// Words hold only letters and digits, so quoting them cannot be escaped from.
    pub fn tsquery(&self) -> String {
        let last = self.words.len() - 1;
        let terms: Vec<String> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last && self.last_is_prefix { format!("'{w}':*") } else { format!("'{w}'") })
            .collect();
        terms.join(" & ")
    }

    /// An SQLite FTS5 `MATCH` expression with the same meaning as [`Self::tsquery`].
    pub fn fts5(&self) -> String {
        let last = self.words.len() - 1;
        let terms: Vec<String> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == last && self.last_is_prefix { format!("\"{w}\"*") } else { format!("\"{w}\"") })
            .collect();
        terms.join(" ")
    }

    fn matches(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        let last = self.words.len() - 1;
        self.words
            .iter()
            .enumerate()
            .any(|(i, w)| *w == word || (i == last && self.last_is_prefix && word.starts_with(w)))
    }

    /// Up to [`SNIPPET_CHARS`] characters of `body` from a little before its first matching word, with every
    /// matching word in it highlighted, and `…` where the body was cut.
    pub fn snippet(&self, body: &str) -> Vec<SnippetPart> {
        let chars: Vec<char> = body.chars().collect();
        let spans = word_spans(&chars);
        let first = spans.iter().find(|&&(a, b)| self.matches(&chars[a..b].iter().collect::<String>()));
        let start = match first {
            Some(&(a, _)) if a > SNIPPET_LEAD_CHARS => {
                // Start at a word, not in the middle of one.
                let from = a - SNIPPET_LEAD_CHARS;
                spans.iter().map(|&(s, _)| s).find(|&s| s >= from).unwrap_or(a)
            }
            _ => 0,
        };
        let end = (start + SNIPPET_CHARS).min(chars.len());
        let mut parts: Vec<SnippetPart> = Vec::new();
        let mut push = |text: String, highlight: bool| {
            if text.is_empty() {
                return;
            }
            match parts.last_mut() {
                Some(last) if last.highlight == highlight => last.text.push_str(&text),
                _ => parts.push(SnippetPart { text, highlight }),
            }
        };
        if start > 0 {
            push("…".into(), false);
        }
        let mut at = start;
        for &(a, b) in spans.iter().filter(|&&(a, b)| a >= start && b <= end) {
            let word: String = chars[a..b].iter().collect();
            if self.matches(&word) {
                push(chars[at..a].iter().collect(), false);
                push(word, true);
                at = b;
            }
        }
        push(chars[at..end].iter().collect(), false);
        if end < chars.len() {
            push("…".into(), false);
        }
        parts
    }
}

fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// Where each word of `chars` starts and ends (char indexes).
fn word_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, chars.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(parts: &[SnippetPart]) -> String {
        parts.iter().map(|p| if p.highlight { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_lowercased_once_each() {
        let terms = SearchTerms::parse("Rust-lang, RUST! café 2026 ").unwrap();
        assert_eq!(terms.words, ["rust", "lang", "café", "2026"]);
        assert!(!terms.last_is_prefix, "a query ending in a space asks for whole words");
    }

    #[test]
    fn the_last_word_is_a_prefix_while_being_typed() {
        let terms = SearchTerms::parse("meet libr").unwrap();
        assert_eq!(terms.tsquery(), "'meet' & 'libr':*");
        assert_eq!(terms.fts5(), "\"meet\" \"libr\"*");
    }

    #[test]
    fn a_one_letter_last_word_is_not_a_prefix() {
        let terms = SearchTerms::parse("plan a").unwrap();
        assert_eq!(terms.tsquery(), "'plan' & 'a'");
    }

    #[test]
    fn queries_without_a_searchable_word_are_refused() {
        for q in ["", "   ", "a", "a b c", "!!! ???", "'; DROP TABLE messages; --x"] {
            let result = SearchTerms::parse(q);
            if q.contains("DROP") {
                let terms = result.unwrap();
                assert_eq!(terms.tsquery(), "'drop' & 'table' & 'messages' & 'x'", "punctuation never reaches SQL");
            } else {
                assert_eq!(result.unwrap_err().field, "q", "{q:?}");
            }
        }
    }

    #[test]
    fn too_many_words_or_characters_are_refused() {
        assert!(SearchTerms::parse("one two three four five six seven eight nine").is_err());
        assert!(SearchTerms::parse(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(SearchTerms::parse(&"x".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn the_snippet_highlights_every_matching_word() {
        let terms = SearchTerms::parse("lib").unwrap();
        let parts = terms.snippet("The Library opens; lib cards at the library desk.");
        assert_eq!(text(&parts), "The [Library] opens; [lib] cards at the [library] desk.");
    }

    #[test]
    fn a_long_body_is_cut_around_its_first_match() {
        let body = format!("{} needle {}", "hay ".repeat(50), "straw ".repeat(50));
        let parts = SearchTerms::parse("needle ").unwrap().snippet(&body);
        let shown = text(&parts);
        assert!(shown.starts_with("…hay"), "{shown}");
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[needle]"), "{shown}");
        assert!(shown.chars().count() <= SNIPPET_CHARS + 4, "{shown}");
    }

    #[test]
    fn whole_words_do_not_highlight_longer_words() {
        let parts = SearchTerms::parse("lib ").unwrap().snippet("lib library");
        assert_eq!(text(&parts), "[lib] library");
    }

    #[test]
    fn a_body_without_a_visible_match_shows_its_start() {
        let parts = SearchTerms::parse("zebra").unwrap().snippet("no stripes here");
        assert_eq!(text(&parts), "no stripes here");
    }
}
