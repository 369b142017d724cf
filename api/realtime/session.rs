//! The socket actor: one task per WebSocket that owns the socket, reads the client's frames, and drains the
//! socket's mailbox into it. Every frame the socket is sent — live events and its own replies — goes through
//! the mailbox, and the write is one more branch of the actor's `select!`: a client that stops reading stalls
//! nothing else, so heartbeat, idle close, token expiry, the drain deadline and the kill switch always run.
//! However the loop ends, the socket is unregistered afterwards.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Closed, Item, Message as WsMessage, ProtocolError};
use bytestring::ByteString;
use futures_util::{FutureExt, Sink};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep, sleep_until};

use super::mailbox::{Delivery, Mailbox, MailboxLimits, Pushed};
use super::quota::SocketPermit;
use super::{KillSwitch, Realtime, to_json};
use crate::auth::{AuthKeys, AuthUser};
use crate::chat::writer::MessageWriter;
use crate::chat::{self, ChatError};
use crate::db::{DbConn, DbPool, conversations};
use crate::domain::{ClientId, MessageBody, Page};
use crate::error::ApiError;
use crate::limits::RateLimits;
use crate::protocol::{ClientFrame, ServerFrame, close_code};

/// Limits of one socket; chosen, not inherited from library defaults, because they set memory per socket.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// What the mailbox holds before ephemeral events are shed and then the socket is closed as too slow.
    pub mailbox: MailboxLimits,
    /// How long queued frames may wait for a client that does not read before the socket is closed (4008).
    pub drain_timeout: Duration,
    /// Largest client frame (text, after joining continuations).
    pub max_frame_bytes: usize,
    pub heartbeat: Duration,
    /// Closed when nothing (not even a pong) arrived for this long.
    pub idle_timeout: Duration,
    /// Frames refused for rate before the socket is closed as flooding.
    pub flood_strikes: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            mailbox: MailboxLimits { frames: 256, bytes: 1 << 20 },
            drain_timeout: Duration::from_secs(15),
            max_frame_bytes: 64 * 1024,
            heartbeat: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            flood_strikes: 50,
        }
    }
}

/// Frames larger than this go out as continuation fragments: what sits in actix-ws's own queue (32 messages)
/// then stays small whatever the frame sizes, so the mailbox's byte budget is the real bound.
const FRAGMENT_BYTES: usize = 4096;

/// How long a typing indicator lives without a refresh, and how often a refresh is passed on.
const TYPING_TTL: Duration = Duration::from_secs(5);
const TYPING_THROTTLE: Duration = Duration::from_secs(2);

pub struct SessionContext {
    pub db: DbPool,
    pub keys: AuthKeys,
    pub realtime: Realtime,
    pub writer: MessageWriter,
    pub limits: SocketLimits,
    pub rate_limits: actix_web::web::Data<RateLimits>,
    pub quota: Arc<super::quota::SocketQuota>,
}

impl SessionContext {
    pub fn too_many_sockets(&self) -> ApiError {
        ApiError::TooMany(
            "too_many_sockets",
            format!("You have {} sockets open here already; close one first.", self.quota.per_user()),
        )
    }

    /// The checks of a socket upgrade that a browser cannot read the answer of, made where it can (issuing a
    /// ticket): the upgrade rate limits, and the socket cap (advisory here; the upgrade takes the place).
    pub fn admit_upgrade(&self, user: &AuthUser, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
        self.rate_limits.socket_upgrade(user.user_id, self.rate_limits.client_ip(req))?;
        if self.quota.is_full(user.user_id) {
            return Err(self.too_many_sockets());
        }
        Ok(())
    }
}

struct Typing {
    last_sent: Instant,
    expires: Instant,
}

/// The socket's write side: one frame at a time from the mailbox, fragmented when large.
struct Outlet {
    session: actix_ws::Session,
    current: Option<InFlight>,
    /// The socket stopped taking frames and the actor loop has not yet been told (so it arms the drain deadline).
    stall_reported: bool,
}

