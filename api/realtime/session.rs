//! The socket actor: one task per WebSocket that owns the socket, reads the client's frames, and drains a
//! bounded mailbox the hub fills. However the loop ends, the session is unregistered afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use super::{KillSwitch, Outbound, Realtime, Route, to_json};
use crate::auth::AuthKeys;
use crate::chat::writer::MessageWriter;
use crate::chat::{self, ChatError};
use crate::db::{DbPool, conversations};
use crate::domain::{ClientId, MessageBody, Page};
use crate::error::ApiError;
use crate::protocol::{ClientFrame, ServerFrame, close_code};

/// Limits of one socket; chosen, not inherited from library defaults, because they set memory per socket.
#[derive(Debug, Clone)]
pub struct SocketLimits {
    /// Frames the mailbox holds before ephemeral events are shed and then the socket is closed as too slow.
    pub mailbox: usize,
    /// Largest client frame (text, after joining continuations).
    pub max_frame_bytes: usize,
    pub heartbeat: Duration,
    /// Closed when nothing (not even a pong) arrived for this long.
    pub idle_timeout: Duration,
    /// Sustained client frames per second, and the burst allowed above it.
    pub frames_per_second: f64,
    pub frame_burst: f64,
    /// Frames refused for rate before the socket is closed as flooding.
    pub flood_strikes: u32,
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            mailbox: 256,
            max_frame_bytes: 64 * 1024,
            heartbeat: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            frames_per_second: 30.0,
            frame_burst: 60.0,
            flood_strikes: 50,
        }
    }
}

/// How long a typing indicator lives without a refresh, and how often a refresh is passed on.
const TYPING_TTL: Duration = Duration::from_secs(5);
const TYPING_THROTTLE: Duration = Duration::from_secs(2);

pub struct SessionContext {
    pub db: DbPool,
    pub keys: AuthKeys,
    pub realtime: Realtime,
    pub writer: MessageWriter,
    pub limits: SocketLimits,
}

struct Typing {
    last_sent: Instant,
    expires: Instant,
}

/// A token bucket: refills at `rate` per second up to `burst`.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct SocketActor {
    ctx: Arc<SessionContext>,
    session_id: u64,
    user_id: i64,
    token_expires_at: Instant,
    session: actix_ws::Session,
    typing: HashMap<i64, Typing>,
    bucket: Bucket,
    strikes: u32,
}

