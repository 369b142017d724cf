//! The generator's HTTP and socket client, and the rooms it sets up.

use std::time::Instant;

use super::Shape;
use chat_server::protocol::Session;
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub(crate) fn ws_config() -> WebSocketConfig {
    // Small buffers: the generator holds thousands of sockets.
    WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0)
}

/// 127.0.0.1 … 127.0.0.254: one source address per ~25k sockets keeps clear of the ephemeral port range.
pub(crate) fn source_addr(i: usize) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1 + (i / 25_000) as u8], 0))
}

pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) ws_url: String,
}

impl Client {
    pub(crate) fn new(url: &str) -> Self {
        Client {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            ws_url: url.trim_end_matches('/').replacen("http", "ws", 1),
        }
    }

    pub(crate) async fn register(&self, name: &str) -> Session {
        let password = "load-generator-password";
        let body = json!({"username": name, "password": password});
        let reply =
            self.http.post(format!("{}/api/auth/register", self.url)).json(&body).send().await.expect("register");
        if reply.status().as_u16() == 409 {
            let reply = self.http.post(format!("{}/api/auth/login", self.url)).json(&body).send().await.expect("login");
            return reply.json().await.expect("session");
        }
        assert!(reply.status().is_success(), "register {name}: {}", reply.status());
        reply.json().await.expect("session")
    }

    pub(crate) async fn group(&self, token: &str, title: &str, members: &[i64]) -> i64 {
        let body = json!({"kind": "group", "title": title, "member_ids": members});
        let reply = self
            .http
            .post(format!("{}/api/conversations", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("group");
        assert!(reply.status().is_success(), "group: {}", reply.status());
        reply.json::<serde_json::Value>().await.expect("json")["id"].as_i64().expect("id")
    }

    pub(crate) async fn socket(
        &self,
        token: &str,
        index: usize,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
        let host = self.url.trim_start_matches("http://");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind(source_addr(index)).expect("bind source address");
        let tcp = socket.connect(host.parse().expect("host:port")).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async_with_config(
            format!("{}/ws?token={token}", self.ws_url),
            tokio_tungstenite::MaybeTlsStream::Plain(tcp),
            Some(ws_config()),
        )
        .await
        .expect("websocket");
        ws
    }
}

pub(crate) struct Room {
    pub(crate) id: i64,
    pub(crate) members: Vec<Session>,
}

pub(crate) async fn setup(client: &Client, shape: &Shape, tag: &str) -> Vec<Room> {
    let began = Instant::now();
    let users_needed = shape.rooms * shape.members;
    let mut sessions = Vec::with_capacity(users_needed);
    let mut pending = futures_util::stream::iter((0..users_needed).map(|i| {
        let name = format!("lg{tag}u{i}");
        async move { client.register(&name).await }
    }))
    .buffered(16);
    while let Some(session) = pending.next().await {
        sessions.push(session);
    }
    let mut rooms = Vec::with_capacity(shape.rooms);
    for (r, members) in sessions.chunks(shape.members).enumerate() {
        let ids: Vec<i64> = members.iter().map(|m| m.user.id).collect();
        let id = client.group(&members[0].access_token, &format!("room {r}"), &ids).await;
        rooms.push(Room { id, members: members.to_vec() });
    }
    eprintln!("setup: {users_needed} users, {} rooms in {:.1?}", rooms.len(), began.elapsed());
    rooms
}

/// One socket that stores messages as fast as the server acknowledges them: frames pipelined a window at a time,
/// each window's acks awaited before the next (under the server's per-socket mailbox, 256 frames by default,
/// which closes a socket whose unread acks overflow it).
pub(crate) struct Pipeline {
    sink: futures_util::stream::SplitSink<Ws, tokio_tungstenite::tungstenite::Message>,
    stream: futures_util::stream::SplitStream<Ws>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Pipeline {
    pub(crate) const WINDOW: u64 = 200;

    pub(crate) async fn open(client: &Client, token: &str) -> Self {
        let (sink, stream) = client.socket(token, 0).await.split();
        Pipeline { sink, stream }
    }

    /// Send `new_message` frames numbered `from..to` (made by `frame`) and wait until every one is acked.
    pub(crate) async fn store(&mut self, from: u64, to: u64, mut frame: impl FnMut(u64) -> serde_json::Value) {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message as WsMessage;
        let mut next = from;
        while next < to {
            let window = Self::WINDOW.min(to - next);
            for n in next..next + window {
                self.sink.send(WsMessage::Text(frame(n).to_string().into())).await.expect("send");
            }
            let mut acked = 0;
            while acked < window {
                let text = match self.stream.next().await {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(close))) => panic!("the server closed the socket: {close:?}"),
                    Some(Ok(_)) => continue,
                    other => panic!("the socket closed: {other:?}"),
                };
                match serde_json::from_str::<super::run::LightFrame>(&text) {
                    Ok(frame) if frame.kind == "ack" => acked += 1,
                    Ok(frame) if frame.kind == "error" => panic!("the server refused a send: {text}"),
                    _ => {}
                }
            }
            next += window;
        }
    }
}
