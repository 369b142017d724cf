//! Wiring: settings → database → state → HTTP server on a listener (port 0 in tests).

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::dev::{Server, Service, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{AuthKeys, Hasher, SessionLimits, revocations};
use crate::config::Settings;
use std::sync::Arc;

use crate::broker::Broker;
use crate::broker::local::LocalBroker;
use crate::broker::redis::RedisBroker;
use crate::chat::live::DbStore;
use crate::chat::writer::{MessageWriter, WriterDrained};
use crate::db::{Backend, DbError, DbPool};
use crate::error::REQUEST_ID;
use crate::limits::RateLimits;
use crate::openapi::ApiDoc;
pub use crate::origins::AllowedOrigins;
use crate::realtime::mailbox::MailboxLimits;
use crate::realtime::quota::SocketQuota;
use crate::realtime::store::HubStore;
use crate::realtime::{Hub, Realtime};
use crate::routes;
use crate::ws::{SessionContext, SocketLimits};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

pub struct Application {
    port: u16,
    server: Server,
    admin: Option<Admin>,
    hub: Arc<Hub>,
    writer_drained: WriterDrained,
}

/// The admin listener (metrics and probes), running beside the application's.
struct Admin {
    port: u16,
    handle: actix_web::dev::ServerHandle,
}

/// Starts a graceful shutdown: sockets are told 1001 (reconnect elsewhere), then the server stops taking
/// connections and finishes in-flight requests; the message writer stores what is queued.
#[derive(Clone)]
pub struct Shutdown {
    hub: Arc<Hub>,
    server: actix_web::dev::ServerHandle,
    admin: Option<actix_web::dev::ServerHandle>,
}

impl Shutdown {
    pub async fn begin(&self) {
        tracing::info!(sockets = self.hub.socket_count(), "shutting down: closing sockets with 1001");
        self.hub.close_all(crate::protocol::close_code::GOING_AWAY);
        self.server.stop(true).await;
        if let Some(admin) = &self.admin {
            admin.stop(true).await;
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        // The recorder first: metric handles taken before it exists would record nowhere.
        crate::metrics::handle();
        let db = DbPool::connect(&settings.database_url, settings.db_pool_size).await?;
        db.migrate().await?;
        // After the database answered: a bad DATABASE_URL must not leave a generated key file behind.
        let secret = resolve_jwt_secret(&settings)?;
        let session_max_age = settings.session_max_days * 24.0 * 3600.0;
        if !(1.0..=36_500.0 * 24.0 * 3600.0).contains(&session_max_age) {
            return Err(StartupError::Config("CHAT_SESSION_MAX_DAYS must be between 1 second and 100 years".into()));
        }
        let keys = AuthKeys::new(
            &secret,
            Duration::from_secs(settings.access_token_ttl_secs),
            Duration::from_secs(settings.refresh_token_ttl_days * 24 * 3600),
        )
        .with_session_limits(SessionLimits {
            max_age: Duration::from_secs_f64(session_max_age),
            max_per_user: settings.max_sessions_per_user.max(1),
        });
        // Sessions revoked before this start still have valid access tokens out: remember them.
        let revocations = keys.revocations().clone();
        let watermark = revocations.load(&db).await?;
        if settings.redis_url.is_some() {
            // Instances share the database: learn each other's revocations from it.
            revocations::spawn_poller(revocations.clone(), db.clone(), watermark);
        } else {
            revocations::spawn_sweeper(revocations.clone());
        }
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|source| StartupError::Bind { addr: settings.bind.clone(), source })?;
        let port =
            listener.local_addr().map_err(|source| StartupError::Bind { addr: settings.bind.clone(), source })?.port();
        let instance_id = u64::from(random_u32());
        let store: Arc<dyn HubStore> = Arc::new(DbStore { db: db.clone() });
        // Revocations heard from other instances: refused here too, at once.
        let registry = revocations.clone();
        let on_revoked: Box<dyn Fn(i64, &[i64]) + Send + Sync> =
            Box::new(move |_, sessions| registry.record(sessions, crate::db::now()));
        let (hub, broker) = match &settings.redis_url {
            Some(url) => {
                let (redis, inbound) = RedisBroker::start(url, &settings.redis_prefix, instance_id)
                    .await
                    .map_err(|e| StartupError::Config(e.to_string()))?;
                let broker: Arc<dyn Broker> = redis;
                let hub = Hub::new(broker.clone(), store, on_revoked);
                crate::realtime::spawn_inbound(hub.clone(), inbound);
                (hub, broker)
            }
            None => {
                let broker: Arc<dyn Broker> = Arc::new(LocalBroker);
                (Hub::new(broker.clone(), store, on_revoked), broker)
            }
        };
        crate::realtime::spawn_presence_renewal(&hub, broker.clone());
        let realtime = Realtime::new(hub, broker, instance_id);
        // One writer per conversation shard: SQLite has one writer anyway; PostgreSQL commits in parallel.
        let shards = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let (writer, writer_drained) = MessageWriter::start(db.clone(), realtime.clone(), shards);
        let hub = realtime.hub.clone();
        let hasher = Hasher::new(
            settings.password_hashes.unwrap_or_else(Hasher::default_permits),
            crate::auth::password::DEFAULT_PATIENCE,
        );
        let admin = match &settings.admin_bind {
            Some(addr) => Some(run_admin(addr, db.clone(), realtime.clone())?),
            None => None,
        };
        let state = State { db, keys, hasher, realtime, writer };
        let origins = AllowedOrigins::new(&settings.public_origin, &settings.allowed_origins, port)
            .map_err(|e| StartupError::Config(format!("CHAT_PUBLIC_ORIGIN / CHAT_ALLOWED_ORIGINS: {e}")))?;
        if settings.public_origin.iter().all(|o| o.trim().is_empty())
            && !listener.local_addr().is_ok_and(|a| a.ip().is_loopback())
        {
            tracing::warn!(
                "CHAT_PUBLIC_ORIGIN is unset: browsers may open sockets only from this machine \
                 (http://127.0.0.1:{port}, http://localhost:{port}); set it to the address users open"
            );
        }
        let server = run(listener, state, origins, &settings)?;
        Ok(Application { port, server, admin, hub, writer_drained })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin listener's port, when there is one.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin.as_ref().map(|a| a.port)
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// This instance's routing tables (tests look at what they hold).
    pub fn hub(&self) -> Arc<Hub> {
        self.hub.clone()
    }

    pub fn admin_handle(&self) -> Option<actix_web::dev::ServerHandle> {
        self.admin.as_ref().map(|a| a.handle.clone())
    }

    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown { hub: self.hub.clone(), server: self.server.handle(), admin: self.admin_handle() }
    }

    /// Serve until stopped, then wait (bounded) for the writer to store what was queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(admin) = &self.admin {
            admin.handle.stop(true).await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.writer_drained.wait()).await.is_err() {
            tracing::error!("the message writer did not drain within 10 s");
        }
        served
    }
}

