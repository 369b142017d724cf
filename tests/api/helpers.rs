#![allow(dead_code)]
//! Spawns the real application on a random port with a fresh database, and speaks HTTP to it.

use std::path::PathBuf;
use std::sync::LazyLock;

use chat_server::config::Settings;
use chat_server::db::DatabaseUrl;
use chat_server::protocol::Session;
use chat_server::startup::Application;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        chat_server::telemetry::init("info", std::io::stdout);
    } else {
        chat_server::telemetry::init("warn", std::io::sink);
    }
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite + in-process broker: the embedded default.
    Sqlite,
    /// PostgreSQL (TEST_DATABASE_URL) + Redis (TEST_REDIS_URL): the scale-out setup.
    Postgres,
}

/// Where a test's data lives; removed when the test ends.
pub enum Store {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String, url: String },
}

impl Store {
    pub async fn fresh(backend: Backend) -> Option<Store> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("chat-test-{}", random_hex(8)));
                std::fs::create_dir_all(&dir).expect("temp dir");
                Some(Store::Sqlite(dir))
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
                    assert!(std::env::var("CI").is_err(), "CI must run the PostgreSQL suite: set TEST_DATABASE_URL");
                    eprintln!("TEST_DATABASE_URL unset: PostgreSQL variant skipped");
                    return None;
                };
                let name = format!("chat_test_{}", random_hex(8));
                let mut admin = AsyncPgConnection::establish(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"));
                admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(Store::Postgres { admin_url, name, url: url.to_string() })
            }
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        match self {
            Store::Sqlite(dir) => DatabaseUrl::Sqlite(dir.join("chat.db")),
            Store::Postgres { url, .. } => DatabaseUrl::Postgres(url.clone()),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The instance's data directory (attachments among it), removed with the store.
    pub fn data_dir(&self) -> PathBuf {
        match self {
            Store::Sqlite(dir) => dir.clone(),
            Store::Postgres { name, .. } => std::env::temp_dir().join(name),
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        match self {
            Store::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Store::Postgres { admin_url, name, .. } => {
                let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&*name));
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
                    })
                })
                .join();
            }
        }
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn settings_for(store: &Store) -> Settings {
    let mut settings = Settings::with_database(store.database_url());
    settings.jwt_secret = Some(JWT_SECRET.into());
    settings.workers = Some(1);
    settings.db_pool_size = 8;
    settings.web_dir = "/nonexistent".into();
    settings.data_dir = store.data_dir();
    // Tests register many users from one address; the limits have tests of their own.
    settings.auth_per_minute = 100_000;
    settings.rest_per_second = 100_000;
    settings.token_rest_per_second = 100_000;
    settings.webhook_posts_per_minute = 100_000;
    settings.ws_upgrades_per_minute_per_user = 100_000;
    settings.ws_upgrades_per_minute_per_address = 100_000;
    if store.backend() == Backend::Postgres {
        settings.redis_url = std::env::var("TEST_REDIS_URL").ok();
        settings.redis_prefix = format!("chat-test-{}", random_hex(6));
    }
    settings
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The admin listener (metrics), when `admin_bind` is set.
    pub admin_address: Option<String>,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// Graceful shutdown, as SIGTERM does it.
    pub shutdown: chat_server::startup::Shutdown,
    /// The server's run, which ends after a shutdown once the message writer has drained.
    pub served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The instance's routing tables.
    pub hub: std::sync::Arc<chat_server::realtime::Hub>,
    handle: actix_web::dev::ServerHandle,
    admin_handle: Option<actix_web::dev::ServerHandle>,
    // Declared last: dropped after the server is told to stop. Siblings (more instances on the same
    // database) hold none.
    pub store: Option<Store>,
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let store = Store::fresh(backend).await?;
    let settings = settings_for(&store);
    Some(spawn_with(store, settings).await)
}

pub async fn spawn_with(store: Store, settings: Settings) -> TestApp {
    let backend = store.backend();
    start(Some(store), backend, settings).await
}

