//! What the hub reads from storage when live delivery alone cannot tell: messages that did not arrive in order,
//! and a conversation's membership when an event shows the hub's routing is behind. Defined here, implemented
//! above (`chat::live`), so the hub needs no chat rules.

use futures_util::future::BoxFuture;

use crate::db::conversations::ConversationState;
use crate::ids::{ConversationId, Seq};

pub trait HubStore: Send + Sync + 'static {
    /// The messages of a conversation with seq in (after, before), as `message` frames; None when unreadable.
    fn messages_between(
        &self,
        conversation_id: ConversationId,
        after: Seq,
        before: Seq,
    ) -> BoxFuture<'static, Option<Vec<(Seq, String)>>>;
    /// The conversation's membership as it stands; None when unreadable (or gone).
    fn conversation_state(&self, conversation_id: ConversationId) -> BoxFuture<'static, Option<ConversationState>>;
}