/// Everything the handlers share.
struct State {
    db: DbPool,
    keys: AuthKeys,
    hasher: Hasher,
    realtime: Realtime,
    writer: MessageWriter,
}

fn random_u32() -> u32 {
    let mut buf = [0u8; 4];
    // Only needs to differ between instances; a failed RNG falls back to the process id.
    match getrandom::fill(&mut buf) {
        Ok(()) => u32::from_le_bytes(buf),
        Err(_) => std::process::id(),
    }
}

fn run(
    listener: TcpListener,
    state: State,
    origins: AllowedOrigins,
    settings: &Settings,
) -> Result<Server, StartupError> {
    let db = web::Data::new(state.db.clone());
    let keys = web::Data::new(state.keys.clone());
    // One hasher for every worker: the bound is per process.
    let hasher = web::Data::new(state.hasher);
    let realtime = web::Data::new(state.realtime.clone());
    let limits = web::Data::new(RateLimits::new(settings));
    let socket_ctx = web::Data::new(Arc::new(SessionContext {
        db: state.db.clone(),
        keys: state.keys.clone(),
        realtime: state.realtime.clone(),
        writer: state.writer.clone(),
        limits: SocketLimits {
            mailbox: MailboxLimits { frames: settings.ws_mailbox.max(8), bytes: settings.ws_queue_bytes.max(4096) },
            drain_timeout: Duration::from_secs(settings.ws_drain_secs.max(1)),
            ..SocketLimits::default()
        },
        rate_limits: limits.clone(),
        quota: SocketQuota::new(settings.max_sockets_per_user),
    }));
    let writer = web::Data::new(state.writer);
    let csp = web::Data::new(ContentSecurityPolicy(origins.content_security_policy()));
    let origins = web::Data::new(origins);
    spawn_limit_sweeper(limits.clone());
    let web_dir = settings.web_dir.clone();
    let openapi = ApiDoc::openapi();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(cors(&origins))
            .wrap(security_headers())
            .wrap_fn(log_request)
            .app_data(limits.clone())
            .app_data(origins.clone())
            .app_data(csp.clone())
            .app_data(db.clone())
            .app_data(keys.clone())
            .app_data(hasher.clone())
            .app_data(realtime.clone())
            .app_data(writer.clone())
            .app_data(socket_ctx.clone())
            .route("/ws", web::get().to(crate::ws::upgrade))
            .route("/healthz", web::get().to(routes::health::healthz))
            .route("/readyz", web::get().to(routes::health::readyz))
            // Metrics are on the admin listener only; answered here (before the web client's fallback) as absent.
            .route("/metrics", web::to(routes::not_here))
            // Before the /api scope, whose default service would otherwise answer /api/openapi.json.
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", openapi.clone()))
            .route("/docs", web::get().to(redirect_to_docs))
            .service(web::scope("/api").configure(routes::configure).default_service(web::to(routes::api_not_found)))
            .configure(crate::web::configure(web_dir.clone()))
    })
    // Shutdown is ours (main listens for signals): sockets must get 1001 before the server stops.
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server =
        server.listen(listener).map_err(|source| StartupError::Bind { addr: settings.bind.clone(), source })?.run();
    Ok(server)
}

