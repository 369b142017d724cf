//! The socket actor: one task per socket that reads the client's frames and answers them, keeps the
//! heartbeat, idle close, token expiry and drain deadline, and drains the mailbox through its outlet.
//! Every frame it sends goes through the mailbox like the hub's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Message as WsMessage, ProtocolError};
use bytestring::ByteString;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use super::outlet::Outlet;
use super::session::{close_reason, instant_of};
use crate::auth::{Access, AuthError};
use crate::chat::writer::{SendReplies, Sent, SocketOrigin};
use crate::chat::{self, ChatError};
use crate::domain::{Page, PageCursors};
use crate::error::ApiError;
use crate::ids::{ConversationId, Seq, SessionId, UserId};
use crate::protocol::{ClientFrame, ServerFrame, close_code};
use crate::realtime::mailbox::{Delivery, Mailbox, Pushed};
use crate::realtime::{KillSwitch, Realtime, to_json};
use crate::state::AppState;

/// How long a typing indicator lives without a refresh, and how often a refresh is passed on.
const TYPING_TTL: Duration = Duration::from_secs(5);
const TYPING_THROTTLE: Duration = Duration::from_secs(2);

pub(super) struct Typing {
    last_sent: Instant,
    expires: Instant,
}

pub(super) struct SocketActor {
    pub(super) ctx: Arc<AppState>,
    pub(super) socket_id: u64,
    pub(super) user_id: UserId,
    pub(super) auth_session: SessionId,
    /// What the socket's credential allows (an API token's scopes), checked per frame.
    pub(super) access: Access,
    pub(super) token_expires_at: Instant,
    pub(super) mailbox: Arc<Mailbox>,
    pub(super) kill: Arc<KillSwitch>,
    pub(super) typing: HashMap<ConversationId, Typing>,
    /// The other side of the user's blocks (either way), who never see their typing; read now and then.
    pub(super) blocked: Vec<UserId>,
    pub(super) blocked_read_at: Option<Instant>,
    pub(super) strikes: u32,
    /// Where the writer answers this socket's sends.
    pub(super) replies: Arc<dyn SendReplies>,
}

/// How long the socket trusts the list of the user's blocks before reading it again.
const BLOCKS_FRESH_FOR: Duration = Duration::from_secs(5);

