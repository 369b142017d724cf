//! Values parsed once at the edge ("parse, don't validate"): past here a `Username` is a valid username.

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ValidationError { field, message: message.into() }
    }
}

type Parsed<T> = Result<T, ValidationError>;

/// 3–32 characters of `a-z 0-9 _ . -`, stored lower-cased so that uniqueness and login ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Parsed<Self> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if !(3..=32).contains(&len) {
            return Err(ValidationError::new("username", "Username must be 3 to 32 characters long."));
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')) {
            return Err(ValidationError::new(
                "username",
                "Username may contain only letters a-z, digits, '_', '.' and '-'.",
            ));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Parsed<Self> {
        let len = raw.chars().count();
        if len < 8 {
            return Err(ValidationError::new("password", "Password must be at least 8 characters long."));
        }
        if len > 256 {
            return Err(ValidationError::new("password", "Password must be at most 256 characters long."));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Text of 1 to `max` characters, not all blank, without NUL; kept without the blanks around it. The length is
/// counted as sent, so that the spec's `maxLength` is the whole rule.
fn trimmed_text(field: &'static str, what: &str, raw: &str, max: usize) -> Parsed<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, format!("{what} must not be empty.")));
    }
    if raw.chars().count() > max {
        return Err(ValidationError::new(field, format!("{what} must be at most {max} characters long.")));
    }
    if text.chars().any(|c| c == '\0') {
        return Err(ValidationError::new(field, format!("{what} must not contain NUL characters.")));
    }
    Ok(text.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Parsed<Self> {
        let name = trimmed_text("display_name", "Display name", raw, 64)?;
        // A name is shown in other people's lists and headers: no line breaks, no invisible controls.
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new("display_name", "Display name must not contain control characters."));
        }
        Ok(DisplayName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: at most 4000 characters as sent, not all blank; kept trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Parsed<Self> {
        trimmed_text("body", "Message body", raw, Self::MAX_CHARS).map(MessageBody)
    }

    /// A send's body: it may be empty when the message carries attachments.
    pub fn parse_for_send(raw: &str, attachments: &AttachmentIds) -> Parsed<Self> {
        if attachments.0.is_empty() || !raw.trim().is_empty() {
            Self::parse(raw)
        } else {
            Ok(MessageBody(String::new()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A conversation title: at most 100 characters as sent, not all blank; kept trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Parsed<Self> {
        trimmed_text("title", "Title", raw, 100).map(Title)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's idempotency key for a message: 1–64 printable ASCII characters (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Parsed<Self> {
        if raw.is_empty() || raw.len() > 64 {
            return Err(ValidationError::new("client_id", "client_id must be 1 to 64 characters long."));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ValidationError::new("client_id", "client_id must be printable ASCII without spaces."));
        }
        Ok(ClientId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The uploads a send attaches: at most [`AttachmentIds::MAX`], each named once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentIds(Vec<String>);

impl AttachmentIds {
    pub const MAX: usize = 10;

    pub fn parse(raw: &[String]) -> Parsed<Self> {
        let invalid = |message: &str| Err(ValidationError::new("attachment_ids", message));
        if raw.len() > Self::MAX {
            return invalid("A message carries at most 10 attachments.");
        }
        if raw.iter().any(|id| {
            id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) {
            return invalid("An attachment id is 1 to 64 letters, digits, '-' or '_'.");
        }
        if raw.iter().enumerate().any(|(i, id)| raw[..i].contains(id)) {
            return invalid("An attachment is named twice.");
        }
        Ok(AttachmentIds(raw.to_vec()))
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// A file name as uploaded: its last path segment, 1–255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Parsed<Self> {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
        if last.chars().any(char::is_control) {
            return Err(ValidationError::new("name", "A file name must not contain control characters."));
        }
        trimmed_text("name", "File name", last, 255).map(FileName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page request over a conversation's seqs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCursor {
    /// The newest messages.
    Latest,
    Before(i64),
    After(i64),
    /// Up to `limit / 2` messages before this seq, then it and newer ones (a short side leaves its room to the
    /// other).
    Around(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub cursor: PageCursor,
    pub limit: i64,
}

/// The cursors of a history request, as they came.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageCursors {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
    pub around_seq: Option<i64>,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 100;

    pub fn parse(cursors: PageCursors, limit: Option<i64>) -> Parsed<Self> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new("limit", format!("limit must be between 1 and {}.", Self::MAX_LIMIT)));
        }
        let cursor = match (cursors.before_seq, cursors.after_seq, cursors.around_seq) {
            (None, None, None) => PageCursor::Latest,
            (Some(seq), None, None) if seq < 1 => {
                return Err(ValidationError::new("before_seq", "before_seq must be at least 1."));
            }
            (None, Some(seq), None) if seq < 0 => {
                return Err(ValidationError::new("after_seq", "after_seq must not be negative."));
            }
            (None, None, Some(seq)) if seq < 1 => {
                return Err(ValidationError::new("around_seq", "around_seq must be at least 1."));
            }
            (Some(seq), None, None) => PageCursor::Before(seq),
            (None, Some(seq), None) => PageCursor::After(seq),
            (None, None, Some(seq)) => PageCursor::Around(seq),
            _ => {
                return Err(ValidationError::new(
                    "before_seq",
                    "Give at most one of before_seq, after_seq and around_seq.",
                ));
            }
        };
        Ok(Page { cursor, limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_lowercased_and_trimmed() {
        assert_eq!(Username::parse("  Alice_01 ").unwrap().as_str(), "alice_01");
    }

    #[test]
    fn username_rejects_short_long_and_foreign_characters() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
    }

    #[test]
    fn message_body_counts_characters_not_bytes_and_trims() {
        assert_eq!(MessageBody::parse("  hi  ").unwrap().as_str(), "hi");
        assert!(MessageBody::parse("   ").is_err());
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert!(MessageBody::parse(&"é".repeat(4001)).is_err());
    }

    #[test]
    fn page_rejects_both_cursors_and_out_of_range_limits() {
        assert!(Page::parse(PageCursors { before_seq: Some(5), after_seq: Some(1), around_seq: None }, None).is_err());
        assert!(
            Page::parse(PageCursors { around_seq: Some(5), after_seq: Some(1), ..Default::default() }, None).is_err()
        );
        assert!(Page::parse(PageCursors { around_seq: Some(0), ..Default::default() }, None).is_err());
        assert!(Page::parse(PageCursors::default(), Some(0)).is_err());
        assert!(Page::parse(PageCursors::default(), Some(101)).is_err());
        assert_eq!(
            Page::parse(PageCursors { after_seq: Some(0), ..Default::default() }, None).unwrap().cursor,
            PageCursor::After(0)
        );
        assert_eq!(
            Page::parse(PageCursors { around_seq: Some(7), ..Default::default() }, None).unwrap().cursor,
            PageCursor::Around(7)
        );
    }

    #[test]
    fn client_id_rejects_spaces_and_overlong_values() {
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"x".repeat(65)).is_err());
        assert!(ClientId::parse("3f2c-11").is_ok());
    }
}