/// The admin listener: /metrics for Prometheus, and the probes, away from the public listener.
fn run_admin(addr: &str, db: DbPool, realtime: Realtime) -> Result<Admin, StartupError> {
    let fail = |source| StartupError::Bind { addr: format!("{addr} (CHAT_ADMIN_BIND)"), source };
    let listener = TcpListener::bind(addr).map_err(fail)?;
    let port = listener.local_addr().map_err(fail)?.port();
    let (db, realtime) = (web::Data::new(db), web::Data::new(realtime));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .app_data(realtime.clone())
            .route("/metrics", web::get().to(crate::metrics::render))
            .route("/healthz", web::get().to(routes::health::healthz))
            .route("/readyz", web::get().to(routes::health::readyz))
            .default_service(web::to(routes::not_here))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .map_err(fail)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(Admin { port, handle })
}

/// One line per request: method, path (never the query string, which may hold a token), status, latency.
/// Every request gets an id (the caller's `x-request-id` when it is a sane one), which its log lines, its error
/// body and its response carry; and one log line with method, path (never the query string, which may hold a
/// token), status and latency, plus the request metrics by route pattern.
fn log_request<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<actix_web::dev::ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::auth::service::random_token(9));
    let span = tracing::info_span!("request", id = %request_id);
    let response = REQUEST_ID.scope(request_id.clone(), srv.call(req).instrument(span.clone()));
    async move {
        let mut response = response.await;
        let (status, route) = match &response {
            Ok(res) => (res.status().as_u16(), res.request().match_pattern().unwrap_or_else(|| "unmatched".into())),
            Err(err) => (err.as_response_error().status_code().as_u16(), "unmatched".into()),
        };
        let elapsed = started.elapsed();
        span.in_scope(|| {
            tracing::info!(%method, %path, status, latency_us = elapsed.as_micros() as u64, "request");
        });
        metrics::counter!("chat_http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string())
            .increment(1);
        metrics::histogram!("chat_http_request_duration_seconds", "route" => route).record(elapsed.as_secs_f64());
        if let Ok(res) = &mut response {
            add_csp(res);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
            }
        }
        response
    }
}

/// CORS for the admitted origins only; any other origin gets no CORS headers (and its preflights are refused).
fn cors(origins: &AllowedOrigins) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers(["x-request-id"])
        .max_age(3600);
    for origin in origins.iter() {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The web client's Content-Security-Policy (built at start from the admitted origins).
#[derive(Clone)]
pub struct ContentSecurityPolicy(pub HeaderValue);

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// The web client's HTML gets the CSP (Swagger UI at /docs brings inline code of its own and keeps only
/// frame-ancestors).
fn add_csp<B>(res: &mut ServiceResponse<B>) {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        let policy = if res.request().path().starts_with("/docs") {
            HeaderValue::from_static("frame-ancestors 'none'")
        } else {
            match res.request().app_data::<web::Data<ContentSecurityPolicy>>() {
                Some(csp) => csp.0.clone(),
                None => HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
            }
        };
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
}

fn spawn_limit_sweeper(limits: web::Data<RateLimits>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.forget_idle();
        }
    });
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

/// JWT_SECRET when set; else a key generated once and kept in the data directory, so tokens survive restarts.
fn resolve_jwt_secret(settings: &Settings) -> Result<Vec<u8>, StartupError> {
    if let Some(secret) = &settings.jwt_secret {
        if secret.len() < 32 {
            return Err(StartupError::Config("JWT_SECRET must be at least 32 bytes long".into()));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    load_or_create_secret(&settings.data_dir.join("jwt_secret"))
}

fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, StartupError> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            // A key readable by others (from an older version, or a careless copy) is made private.
            crate::private_files::tighten(path)
                .map_err(|e| StartupError::Config(format!("cannot make {} private: {e}", path.display())))?;
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let secret = crate::auth::service::random_token(48);
    let fail = |e: std::io::Error| StartupError::Config(format!("cannot keep the JWT key at {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir(dir).map_err(fail)?;
    }
    write_private(path, &secret).map_err(fail)?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET is unset: generated a signing key and saved it there (instances sharing a database must share JWT_SECRET)"
    );
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
