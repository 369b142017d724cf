//! Rules of messages: history for members, sends through the writer, edits and deletes by their sender.

use super::conversations::require_member;
use super::writer::{self, MessageWriter, Sent, SocketOrigin};
use super::{ChatError, ChatResult, views};
use crate::db::messages::PendingSend;
use crate::db::{DbConn, messages};
use crate::domain::{AttachmentIds, ClientId, MessageBody, Page};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Message, MessagePage, ServerFrame};
use crate::realtime::{Delivery, Realtime};
use crate::storage::Storage;

pub async fn history(conn: &mut DbConn, me: UserId, id: ConversationId, page: Page) -> ChatResult<MessagePage> {
    require_member(conn, id, me).await?;
    let (rows, has_more) = messages::page(conn, id, page).await?;
    Ok(MessagePage { messages: rows.into_iter().map(|(row, name)| views::message(row, name)).collect(), has_more })
}

/// What a send carries, as it came (REST or socket).
pub struct Draft<'a> {
    pub client_id: &'a str,
    pub body: &'a str,
    pub attachment_ids: &'a [String],
}

/// A send checked the same way whichever way it came. Membership, and that the attachments are the sender's own
/// unsent uploads here, are checked in the storing transaction.
fn parse_send(me: UserId, id: ConversationId, draft: &Draft<'_>) -> ChatResult<PendingSend> {
    let client_id = ClientId::parse(draft.client_id)?;
    let attachment_ids = AttachmentIds::parse(draft.attachment_ids)?;
    let body = MessageBody::parse_for_send(draft.body, &attachment_ids)?;
    Ok(writer::pending(me, id, client_id, body, attachment_ids))
}

/// Validate and hand to the writer, which stores, acknowledges and fans out; the outcome is awaited (REST).
pub async fn send(writer: &MessageWriter, me: UserId, id: ConversationId, draft: &Draft<'_>) -> ChatResult<Sent> {
    writer.send(parse_send(me, id, draft)?).await
}

/// The same from a socket: the outcome is answered through the socket's replies once stored.
pub async fn submit(
    writer: &MessageWriter,
    origin: SocketOrigin,
    me: UserId,
    id: ConversationId,
    draft: &Draft<'_>,
) -> ChatResult<()> {
    writer.submit(origin, parse_send(me, id, draft)?).await
}

/// The caller's own message, and the conversation's membership version its change is announced under.
async fn own_message(
    conn: &mut DbConn,
    me: UserId,
    id: ConversationId,
    seq: Seq,
) -> ChatResult<(crate::db::models::MessageRow, i64)> {
    let (conversation, _) = require_member(conn, id, me).await?;
    let (row, _) = messages::by_seq(conn, id, seq).await?.ok_or(ChatError::NotFound)?;
    if row.sender_id != me {
        return Err(ChatError::Forbidden("You can only change your own messages."));
    }
    Ok((row, conversation.version))
}

pub async fn edit(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    seq: Seq,
    body: &str,
) -> ChatResult<Message> {
    let body = MessageBody::parse(body)?;
    let (row, version) = own_message(conn, me, id, seq).await?;
    if row.deleted_at.is_some() {
        return Err(crate::domain::ValidationError::new("seq", "A deleted message cannot be edited.").into());
    }
    messages::edit(conn, row.id, body.as_str()).await?;
    announce_updated(conn, realtime, id, seq, version).await
}

/// Deleting leaves a tombstone (the seq stays) and removes its attachments; deleting twice is harmless.
pub async fn delete(
    conn: &mut DbConn,
    realtime: &Realtime,
    storage: &Storage,
    me: UserId,
    id: ConversationId,
    seq: Seq,
) -> ChatResult<()> {
    let (row, version) = own_message(conn, me, id, seq).await?;
    if row.deleted_at.is_none() {
        let removed = messages::tombstone(conn, row.id).await?;
        announce_updated(conn, realtime, id, seq, version).await?;
        super::attachments::delete_objects(storage, removed).await;
    }
    Ok(())
}

async fn announce_updated(
    conn: &mut DbConn,
    realtime: &Realtime,
    id: ConversationId,
    seq: Seq,
    version: i64,
) -> ChatResult<Message> {
    let (row, name) = messages::by_seq(conn, id, seq).await?.ok_or(ChatError::NotFound)?;
    let message = views::message(row, name);
    let frame = ServerFrame::MessageUpdated { message: message.clone() };
    realtime.to_conversation(id, version, &frame, Delivery::Reliable, None, Vec::new());
    Ok(message)
}
