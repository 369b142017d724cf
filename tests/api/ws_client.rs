//! A WebSocket client for tests: typed frames in and out, waiting with timeouts (never bare sleeps).

use std::time::Duration;

use chat_server::protocol::ServerFrame;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::helpers::TestApp;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a socket ended, as a test sees it.
#[derive(Debug, PartialEq)]
pub enum Ended {
    Closed(Option<u16>),
    Dropped,
}

/// An upgrade the server refused: its status, headers and JSON body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Refused {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    pub async fn ws(&self, token: &str) -> WsClient {
        self.try_ws(token).await.unwrap_or_else(|refused| panic!("websocket refused: {refused:?}"))
    }

    pub async fn try_ws(&self, token: &str) -> Result<WsClient, Refused> {
        let url = format!("ws://127.0.0.1:{}/ws?token={token}", self.port);
        match connect_async(url).await {
            Ok((stream, _)) => Ok(WsClient { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().unwrap_or_default();
                Err(Refused {
                    status: response.status().as_u16(),
                    retry_after: response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned),
                    body: serde_json::from_slice(body).unwrap_or(Value::Null),
                })
            }
            Err(other) => panic!("websocket failed: {other}"),
        }
    }
}

impl WsClient {
    pub async fn send_json(&mut self, value: Value) {
        self.stream.send(WsMessage::Text(value.to_string().into())).await.expect("frame sent");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(WsMessage::Text(text.to_owned().into())).await.expect("frame sent");
    }

    /// The next server frame of any kind, or None when the socket ended or nothing came within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()??;
            match msg.ok()? {
                WsMessage::Text(text) => {
                    return Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad frame {text}: {e}")));
                }
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The first frame that `pick` accepts, skipping others (presence, typing…) — panics after WAIT.
    pub async fn expect<T>(&mut self, what: &str, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(frame) => {
                    if let Some(found) = pick(&frame) {
                        return found;
                    }
                }
                None => panic!("waited for {what}, but the socket ended or went quiet"),
            }
        }
    }

    /// Nothing `pick` accepts arrives within `wait`.
    pub async fn expect_none(&mut self, wait: Duration, what: &str, mut pick: impl FnMut(&ServerFrame) -> bool) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(frame) = self.next_within(deadline.saturating_duration_since(tokio::time::Instant::now())).await
        {
            assert!(!pick(&frame), "unexpected {what}: {frame:?}");
        }
    }

    /// Every frame that arrives until the socket has been quiet for `quiet`.
    pub async fn drain_for(&mut self, quiet: Duration) -> Vec<ServerFrame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_within(quiet).await {
            frames.push(frame);
        }
        frames
    }

    /// Read until the socket ends; frames before the end are returned too.
    pub async fn until_end(&mut self, wait: Duration) -> (Vec<ServerFrame>, Ended) {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(msg) = tokio::time::timeout_at(deadline, self.stream.next()).await else {
                panic!("the socket did not end within {wait:?}");
            };
            match msg {
                Some(Ok(WsMessage::Text(text))) => frames.push(serde_json::from_str(&text).expect("frame")),
                Some(Ok(WsMessage::Close(frame))) => {
                    return (frames, Ended::Closed(frame.map(|f: CloseFrame| u16::from(f.code))));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, Ended::Dropped),
            }
        }
    }
}

/// A `new_message` client frame.
pub fn new_message(conversation_id: i64, client_id: &str, body: &str) -> Value {
    serde_json::json!({"type": "new_message", "conversation_id": conversation_id, "client_id": client_id, "body": body})
}

/// The seq of a `message` frame.
pub fn message_seq(frame: &ServerFrame) -> Option<i64> {
    match frame {
        ServerFrame::Message { message } => Some(message.seq),
        _ => None,
    }
}