/// Register the socket with the hub and run it to the end.
pub async fn run(
    ctx: Arc<SessionContext>,
    user_id: i64,
    token_expires_unix: i64,
    conversations: Vec<(i64, i64)>,
    session: actix_ws::Session,
    stream: actix_ws::MessageStream,
) {
    let limits = ctx.limits.clone();
    let (tx, mailbox) = mpsc::channel(limits.mailbox);
    let kill = Arc::new(KillSwitch::default());
    let session_id = ctx.realtime.next_session_id();
    let presence = ctx.realtime.hub.register(session_id, user_id, &conversations, tx, kill.clone());
    if presence.changed {
        Box::pin(announce_presence(&ctx, user_id, true)).await;
    }
    ctx.realtime.broker.settle().await;
    let mut actor = SocketActor {
        session_id,
        user_id,
        token_expires_at: instant_of(token_expires_unix),
        session,
        typing: HashMap::new(),
        bucket: Bucket {
            tokens: limits.frame_burst,
            rate: limits.frames_per_second,
            burst: limits.frame_burst,
            at: Instant::now(),
        },
        strikes: 0,
        ctx: ctx.clone(),
    };
    let stream = stream
        .max_frame_size(limits.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(limits.max_frame_bytes);
    let close = actor.run_loop(stream, mailbox, &kill).await;

    // Cleanup, however the loop ended.
    let presence = ctx.realtime.hub.unregister(session_id);
    for (conversation_id, _) in actor.typing.drain() {
        broadcast_typing(&ctx.realtime, session_id, user_id, conversation_id, false);
    }
    if presence.changed {
        Box::pin(announce_presence(&ctx, user_id, false)).await;
    }
    // A client that stopped reading may never make room for the close frame: do not wait for it forever.
    let _ = tokio::time::timeout(Duration::from_secs(2), actor.session.close(close)).await;
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
        mut mailbox: mpsc::Receiver<Outbound>,
        kill: &KillSwitch,
    ) -> Option<CloseReason> {
        let limits = self.ctx.limits.clone();
        let mut heartbeat = interval(limits.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut typing_check = interval(Duration::from_millis(500));
        // One handle for the socket's life: looking a metric up by name on every frame costs a hash each time.
        let fanout = metrics::histogram!("chat_fanout_seconds");
        loop {
            let token_expiry = sleep_until(self.token_expires_at);
            tokio::select! {
                biased;
                code = kill.wait() => {
                    return match code {
                        close_code::TOO_SLOW => close_reason(code, "too slow: reconnect and catch up with after_seq"),
                        close_code::GOING_AWAY => close_reason(code, "server going away: reconnect"),
                        _ => close_reason(code, "closed by the server"),
                    };
                }
                () = token_expiry => {
                    return close_reason(close_code::TOKEN_EXPIRED, "token expired: refresh it and reconnect");
                }
                outbound = mailbox.recv() => {
                    let Some(Outbound::Text(text, stored_at)) = outbound else { return None };
                    // A client that stops reading blocks this write: the kill switch must still get through.
                    tokio::select! {
                        biased;
                        code = kill.wait() => return close_reason(code, "too slow: reconnect and catch up with after_seq"),
                        sent = self.session.text(text) => if sent.is_err() { return None },
                    }
                    if let Some(stored_at) = stored_at {
                        fanout.record(stored_at.elapsed().as_secs_f64());
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
                            self.send_error("unsupported_frame", "Send JSON text frames; binary frames are not supported.", None).await;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_err() {
                                return None;
                            }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) => return None,
                        Some(Err(ProtocolError::Overflow)) => {
                            self.send_error("frame_too_large", &format!("Frames are limited to {} bytes.", limits.max_frame_bytes), None).await;
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
                    if self.session.ping(b"").await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Handle one client frame; Some(close) ends the socket.
    async fn on_text(&mut self, text: &str) -> Option<Option<CloseReason>> {
        if !self.bucket.take() {
            self.strikes += 1;
            if self.strikes >= self.ctx.limits.flood_strikes {
                return Some(close_reason(close_code::FLOODING, "flooding: back off before reconnecting"));
            }
            self.send_error("rate_limited", "Too many frames; slow down.", client_id_in(text)).await;
            return None;
        }
        self.strikes = self.strikes.saturating_sub(1);
        let frame: ClientFrame = match crate::routes::json::parse(text.as_bytes()) {
            Ok(frame) => frame,
            Err(err) => {
                self.send_api_error(&err, client_id_in(text)).await;
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
            ClientFrame::Auth { token } => return self.on_auth(&token).await,
        }
        None
    }

    async fn on_new_message(&mut self, conversation_id: i64, client_id: String, body: String) {
        let parsed = ClientId::parse(&client_id).and_then(|id| MessageBody::parse(&body).map(|body| (id, body)));
        let (id, body) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => return self.send_api_error(&err.into(), Some(client_id)).await,
        };
        self.typing.remove(&conversation_id);
        // The ack (or error) arrives through the mailbox once stored; membership is checked in the transaction.
        let submitted =
            self.ctx.writer.submit_from_socket(self.session_id, self.user_id, conversation_id, id, body).await;
        if let Err(err) = submitted {
            self.send_api_error(&err.into(), Some(client_id)).await;
        }
    }

    async fn on_fetch(&mut self, conversation_id: i64, before: Option<i64>, after: Option<i64>, limit: Option<i64>) {
        let page = match Page::parse(before, after, limit) {
            Ok(page) => page,
            Err(err) => return self.send_api_error(&err.into(), None).await,
        };
        let result = async {
            let mut conn = self.ctx.db.get().await?;
            chat::messages::history(&mut conn, self.user_id, conversation_id, page).await
        }
        .await;
        match result {
            Ok(page) => {
                let frame = ServerFrame::Messages { conversation_id, messages: page.messages, has_more: page.has_more };
                self.send_frame(&frame).await;
            }
            Err(err) => self.send_api_error(&err.into(), None).await,
        }
    }

    async fn on_typing(&mut self, conversation_id: i64, is_typing: bool) {
        if !self.ctx.realtime.hub.routes_to(self.user_id, conversation_id) {
            return self.send_api_error(&ChatError::NotFound.into(), None).await;
        }
        let now = Instant::now();
        if is_typing {
            let throttled =
                self.typing.get(&conversation_id).is_some_and(|t| now.duration_since(t.last_sent) < TYPING_THROTTLE);
            let last_sent = if throttled {
                self.typing.get(&conversation_id).map_or(now, |t| t.last_sent)
            } else {
                broadcast_typing(&self.ctx.realtime, self.session_id, self.user_id, conversation_id, true);
                now
            };
            self.typing.insert(conversation_id, Typing { last_sent, expires: now + TYPING_TTL });
        } else if self.typing.remove(&conversation_id).is_some() {
            broadcast_typing(&self.ctx.realtime, self.session_id, self.user_id, conversation_id, false);
        }
    }

    /// Typing the client forgot to stop: the server ends it.
    fn expire_typing(&mut self) {
        let now = Instant::now();
        let expired: Vec<i64> = self.typing.iter().filter(|(_, t)| t.expires <= now).map(|(id, _)| *id).collect();
        for conversation_id in expired {
            self.typing.remove(&conversation_id);
            broadcast_typing(&self.ctx.realtime, self.session_id, self.user_id, conversation_id, false);
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
            self.send_api_error(&err.into(), None).await;
        }
    }

    /// A fresh access token for this socket: it must be the same user's.
    async fn on_auth(&mut self, token: &str) -> Option<Option<CloseReason>> {
        match crate::auth::extractor::authenticate(&self.ctx.keys, Some(token)) {
            Ok(user) if user.user_id == self.user_id => {
                self.token_expires_at = instant_of(user.expires_at);
                None
            }
            Ok(_) => {
                self.send_error("token_user_mismatch", "That token belongs to another user.", None).await;
                None
            }
            Err(err) => {
                self.send_api_error(&err, None).await;
                None
            }
        }
    }

    async fn send_frame(&mut self, frame: &ServerFrame) {
        // A failure means the peer is gone; the read side ends the loop.
        let _ = self.session.text(to_json(frame)).await;
    }

    async fn send_error(&mut self, code: &str, message: &str, client_id: Option<String>) {
        let frame = ServerFrame::Error { code: code.to_owned(), message: message.to_owned(), client_id };
        self.send_frame(&frame).await;
    }

    async fn send_api_error(&mut self, err: &ApiError, client_id: Option<String>) {
        let message = match err {
            ApiError::Validation { field, message } => format!("{message} (field: {field})"),
            other => other.to_string(),
        };
        self.send_error(err.code(), &message, client_id).await;
    }
}

/// The client_id of a frame that was refused before it was understood, so the client can tell which send failed.
fn client_id_in(text: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    value.get("client_id")?.as_str().map(str::to_owned)
}

fn broadcast_typing(realtime: &Realtime, session_id: u64, user_id: i64, conversation_id: i64, is_typing: bool) {
    let frame = ServerFrame::Typing { conversation_id, user_id, is_typing };
    realtime.frame_skipping(Route::Conversation(conversation_id), &frame, true, Some(session_id), Some(user_id));
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
        if !co_members.is_empty() {
            ctx.realtime.frame(Route::Users(co_members), &ServerFrame::Presence { user_id, online }, true);
        }
    });
}