struct InFlight {
    bytes: Bytes,
    sent: usize,
    stored_at: Option<std::time::Instant>,
    /// Last time a piece of it went out.
    moved_at: Instant,
}

impl Outlet {
    /// Sends the mailbox's frames while the socket takes them; Ready when one frame went out whole (with the
    /// moment its message was stored, if any), or when the socket is gone.
    fn poll_send(
        &mut self,
        mailbox: &Mailbox,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<std::time::Instant>, Closed>> {
        loop {
            if self.current.is_none() {
                let out = match mailbox.poll_pop(cx) {
                    Poll::Ready(out) => out,
                    Poll::Pending => return Poll::Pending,
                };
                self.current = Some(InFlight {
                    bytes: out.text.into_bytes(),
                    sent: 0,
                    stored_at: out.stored_at,
                    moved_at: Instant::now(),
                });
            }
            match Pin::new(&mut self.session).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(closed)) => return Poll::Ready(Err(closed)),
                // Once per stall, a return with nothing sent: the loop re-arms its drain deadline.
                Poll::Pending if !self.stall_reported => {
                    self.stall_reported = true;
                    return Poll::Ready(Ok(None));
                }
                Poll::Pending => return Poll::Pending,
            }
            self.stall_reported = false;
            let Some(flight) = self.current.as_mut() else { continue };
            let total = flight.bytes.len();
            let message = if flight.sent == 0 && total <= FRAGMENT_BYTES {
                flight.sent = total;
                // Whole frames are valid UTF-8: they came from a ByteString.
                WsMessage::Text(ByteString::try_from(flight.bytes.clone()).unwrap_or_default())
            } else {
                let end = fragment_end(&flight.bytes, flight.sent);
                let piece = flight.bytes.slice(flight.sent..end);
                let item = match (flight.sent == 0, end == total) {
                    (true, _) => Item::FirstText(piece),
                    (false, false) => Item::Continue(piece),
                    (false, true) => Item::Last(piece),
                };
                flight.sent = end;
                WsMessage::Continuation(item)
            };
            flight.moved_at = Instant::now();
            Pin::new(&mut self.session).start_send(message)?;
            if flight.sent == flight.bytes.len() {
                let stored_at = flight.stored_at;
                self.current = None;
                return Poll::Ready(Ok(stored_at));
            }
        }
    }

    /// How long the client has left frames waiting.
    fn stalled_for(&self, mailbox: &Mailbox) -> Duration {
        match &self.current {
            Some(flight) => flight.moved_at.elapsed(),
            None => mailbox.stalled_for(),
        }
    }

    /// A control frame, only if the socket takes it now: a client that does not read gets no pings queued up.
    fn try_control(&mut self, message: WsMessage) -> Result<(), Closed> {
        let ready = futures_util::future::poll_fn(|cx| Pin::new(&mut self.session).poll_ready(cx)).now_or_never();
        match ready {
            Some(Ok(())) => Pin::new(&mut self.session).start_send(message),
            Some(Err(closed)) => Err(closed),
            None => Ok(()),
        }
    }
}

/// Where the fragment starting at `from` ends: at most FRAGMENT_BYTES on, at a character boundary.
fn fragment_end(bytes: &[u8], from: usize) -> usize {
    let mut end = (from + FRAGMENT_BYTES).min(bytes.len());
    // UTF-8 continuation bytes are 0b10xx_xxxx: step back to the start of a character.
    while end < bytes.len() && end > from + 1 && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    end
}

pub struct SocketActor {
    ctx: Arc<SessionContext>,
    socket_id: u64,
    user_id: i64,
    auth_session: i64,
    token_expires_at: Instant,
    mailbox: Arc<Mailbox>,
    kill: Arc<KillSwitch>,
    typing: HashMap<i64, Typing>,
    /// The other side of the user's blocks (either way), who never see their typing; read now and then.
    blocked: Vec<i64>,
    blocked_read_at: Option<Instant>,
    strikes: u32,
}