impl SocketActor {
    pub(super) async fn run_loop(
        &mut self,
        mut stream: actix_ws::AggregatedMessageStream,
        outlet: &mut Outlet,
    ) -> Option<CloseReason> {
        let limits = self.ctx.sockets.clone();
        let mut heartbeat = interval(limits.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut typing_check = interval(Duration::from_millis(500));
        // One handle for the socket's life: looking a metric up by name on every frame costs a hash each time.
        let fanout = metrics::histogram!("chat_fanout_seconds");
        let kill = self.kill.clone();
        let mailbox = self.mailbox.clone();
        // Timers kept across turns and moved only when their deadline changes: a turn of this loop is cheap.
        let token_expiry = sleep_until(self.token_expires_at);
        let drain_deadline = sleep_until(Instant::now() + limits.drain_timeout);
        tokio::pin!(token_expiry, drain_deadline);
        loop {
            if token_expiry.deadline() != self.token_expires_at {
                token_expiry.as_mut().reset(self.token_expires_at);
            }
            let waiting_since = outlet.waiting_since(&mailbox);
            let waiting = waiting_since.is_some();
            if let Some(since) = waiting_since
                && drain_deadline.deadline() != since + limits.drain_timeout
            {
                drain_deadline.as_mut().reset(since + limits.drain_timeout);
            }
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
                () = &mut token_expiry => {
                    return close_reason(close_code::TOKEN_EXPIRED, "token expired: refresh it and reconnect");
                }
                () = &mut drain_deadline, if waiting => {
                    // Frames may have gone out since the deadline was set (the outlet sends without waking this
                    // loop): close only if the client really took nothing for the whole deadline.
                    match outlet.waiting_since(&mailbox) {
                        Some(since) if since + limits.drain_timeout <= Instant::now() => {
                            self.ctx.realtime.hub.stats.slow_consumer_closes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return close_reason(close_code::TOO_SLOW, "too slow: reconnect and catch up with after_seq");
                        }
                        Some(since) => drain_deadline.as_mut().reset(since + limits.drain_timeout),
                        None => {}
                    }
                }
                sent = futures_util::future::poll_fn(|cx| outlet.poll_send(&mailbox, &fanout, cx)) => {
                    if sent.is_err() {
                        return None;
                    }
                }
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
                            let _ = tokio::time::timeout(Duration::from_millis(200), futures_util::future::poll_fn(|cx| outlet.poll_send(&mailbox, &fanout, cx))).await;
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
        if !self.ctx.limits.socket_frame(self.user_id) {
            self.strikes += 1;
            if self.strikes >= self.ctx.sockets.flood_strikes {
                return Some(close_reason(close_code::FLOODING, "flooding: back off before reconnecting"));
            }
            self.send_error("rate_limited", "Too many frames; slow down.", client_id_in(text));
            return None;
        }
        self.strikes = self.strikes.saturating_sub(1);
        let frame: ClientFrame = match crate::json::parse(text.as_bytes()) {
            Ok(frame) => frame,
            Err(err) => {
                self.send_api_error(&err, client_id_in(text));
                return None;
            }
        };
        if let Err(message) = self.access.allows(super::need_of(&frame)) {
            let client_id = match &frame {
                ClientFrame::NewMessage { client_id, .. } => Some(client_id.clone()),
                _ => None,
            };
            self.send_api_error(&AuthError::InsufficientScope(message).into(), client_id);
            return None;
        }
        match frame {
            ClientFrame::NewMessage { conversation_id, client_id, body, attachment_ids, reply_to_seq } => {
                let draft = chat::messages::Draft {
                    client_id: &client_id,
                    body: &body,
                    attachment_ids: &attachment_ids,
                    reply_to_seq,
                };
                self.on_new_message(ConversationId(conversation_id), &draft).await
            }
            ClientFrame::FetchMessages { conversation_id, before_seq, after_seq, around_seq, limit } => {
                let cursors = PageCursors { before_seq, after_seq, around_seq };
                self.on_fetch(ConversationId(conversation_id), cursors, limit).await
            }
            ClientFrame::Typing { conversation_id, is_typing } => {
                self.on_typing(ConversationId(conversation_id), is_typing).await
            }
            ClientFrame::Read { conversation_id, up_to_seq } => {
                self.on_receipt(ConversationId(conversation_id), Seq(up_to_seq), Receipt::Read).await
            }
            ClientFrame::Delivered { conversation_id, up_to_seq } => {
                self.on_receipt(ConversationId(conversation_id), Seq(up_to_seq), Receipt::Delivered).await
            }
            ClientFrame::Auth { token } => self.on_auth(&token).await,
            ClientFrame::React { conversation_id, seq, emoji, on } => {
                self.on_react(ConversationId(conversation_id), Seq(seq), &emoji, on).await
            }
        }
        None
    }

    async fn on_new_message(&mut self, conversation_id: ConversationId, draft: &chat::messages::Draft<'_>) {
        let origin = SocketOrigin { socket_id: self.socket_id, replies: self.replies.clone() };
        // The same rule as a REST send; the ack (or error) arrives through the mailbox once stored.
        let submitted = chat::messages::submit(&self.ctx.writer, origin, self.user_id, conversation_id, draft).await;
        match submitted {
            Ok(()) => {
                self.typing.remove(&conversation_id);
            }
            Err(err) => self.send_api_error(&err.into(), Some(draft.client_id.to_owned())),
        }
    }

    /// The same rule as the REST reaction; the `reaction` event (to every member's sockets, this one too) is the
    /// answer, or an `error` frame.
    async fn on_react(&mut self, conversation_id: ConversationId, seq: Seq, emoji: &str, on: bool) {
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            chat::reactions::react(&mut conn, &self.ctx.realtime, self.user_id, conversation_id, seq, emoji, on).await
        }
        .await;
        if let Err(err) = result {
            self.send_api_error(&err.into(), None);
        }
    }

    async fn on_fetch(&mut self, conversation_id: ConversationId, cursors: PageCursors, limit: Option<i64>) {
        let page = match Page::parse(cursors, limit) {
            Ok(page) => page,
            Err(err) => return self.send_api_error(&err.into(), None),
        };
        // A client that asks for pages and does not read them is not served more: its queue is its budget.
        if self.mailbox.len().1 >= self.ctx.sockets.mailbox.bytes / 2 {
            return self.send_error("rate_limited", "Read the pages already sent before asking for more.", None);
        }
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            chat::messages::history(&mut conn, self.user_id, conversation_id, page).await
        }
        .await;
        match result {
            Ok(page) => {
                let frame = ServerFrame::Messages {
                    conversation_id: conversation_id.get(),
                    messages: page.messages,
                    has_more: page.has_more,
                    has_newer: page.has_newer,
                };
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

    async fn on_typing(&mut self, conversation_id: ConversationId, is_typing: bool) {
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
        let expired: Vec<ConversationId> =
            self.typing.iter().filter(|(_, t)| t.expires <= now).map(|(id, _)| *id).collect();
        for conversation_id in expired {
            self.typing.remove(&conversation_id);
            broadcast_typing(&self.ctx.realtime, self.socket_id, self.user_id, conversation_id, false, &self.blocked);
        }
    }

    async fn on_receipt(&mut self, conversation_id: ConversationId, up_to_seq: Seq, receipt: Receipt) {
        let (realtime, me) = (&self.ctx.realtime, self.user_id);
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            match receipt {
                Receipt::Read => {
                    chat::receipts::mark_read(&mut conn, realtime, me, conversation_id, up_to_seq).await.map(|_| ())
                }
                Receipt::Delivered => self.ctx.delivered.note(&mut conn, me, conversation_id, up_to_seq).await,
            }
        }
        .await;
        if let Err(err) = result {
            self.send_api_error(&err.into(), None);
        }
    }

    /// A fresh access token (or API token) for this socket: it must be the same user's. The socket then may
    /// do what the new credential allows.
    async fn on_auth(&mut self, token: &str) {
        match crate::auth::extractor::authenticate_any(&self.ctx.db, &self.ctx.keys, Some(token)).await {
            Ok(user) if user.user_id == self.user_id => {
                self.token_expires_at = instant_of(user.expires_at);
                self.access = user.access;
                if user.session_id != self.auth_session {
                    self.auth_session = user.session_id;
                    self.ctx.realtime.hub.set_auth_session(self.socket_id, user.session_id);
                }
            }
            Ok(_) => self.send_error("token_user_mismatch", "That token belongs to another user.", None),
            Err(err) => self.send_api_error(&err.into(), None),
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

/// Answers to this socket's sends, from the message writer: into the mailbox like every other frame.
pub(super) struct SocketReplies {
    pub(super) mailbox: Arc<Mailbox>,
    pub(super) kill: Arc<KillSwitch>,
    pub(super) realtime: Realtime,
}

impl SendReplies for SocketReplies {
    fn reply(&self, client_id: String, result: chat::ChatResult<Sent>) {
        let frame = match result {
            Ok(sent) => ServerFrame::Ack { client_id, message: sent.message },
            Err(err) => crate::error::error_frame(&err.into(), Some(client_id)),
        };
        if self.mailbox.push(ByteString::from(to_json(&frame)), None, Delivery::Reliable) == Pushed::Overflow {
            self.realtime.hub.stats.slow_consumer_closes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.kill.fire(close_code::TOO_SLOW);
        }
    }
}

/// The client_id of a frame that was refused before it was understood, so the client can tell which send failed.
fn client_id_in(text: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    value.get("client_id")?.as_str().map(str::to_owned)
}

/// To the conversation's members but the typist and the other side of their blocks (`blocked`).
pub(super) fn broadcast_typing(
    realtime: &Realtime,
    socket_id: u64,
    user_id: UserId,
    conversation_id: ConversationId,
    is_typing: bool,
    blocked: &[UserId],
) {
    let mut skip = blocked.to_vec();
    skip.push(user_id);
    let frame = ServerFrame::Typing { conversation_id: conversation_id.get(), user_id: user_id.get(), is_typing };
    let version = realtime.hub.version_of(conversation_id);
    realtime.to_conversation(conversation_id, version, &frame, Delivery::Ephemeral, Some(socket_id), skip);
}

#[derive(Debug, Clone, Copy)]
enum Receipt {
    Read,
    Delivered,
}
