//! Opening a socket and running it to the end: registration with the hub before the upgrade is answered,
//! presence, and cleanup however the socket ended. What one socket may hold is set here (`SocketLimits`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_ws::{CloseCode, CloseReason};
use tokio::time::Instant;

use super::actor::SocketActor;
use super::outlet::Outlet;
use crate::auth::AuthUser;
use crate::db::{DbConn, conversations};
use crate::error::ApiError;
use crate::ids::UserId;
use crate::protocol::ServerFrame;
use crate::realtime::KillSwitch;
use crate::realtime::mailbox::{Delivery, Mailbox};
use crate::realtime::quota::QuotaPermit;
use crate::state::AppState;

/// A socket registered with the hub whose routing is complete, waiting for its actor. Dropped without being
/// run (the upgrade failed, or the client went away first), it unregisters the socket.
pub struct Opened {
    ctx: Arc<AppState>,
    user: AuthUser,
    socket_id: u64,
    first_here: bool,
    mailbox: Arc<Mailbox>,
    kill: Arc<KillSwitch>,
    permit: Option<QuotaPermit>,
    registered: bool,
}

impl Drop for Opened {
    fn drop(&mut self) {
        if self.registered {
            self.ctx.realtime.hub.unregister(self.socket_id);
        }
    }
}

/// Register a socket and learn the user's conversations — before the upgrade is answered, so that once a
/// client holds an open socket it receives every event of its conversations. Registered first, memberships
/// read after: a removal that lands in between either shows in the list or reaches the socket as an event,
/// never neither.
pub async fn open(
    ctx: Arc<AppState>,
    user: AuthUser,
    permit: QuotaPermit,
    mut conn: DbConn,
) -> Result<Opened, ApiError> {
    let mailbox = Arc::new(Mailbox::new(ctx.sockets.mailbox));
    let kill = Arc::new(KillSwitch::default());
    let socket_id = ctx.realtime.next_socket_id();
    let hub = ctx.realtime.hub.clone();
    let registered = hub.register(socket_id, user.user_id, user.session_id, mailbox.clone(), kill.clone());
    let opened = Opened {
        ctx: ctx.clone(),
        user,
        socket_id,
        first_here: registered.first_here,
        mailbox,
        kill,
        permit: Some(permit),
        registered: true,
    };
    if registered.needs_sync {
        // The user's own channel is live before the list is read, so a change after the read cannot be missed.
        ctx.realtime.broker.settle().await;
        let states = conversations::states_for_user(&mut conn, opened.user.user_id).await;
        match states {
            Ok(states) => hub.sync_user(opened.user.user_id, states),
            Err(err) => {
                hub.sync_user(opened.user.user_id, Vec::new());
                return Err(err.into());
            }
        }
    }
    // The conversations' channels the sync subscribed are in effect before the socket is handed out.
    ctx.realtime.broker.settle().await;
    Ok(opened)
}

/// Run an opened socket to the end.
pub async fn run(mut opened: Opened, session: actix_ws::Session, stream: actix_ws::MessageStream) {
    let ctx = opened.ctx.clone();
    let limits = ctx.sockets.clone();
    let (socket_id, user_id) = (opened.socket_id, opened.user.user_id);
    if opened.first_here {
        Box::pin(announce_presence(&ctx, user_id, true)).await;
    }
    let mut outlet = Outlet::new(session);
    let mut actor = SocketActor {
        socket_id,
        user_id,
        auth_session: opened.user.session_id,
        access: opened.user.access,
        token_expires_at: instant_of(opened.user.expires_at),
        mailbox: opened.mailbox.clone(),
        kill: opened.kill.clone(),
        typing: HashMap::new(),
        blocked: Vec::new(),
        blocked_read_at: None,
        strikes: 0,
        replies: Arc::new(super::actor::SocketReplies {
            mailbox: opened.mailbox.clone(),
            kill: opened.kill.clone(),
            realtime: ctx.realtime.clone(),
        }),
        ctx: ctx.clone(),
    };
    let stream = stream
        .max_frame_size(limits.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(limits.max_frame_bytes);
    let close = actor.run_loop(stream, &mut outlet).await;

    // Cleanup, however the loop ended.
    opened.registered = false;
    let presence = ctx.realtime.hub.unregister(socket_id);
    for (conversation_id, _) in actor.typing.drain() {
        super::actor::broadcast_typing(&ctx.realtime, socket_id, user_id, conversation_id, false, &actor.blocked);
    }
    if presence.changed {
        Box::pin(announce_presence(&ctx, user_id, false)).await;
    }
    drop(opened.permit.take());
    // A client that stopped reading may never make room for the close frame: do not wait for it forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), outlet.session.close(close)).await;
}

pub(super) fn instant_of(unix_seconds: i64) -> Instant {
    let now_unix = chrono::Utc::now().timestamp();
    Instant::now() + Duration::from_secs(unix_seconds.saturating_sub(now_unix).max(0) as u64)
}

pub(super) fn close_reason(code: u16, description: &str) -> Option<CloseReason> {
    Some(CloseReason { code: CloseCode::Other(code), description: Some(description.to_owned()) })
}

/// Count the socket in or out across instances (before the socket serves, so the count is never behind), and
/// when the user's first socket anywhere opened or their last closed, tell the people who share a
/// conversation with them — that part off the actor's path, as it reads the database.
async fn announce_presence(ctx: &Arc<AppState>, user_id: UserId, online: bool) {
    let total = ctx.realtime.broker.presence_delta(user_id, if online { 1 } else { -1 }).await;
    // Across instances, only the first socket anywhere and the last one are news.
    if matches!(total, Some(n) if (online && n != 1) || (!online && n > 0)) {
        return;
    }
    let ctx = ctx.clone();
    actix_web::rt::spawn(async move {
        let Ok(mut conn) = ctx.db.get().await else { return };
        // Last seen: kept by the instance that saw the last socket anywhere go; an unwritable time is not worth
        // withholding the presence change for.
        let last_seen_at = if online { None } else { crate::db::users::seen_now(&mut conn, user_id).await.ok() };
        let Ok(co_members) = conversations::co_member_ids(&mut conn, user_id).await else { return };
        // Presence by consent: people who share a conversation, never across a block.
        let Ok(blocked) = crate::db::blocks::related_to(&mut conn, user_id).await else { return };
        let co_members: Vec<UserId> = co_members.into_iter().filter(|id| !blocked.contains(id)).collect();
        if !co_members.is_empty() {
            ctx.realtime.to_users(
                co_members,
                &ServerFrame::Presence { user_id: user_id.get(), online, last_seen_at },
                Delivery::Ephemeral,
            );
        }
    });
}