/// How long the socket trusts the list of the user's blocks before reading it again.
const BLOCKS_FRESH_FOR: Duration = Duration::from_secs(5);

/// A socket registered with the hub whose routing is complete, waiting for its actor. Dropped without being
/// run (the upgrade failed, or the client went away first), it unregisters the socket.
pub struct Opened {
    ctx: Arc<SessionContext>,
    user: AuthUser,
    socket_id: u64,
    first_here: bool,
    mailbox: Arc<Mailbox>,
    kill: Arc<KillSwitch>,
    permit: Option<SocketPermit>,
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
    ctx: Arc<SessionContext>,
    user: AuthUser,
    permit: SocketPermit,
    mut conn: DbConn,
) -> Result<Opened, ApiError> {
    let mailbox = Arc::new(Mailbox::new(ctx.limits.mailbox));
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
    let limits = ctx.limits.clone();
    let (socket_id, user_id) = (opened.socket_id, opened.user.user_id);
    if opened.first_here {
        Box::pin(announce_presence(&ctx, user_id, true)).await;
    }
    let mut outlet = Outlet { session, current: None, stall_reported: false };
    let mut actor = SocketActor {
        socket_id,
        user_id,
        auth_session: opened.user.session_id,
        token_expires_at: instant_of(opened.user.expires_at),
        mailbox: opened.mailbox.clone(),
        kill: opened.kill.clone(),
        typing: HashMap::new(),
        blocked: Vec::new(),
        blocked_read_at: None,
        strikes: 0,
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
        broadcast_typing(&ctx.realtime, socket_id, user_id, conversation_id, false, &actor.blocked);
    }
    if presence.changed {
        Box::pin(announce_presence(&ctx, user_id, false)).await;
    }
    drop(opened.permit.take());
    // A client that stopped reading may never make room for the close frame: do not wait for it forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), outlet.session.close(close)).await;
}

fn instant_of(unix_seconds: i64) -> Instant {
    let now_unix = chrono::Utc::now().timestamp();
    Instant::now() + Duration::from_secs(unix_seconds.saturating_sub(now_unix).max(0) as u64)
}

fn close_reason(code: u16, description: &str) -> Option<CloseReason> {
    Some(CloseReason { code: CloseCode::Other(code), description: Some(description.to_owned()) })
}

