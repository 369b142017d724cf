//! Rules of pins: in a group the owner and admins pin and unpin, in a direct chat either person; at most
//! [`MAX_PINS`] per conversation; every member hears of each change.

use super::conversations::require_member;
use super::{ChatError, ChatResult, views};
use crate::db::DbConn;
use crate::db::pins::{self, PinOutcome, PinRow};
use crate::domain::ValidationError;
use crate::ids::{ConversationId, Seq, UserId};
use crate::protocol::{ConversationKind, Pin, PinList, Role, ServerFrame};
use crate::realtime::{Delivery, Realtime};

pub const MAX_PINS: i64 = 50;

pub fn may_pin(kind: ConversationKind, role: Role) -> bool {
    kind == ConversationKind::Direct || role.can_manage()
}

/// Pin (`on`) or unpin; pinning answers with the pin. Repeating either changes nothing and tells no one.
pub async fn set(
    conn: &mut DbConn,
    realtime: &Realtime,
    me: UserId,
    id: ConversationId,
    seq: Seq,
    on: bool,
) -> ChatResult<Option<Pin>> {
    if seq.get() < 1 {
        return Err(ChatError::NotFound);
    }
    match pins::set(conn, id, seq, me, on, MAX_PINS, may_pin).await? {
        PinOutcome::NotFound => Err(ChatError::NotFound),
        PinOutcome::Forbidden => Err(ChatError::Forbidden("Only the owner or an admin can pin messages here.")),
        PinOutcome::Deleted => Err(ValidationError::new("seq", "A deleted message cannot be pinned.").into()),
        PinOutcome::TooMany => Err(ChatError::Conflict {
            code: "too_many_pins",
            message: "This conversation has as many pins as it can hold; unpin one first.",
        }),
        PinOutcome::Done { changed, version } => {
            if changed {
                announce(realtime, id, seq, on, me, version);
            }
            if !on {
                return Ok(None);
            }
            let mut pinned = pins::list(conn, id, Some(seq)).await?;
            Ok(pinned.pop().map(pin))
        }
    }
}

/// The conversation's pins, newest first, each with its message as it stands (reactions included).
pub async fn list(conn: &mut DbConn, me: UserId, id: ConversationId) -> ChatResult<PinList> {
    require_member(conn, id, me).await?;
    let mut pins: Vec<Pin> = pins::list(conn, id, None).await?.into_iter().map(pin).collect();
    let mut messages: Vec<_> = pins.iter().map(|p| p.message.clone()).collect();
    views::complete(conn, &mut messages).await?;
    for (pin, message) in pins.iter_mut().zip(messages) {
        pin.message = message;
    }
    Ok(PinList { pins })
}

fn pin((pinned_by, pinned_at, (row, name)): PinRow) -> Pin {
    Pin { message: views::message(row, name), pinned_by: pinned_by.get(), pinned_at: views::utc(pinned_at) }
}

pub fn announce(realtime: &Realtime, id: ConversationId, seq: Seq, pinned: bool, by: UserId, version: i64) {
    let frame = ServerFrame::Pin { conversation_id: id.get(), seq: seq.get(), pinned, user_id: by.get() };
    realtime.to_conversation(id, version, &frame, Delivery::Reliable, None, Vec::new());
}
