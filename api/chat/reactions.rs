//! Rules of reactions: any member reacts to any message of the conversation with one emoji; a message holds at
//! most [`MAX_DISTINCT`] different emojis; every member hears of each change.

use super::{ChatError, ChatResult, views};
use crate::db::DbConn;
use crate::db::reactions::{self, ReactOutcome};
use crate::domain::ValidationError;
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{MessageReactions, ServerFrame};
use crate::realtime::{Delivery, Realtime};

/// Most different emojis on one message (each may be used by every member).
pub const MAX_DISTINCT: usize = 20;

/// Exactly one emoji, as Unicode lists them (skin tones and sequences included), not arbitrary text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        // The list has the fully-qualified forms; a client may leave out the emoji presentation selector.
        let known = emojis::get(raw).or_else(|| emojis::get(&format!("{raw}\u{fe0f}")));
        match known {
            Some(emoji) if raw.len() <= 64 => Ok(Emoji(emoji.as_str().to_owned())),
            _ => Err(ValidationError::new("emoji", "A reaction is exactly one emoji.")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Add (`on`) or take back the caller's reaction; every member (the caller's other sockets too) gets a `reaction`
/// frame when something changed. Repeating it changes nothing and tells no one.
pub async fn react(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    seq: Seq,
    emoji: &str,
    on: bool,
) -> ChatResult<MessageReactions> {
    let emoji = Emoji::parse(emoji)?;
    if seq.get() < 1 {
        return Err(ChatError::NotFound);
    }
    match reactions::set(conn, id, seq, me, emoji.as_str(), on, MAX_DISTINCT).await? {
        ReactOutcome::NotFound => Err(ChatError::NotFound),
        ReactOutcome::Deleted => Err(ValidationError::new("seq", "A deleted message takes no reactions.").into()),
        ReactOutcome::TooMany => Err(ChatError::Conflict {
            code: "too_many_reactions",
            message: "This message has as many different reactions as it can hold; use one of them.",
        }),
        ReactOutcome::Done { changed, version, reactions } => {
            let reactions = views::reactions(reactions.into_iter().map(|(_, emoji, user)| (emoji, user)));
            if changed {
                let frame = ServerFrame::Reaction {
                    conversation_id: id.get(),
                    seq: seq.get(),
                    user_id: me.get(),
                    emoji: emoji.as_str().to_owned(),
                    added: on,
                    reactions: reactions.clone(),
                };
                realtime.to_conversation(id, version, &frame, Delivery::Reliable, None, Vec::new());
            }
            Ok(MessageReactions { conversation_id: id.get(), seq: seq.get(), reactions })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Emoji;

    #[test]
    fn an_emoji_with_or_without_its_presentation_selector_or_a_skin_tone_is_one() {
        for ok in ["👍", "👍🏽", "❤️", "❤", "🇫🇷", "👩‍👩‍👧"] {
            assert!(Emoji::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Emoji::parse("❤").map(|e| e.as_str().to_owned()).ok().as_deref(), Some("❤️"));
    }

    #[test]
    fn text_two_emojis_or_nothing_is_not_an_emoji() {
        for bad in ["", "a", "+1", "👍👍", "👍 ", "<script>", "\u{fe0f}", ":thumbsup:"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }
}