impl SocketActor {
    async fn run_loop(
        &mut self,
        mut stream: actix_ws::AggregatedMessageStream,
        outlet: &mut Outlet,
    ) -> Option<CloseReason> {
        let limits = self.ctx.limits.clone();
        let mut heartbeat = interval(limits.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut typing_check = interval(Duration::from_millis(500));
        // One handle for the socket's life: looking a metric up by name on every frame costs a hash each time.
        let fanout = metrics::histogram!("chat_fanout_seconds");
        let kill = self.kill.clone();
        let mailbox = self.mailbox.clone();
        loop {
            let token_expiry = sleep_until(self.token_expires_at);
            let waiting = outlet.current.is_some() || !mailbox.is_empty();
            let drain_deadline = sleep(limits.drain_timeout.saturating_sub(outlet.stalled_for(&mailbox)));
            tokio::select! {
                biased;
                code = kill.wait() => {
                    return match code {
                        close_code::TOO_SLOW => close_reason(code, "too slow: reconnect and catch up with after_seq"),
                        close_code::GOING_AWAY => close_reason(code, "server going away: reconnect"),
                        close_code::TOKEN_EXPIRED => close_reason(code, "session ended: sign in again"),
                        _ => close_reason(code, "closed by the server"),
                    };
                }
                () = token_expiry => {
                    return close_reason(close_code::TOKEN_EXPIRED, "token expired: refresh it and reconnect");
                }
                () = drain_deadline, if waiting => {
                    self.ctx.realtime.hub.stats.slow_consumer_closes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return close_reason(close_code::TOO_SLOW, "too slow: reconnect and catch up with after_seq");
                }
                sent = futures_util::future::poll_fn(|cx| outlet.poll_send(&mailbox, cx)) => match sent {
                    Ok(Some(stored_at)) => fanout.record(stored_at.elapsed().as_secs_f64()),
                    Ok(None) => {}
                    Err(Closed) => return None,
                },
                incoming = stream.recv() => {
                    last_heard = Instant::now();
                    match incoming {
                        None => return None,
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            // Boxed: the handlers' database futures are large, and an idle socket should not carry
                            // room for them in its own task.
                            if let Some(close) = Box::pin(self.on_text(&text)).await {
                                return close;
                            }
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.send_error("unsupported_frame", "Send JSON text frames; binary frames are not supported.", None);
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if outlet.try_control(WsMessage::Pong(bytes)).is_err() {
                                return None;
                            }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) => return None,
                        Some(Err(ProtocolError::Overflow)) => {
                            self.send_error("frame_too_large", &format!("Frames are limited to {} bytes.", limits.max_frame_bytes), None);
                            // Give the error frame a moment to go out ahead of the close.
                            let _ = tokio::time::timeout(Duration::from_millis(200), futures_util::future::poll_fn(|cx| outlet.poll_send(&mailbox, cx))).await;
                            return Some(CloseReason { code: CloseCode::Size, description: Some("frame too large".into()) });
                        }
                        Some(Err(_)) => return Some(CloseReason { code: CloseCode::Protocol, description: None }),
                    }
                }
                _ = typing_check.tick(), if !self.typing.is_empty() => self.expire_typing(),
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > limits.idle_timeout {
                        return Some(CloseReason { code: CloseCode::Normal, description: Some("idle".into()) });
                    }
                    if outlet.try_control(WsMessage::Ping(Bytes::new())).is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Handle one client frame; Some(close) ends the socket.
    async fn on_text(&mut self, text: &str) -> Option<Option<CloseReason>> {
        // The allowance is the user's, shared by all their sockets: more sockets do not buy more frames.
        if !self.ctx.rate_limits.socket_frame(self.user_id) {
            self.strikes += 1;
            if self.strikes >= self.ctx.limits.flood_strikes {
                return Some(close_reason(close_code::FLOODING, "flooding: back off before reconnecting"));
            }
            self.send_error("rate_limited", "Too many frames; slow down.", client_id_in(text));
            return None;
        }
        self.strikes = self.strikes.saturating_sub(1);
        let frame: ClientFrame = match crate::routes::json::parse(text.as_bytes()) {
            Ok(frame) => frame,
            Err(err) => {
                self.send_api_error(&err, client_id_in(text));
                return None;
            }
        };
        match frame {
            ClientFrame::NewMessage { conversation_id, client_id, body } => {
                self.on_new_message(conversation_id, client_id, body).await
            }
            ClientFrame::FetchMessages { conversation_id, before_seq, after_seq, limit } => {
                self.on_fetch(conversation_id, before_seq, after_seq, limit).await
            }
            ClientFrame::Typing { conversation_id, is_typing } => self.on_typing(conversation_id, is_typing).await,
            ClientFrame::Read { conversation_id, up_to_seq } => self.on_read(conversation_id, up_to_seq).await,
            ClientFrame::Auth { token } => self.on_auth(&token),
        }
        None
    }

    async fn on_new_message(&mut self, conversation_id: i64, client_id: String, body: String) {
        let parsed = ClientId::parse(&client_id).and_then(|id| MessageBody::parse(&body).map(|body| (id, body)));
        let (id, body) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => return self.send_api_error(&err.into(), Some(client_id)),
        };
        self.typing.remove(&conversation_id);
        // The ack (or error) arrives through the mailbox once stored; membership is checked in the transaction.
        let submitted =
            self.ctx.writer.submit_from_socket(self.socket_id, self.user_id, conversation_id, id, body).await;
        if let Err(err) = submitted {
            self.send_api_error(&err.into(), Some(client_id));
        }
    }

    async fn on_fetch(&mut self, conversation_id: i64, before: Option<i64>, after: Option<i64>, limit: Option<i64>) {
        let page = match Page::parse(before, after, limit) {
            Ok(page) => page,
            Err(err) => return self.send_api_error(&err.into(), None),
        };
        // A client that asks for pages and does not read them is not served more: its queue is its budget.
        if self.mailbox.len().1 >= self.ctx.limits.mailbox.bytes / 2 {
            return self.send_error("rate_limited", "Read the pages already sent before asking for more.", None);
        }
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            chat::messages::history(&mut conn, self.user_id, conversation_id, page).await
        }
        .await;
        match result {
            Ok(page) => {
                let frame = ServerFrame::Messages { conversation_id, messages: page.messages, has_more: page.has_more };
                self.send_frame(&frame);
            }
            Err(err) => self.send_api_error(&err.into(), None),
        }
    }

    async fn refresh_blocks(&mut self) {
        if self.blocked_read_at.is_some_and(|at| at.elapsed() < BLOCKS_FRESH_FOR) {
            return;
        }
        let read = async {
            let mut conn = self.ctx.db.get().await?;
            crate::db::blocks::related_to(&mut conn, self.user_id).await
        };
        // Unreadable now: keep the list we have and try again on the next typing.
        if let Ok(blocked) = read.await {
            self.blocked = blocked;
            self.blocked_read_at = Some(Instant::now());
        }
    }

    async fn on_typing(&mut self, conversation_id: i64, is_typing: bool) {
        if !self.ctx.realtime.hub.routes_to(self.user_id, conversation_id) {
            return self.send_api_error(&ChatError::NotFound.into(), None);
        }
        self.refresh_blocks().await;
        let now = Instant::now();
        if is_typing {
            let throttled =
                self.typing.get(&conversation_id).is_some_and(|t| now.duration_since(t.last_sent) < TYPING_THROTTLE);
            let last_sent = if throttled {
                self.typing.get(&conversation_id).map_or(now, |t| t.last_sent)
            } else {
                broadcast_typing(
                    &self.ctx.realtime,
                    self.socket_id,
                    self.user_id,
                    conversation_id,
                    true,
                    &self.blocked,
                );
                now
            };
            self.typing.insert(conversation_id, Typing { last_sent, expires: now + TYPING_TTL });
        } else if self.typing.remove(&conversation_id).is_some() {
            broadcast_typing(&self.ctx.realtime, self.socket_id, self.user_id, conversation_id, false, &self.blocked);
        }
    }

    /// Typing the client forgot to stop: the server ends it.
    fn expire_typing(&mut self) {
        let now = Instant::now();
        let expired: Vec<i64> = self.typing.iter().filter(|(_, t)| t.expires <= now).map(|(id, _)| *id).collect();
        for conversation_id in expired {
            self.typing.remove(&conversation_id);
            broadcast_typing(&self.ctx.realtime, self.socket_id, self.user_id, conversation_id, false, &self.blocked);
        }
    }

    async fn on_read(&mut self, conversation_id: i64, up_to_seq: i64) {
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            chat::conversations::mark_read(&mut conn, &self.ctx.realtime, self.user_id, conversation_id, up_to_seq)
                .await
        }
        .await;
        if let Err(err) = result {
            self.send_api_error(&err.into(), None);
        }
    }

