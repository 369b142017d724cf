//! Mentions: which usernames a body names with `@`. They are resolved to members when the message is stored or
//! edited (in its transaction), never re-parsed on reading.

/// Most distinct names of one body looked up; a body naming more mentions only these.
pub const MAX_MENTIONS: usize = 50;

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The usernames `@`-mentioned in `body`, lower-cased, each once, in order. A mention starts at `@` not preceded
/// by a username character (so `ann@example.org` mentions no one) and ends before the first character a
/// username cannot hold; trailing dots and dashes are punctuation (`@ann.` is `ann`).
pub fn names_in(body: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in body.char_indices() {
        let starts = c == '@' && !previous.is_some_and(is_username_char);
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[at + 1..];
        let end = rest.find(|c: char| !is_username_char(c)).unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches(['.', '-']).to_ascii_lowercase();
        if (3..=32).contains(&name.len()) && !names.contains(&name) {
            names.push(name);
            if names.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::names_in;

    #[test]
    fn mentions_are_found_anywhere_lower_cased_once_each() {
        assert_eq!(names_in("@Ann and @bob.k, ask @ann again"), ["ann", "bob.k"]);
        assert_eq!(names_in("(@cyd)"), ["cyd"]);
    }

    #[test]
    fn an_email_address_or_a_short_name_is_not_a_mention() {
        assert!(names_in("write to ann@example.org").is_empty());
        assert!(names_in("@ab @ alone").is_empty());
    }

    #[test]
    fn trailing_punctuation_ends_a_mention() {
        assert_eq!(names_in("thanks @dave."), ["dave"]);
        assert_eq!(names_in("@eve-- really"), ["eve"]);
    }

    #[test]
    fn a_body_of_thousands_of_mentions_looks_up_at_most_fifty() {
        let body: String = (0..1000).map(|i| format!("@user{i:04} ")).collect();
        assert_eq!(names_in(&body).len(), super::MAX_MENTIONS);
    }
}
