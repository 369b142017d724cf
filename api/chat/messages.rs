//! Rules of messages: history for members, sends through the writer, edits and deletes by their sender.

use super::conversations::require_member;
use super::mentions::names_in;
use super::writer::{MessageWriter, Sent, SocketOrigin};
use super::{ChatError, ChatResult, views};
use crate::db::messages::PendingSend;
use crate::db::{DbConn, messages};
use crate::domain::{AttachmentIds, ClientId, MessageBody, Page, PageCursor, ValidationError};
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{Message, MessagePage, ServerFrame};
use crate::realtime::{Delivery, Realtime};
use crate::storage::Storage;

pub async fn history(conn: &mut DbConn, me: UserId, id: ConversationId, page: Page) -> ChatResult<MessagePage> {
    let (conversation, _) = require_member(conn, id, me).await?;
    let found = messages::page(conn, id, page).await?;
    let has_newer = found.has_newer.unwrap_or_else(|| {
        // Seqs are gapless, so newer messages exist when the newest seen is below the conversation's last.
        let newest_seen = match (found.rows.last(), page.cursor) {
            (Some((row, _)), _) => row.seq.get(),
            (None, PageCursor::Before(seq)) => seq - 1,
            (None, PageCursor::After(seq) | PageCursor::Around(seq)) => seq,
            (None, PageCursor::Latest) => conversation.last_seq.get(),
        };
        newest_seen < conversation.last_seq.get()
    });
    let mut messages: Vec<Message> = found.rows.into_iter().map(|(row, name)| views::message(row, name)).collect();
    views::complete(conn, &mut messages).await?;
    Ok(MessagePage { messages, has_more: found.has_more, has_newer })
}

/// What a send carries, as it came (REST or socket).
pub struct Draft<'a> {
    pub client_id: &'a str,
    pub body: &'a str,
    pub attachment_ids: &'a [String],
    pub reply_to_seq: Option<i64>,
}

/// A send checked the same way whichever way it came. Membership, and that the attachments are the sender's own
/// unsent uploads here, are checked in the storing transaction.
fn parse_send(me: UserId, id: ConversationId, draft: &Draft<'_>) -> ChatResult<PendingSend> {
    let client_id = ClientId::parse(draft.client_id)?;
    let attachment_ids = AttachmentIds::parse(draft.attachment_ids)?;
    let body = MessageBody::parse_for_send(draft.body, &attachment_ids)?;
    let reply_to_seq = match draft.reply_to_seq {
        Some(seq) if seq < 1 => {
            return Err(ValidationError::new("reply_to_seq", "reply_to_seq must be at least 1.").into());
        }
        other => other.map(Seq),
    };
    Ok(PendingSend {
        conversation_id: id,
        sender_id: me,
        client_id: client_id.as_str().to_owned(),
        mention_names: names_in(body.as_str()),
        body: body.into_string(),
        attachment_ids: attachment_ids.into_vec(),
        reply_to_seq,
    })
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
    if row.event.is_some() {
        return Err(ValidationError::new("seq", "A timeline event cannot be edited or deleted.").into());
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
        return Err(ValidationError::new("seq", "A deleted message cannot be edited.").into());
    }
    if !messages::edit(conn, &row, body.as_str(), &names_in(body.as_str())).await? {
        return Err(ChatError::NotFound);
    }
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
        let gone = messages::tombstone(conn, &row).await?;
        announce_updated(conn, realtime, id, seq, version).await?;
        if gone.unpinned {
            super::pins::announce(realtime, id, seq, false, me, version);
        }
        super::attachments::delete_objects(storage, gone.removed).await;
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
    let mut message = views::message(row, name);
    views::complete(conn, std::slice::from_mut(&mut message)).await?;
    let frame = ServerFrame::MessageUpdated { message: message.clone() };
    realtime.to_conversation(id, version, &frame, Delivery::Reliable, None, Vec::new());
    Ok(message)
}