    /// A fresh access token for this socket: it must be the same user's.
    fn on_auth(&mut self, token: &str) {
        match crate::auth::extractor::authenticate(&self.ctx.keys, Some(token)) {
            Ok(user) if user.user_id == self.user_id => {
                self.token_expires_at = instant_of(user.expires_at);
                if user.session_id != self.auth_session {
                    self.auth_session = user.session_id;
                    self.ctx.realtime.hub.set_auth_session(self.socket_id, user.session_id);
                }
            }
            Ok(_) => self.send_error("token_user_mismatch", "That token belongs to another user.", None),
            Err(err) => self.send_api_error(&err, None),
        }
    }

    /// A reply to this socket's own request, through its mailbox like everything else.
    fn send_frame(&mut self, frame: &ServerFrame) {
        if self.mailbox.push(ByteString::from(to_json(frame)), None, Delivery::Reliable) == Pushed::Overflow {
            self.ctx.realtime.hub.stats.slow_consumer_closes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.kill.fire(close_code::TOO_SLOW);
        }
    }

    fn send_error(&mut self, code: &str, message: &str, client_id: Option<String>) {
        let frame = ServerFrame::Error { code: code.to_owned(), message: message.to_owned(), client_id };
        self.send_frame(&frame);
    }

    fn send_api_error(&mut self, err: &ApiError, client_id: Option<String>) {
        let frame = crate::error::error_frame(err, client_id);
        self.send_frame(&frame);
    }
}