async fn start(store: Option<Store>, backend: Backend, settings: Settings) -> TestApp {
    LazyLock::force(&TRACING);
    let app = Application::build(settings.clone()).await.expect("the application starts");
    let port = app.port();
    let handle = app.handle();
    let admin_handle = app.admin_handle();
    let admin_address = app.admin_port().map(|port| format!("http://127.0.0.1:{port}"));
    let shutdown = app.shutdown_handle();
    let hub = app.hub();
    let served = Some(tokio::spawn(app.run_until_stopped()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        admin_address,
        backend,
        client: reqwest::Client::new(),
        settings,
        shutdown,
        served,
        hub,
        handle,
        admin_handle,
        store,
    }
}

impl TestApp {
    /// Another instance on the same database and broker (scale-out), on its own port.
    pub async fn sibling(&self) -> TestApp {
        start(None, self.backend, self.settings.clone()).await
    }

    /// Another instance with changed settings (same database).
    pub async fn sibling_with(&self, change: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        change(&mut settings);
        start(None, self.backend, settings).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the returned future only waits for it.
        drop(self.handle.stop(false));
        if let Some(admin) = &self.admin_handle {
            drop(admin.stop(false));
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone()).unwrap_or_else(|e| panic!("unexpected body ({e}): {}", self.body))
    }

    /// The error body without its request id (which differs on every request).
    pub fn error_body(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.remove("request_id");
        }
        body
    }

    /// Asserts the status and the JSON error shape, and returns the code.
    #[track_caller]
    pub fn error_code(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let code = self.body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {}", self.body));
        assert!(self.body["error"]["message"].is_string(), "no error message in {}", self.body);
        code.to_owned()
    }
}

impl TestApp {
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.expect("request sent");
        read_reply(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post<T: Serialize>(&self, path: &str, token: Option<&str>, body: &T) -> Reply {
        let body = serde_json::to_value(body).expect("serialisable");
        self.request(Method::POST, path, token, Some(&body)).await
    }

    pub async fn patch<T: Serialize>(&self, path: &str, token: &str, body: &T) -> Reply {
        let body = serde_json::to_value(body).expect("serialisable");
        self.request(Method::PATCH, path, Some(token), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn raw(&self, method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.address, path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        read_reply(req.send().await.expect("request sent")).await
    }

    /// Register `name` (password "password-<name>") and return the session.
    pub async fn register(&self, name: &str) -> Session {
        let reply = self
            .post(
                "/api/auth/register",
                None,
                &serde_json::json!({"username": name, "password": format!("password-{name}")}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "register {name}: {}", reply.body);
        reply.json()
    }
}

impl TestApp {
    /// Log `name` in (password "password-<name>") and return the session.
    pub async fn login(&self, name: &str) -> Session {
        let reply = self.login_with(name, &format!("password-{name}"), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "login {name}: {}", reply.body);
        reply.json()
    }

    /// A login attempt with extra request headers (User-Agent, X-Forwarded-For…).
    pub async fn login_with(&self, name: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .client
            .post(format!("{}/api/auth/login", self.address))
            .json(&serde_json::json!({"username": name, "password": password}));
        for (key, value) in headers {
            req = req.header(*key, *value);
        }
        read_reply(req.send().await.expect("request sent")).await
    }

    /// Polls (every 20 ms, at most `limit`) until the access token is refused on REST; returns the refusal.
    #[track_caller]
    pub fn refused_within<'a>(
        &'a self,
        token: &'a str,
        limit: std::time::Duration,
    ) -> impl std::future::Future<Output = Reply> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let began = std::time::Instant::now();
            loop {
                let reply = self.get("/api/users/me", token).await;
                if reply.status == StatusCode::UNAUTHORIZED {
                    return reply;
                }
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                assert!(began.elapsed() < limit, "{caller}: the token was still accepted after {limit:?}");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
}

pub async fn read_reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply { status, headers, body }
}

/// Defines each test twice: on SQLite + in-process broker, and on PostgreSQL + Redis (when TEST_DATABASE_URL is
/// set; CI always sets it).
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.expect("sqlite app");
                    $body
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
                async fn postgres() {
                    let Some($app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await else {
                        return;
                    };
                    $body
                }
            }
        )*
    };
}

/// Shorthands for the chat routes, asserting success.
impl TestApp {
    pub async fn direct(&self, token: &str, other: i64) -> chat_server::protocol::Conversation {
        let reply = self
            .post("/api/conversations", Some(token), &serde_json::json!({"kind": "direct", "user_id": other}))
            .await;
        assert!(reply.status.is_success(), "direct: {}", reply.body);
        reply.json()
    }

    pub async fn group(&self, token: &str, title: &str, members: &[i64]) -> chat_server::protocol::Conversation {
        let reply = self
            .post(
                "/api/conversations",
                Some(token),
                &serde_json::json!({"kind": "group", "title": title, "member_ids": members}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "group: {}", reply.body);
        reply.json()
    }

    pub async fn send(&self, token: &str, conversation: i64, body: &str) -> chat_server::protocol::Message {
        let reply = self
            .post(
                &format!("/api/conversations/{conversation}/messages"),
                Some(token),
                &serde_json::json!({"body": body, "client_id": random_hex(8)}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "send: {}", reply.body);
        reply.json()
    }

    pub async fn history(&self, token: &str, conversation: i64, query: &str) -> chat_server::protocol::MessagePage {
        let reply = self.get(&format!("/api/conversations/{conversation}/messages{query}"), token).await;
        assert_eq!(reply.status, StatusCode::OK, "history: {}", reply.body);
        reply.json()
    }
}
