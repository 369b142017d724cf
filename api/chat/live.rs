//! The hub's window on storage (`realtime::store::HubStore`), answered with the chat's own views.

use futures_util::future::BoxFuture;

use crate::db::DbPool;
use crate::db::conversations::{self, ConversationState};
use crate::domain::{Page, PageCursor};
use crate::ids::{ConversationId, Seq};
use crate::protocol::ServerFrame;
use crate::realtime::store::HubStore;

pub struct DbStore {
    pub db: DbPool,
}

impl HubStore for DbStore {
    fn messages_between(
        &self,
        conversation_id: ConversationId,
        after: Seq,
        before: Seq,
    ) -> BoxFuture<'static, Option<Vec<(Seq, String)>>> {
        let db = self.db.clone();
        Box::pin(async move {
            let limit = (before - after - 1).clamp(1, Page::MAX_LIMIT);
            let page = Page { cursor: PageCursor::After(after.get()), limit };
            let mut conn = db.get().await.ok()?;
            let rows = crate::db::messages::page(&mut conn, conversation_id, page).await.ok()?.rows;
            Some(
                rows.into_iter()
                    .filter(|(row, _)| row.seq < before)
                    .map(|(row, name)| {
                        let seq = row.seq;
                        let message = super::views::message(row, name);
                        (seq, crate::realtime::to_json(&ServerFrame::Message { message }))
                    })
                    .collect(),
            )
        })
    }

    fn conversation_state(&self, conversation_id: ConversationId) -> BoxFuture<'static, Option<ConversationState>> {
        let db = self.db.clone();
        Box::pin(async move {
            let mut conn = db.get().await.ok()?;
            conversations::state(&mut conn, conversation_id).await.ok().flatten()
        })
    }
}