/// The client_id of a frame that was refused before it was understood, so the client can tell which send failed.
fn client_id_in(text: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    value.get("client_id")?.as_str().map(str::to_owned)
}

/// To the conversation's members but the typist and the other side of their blocks (`blocked`).
fn broadcast_typing(
    realtime: &Realtime,
    socket_id: u64,
    user_id: i64,
    conversation_id: i64,
    is_typing: bool,
    blocked: &[i64],
) {
    let mut skip = blocked.to_vec();
    skip.push(user_id);
    let frame = ServerFrame::Typing { conversation_id, user_id, is_typing };
    let version = realtime.hub.version_of(conversation_id);
    realtime.to_conversation(conversation_id, version, &frame, Delivery::Ephemeral, Some(socket_id), skip);
}

/// Count the socket in or out across instances (before the socket serves, so the count is never behind), and
/// when the user's first socket anywhere opened or their last closed, tell the people who share a
/// conversation with them — that part off the actor's path, as it reads the database.
async fn announce_presence(ctx: &Arc<SessionContext>, user_id: i64, online: bool) {
    let total = ctx.realtime.broker.presence_delta(user_id, if online { 1 } else { -1 }).await;
    // Across instances, only the first socket anywhere and the last one are news.
    if matches!(total, Some(n) if (online && n != 1) || (!online && n > 0)) {
        return;
    }
    let ctx = ctx.clone();
    actix_web::rt::spawn(async move {
        let Ok(mut conn) = ctx.db.get().await else { return };
        let Ok(co_members) = conversations::co_member_ids(&mut conn, user_id).await else { return };
        // Presence by consent: people who share a conversation, never across a block.
        let Ok(blocked) = crate::db::blocks::related_to(&mut conn, user_id).await else { return };
        let co_members: Vec<i64> = co_members.into_iter().filter(|id| !blocked.contains(id)).collect();
        if !co_members.is_empty() {
            ctx.realtime.to_users(co_members, &ServerFrame::Presence { user_id, online }, Delivery::Ephemeral);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_end_on_character_boundaries_and_cover_the_whole_frame() {
        let text = "é".repeat(5000); // two bytes each
        let bytes = text.as_bytes();
        let mut from = 0;
        let mut pieces = Vec::new();
        while from < bytes.len() {
            let end = fragment_end(bytes, from);
            assert!(end > from && end - from <= FRAGMENT_BYTES);
            assert!(std::str::from_utf8(&bytes[from..end]).is_ok(), "a whole number of characters");
            pieces.push(&bytes[from..end]);
            from = end;
        }
        assert_eq!(pieces.concat(), bytes);
    }
}
