//! Wiring: settings → database → state → HTTP server on a listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{AuthKeys, Hasher, SessionLimits, revocations};
use crate::config::Settings;
use std::sync::Arc;

use crate::broker::Broker;
use crate::broker::local::LocalBroker;
use crate::broker::redis::RedisBroker;
use crate::chat::attachments::{Attachments, UploadLimits};
use crate::chat::live::DbStore;
use crate::chat::writer::{MessageWriter, WriterDrained};
use crate::db::{DbError, DbPool};
use crate::limits::RateLimits;
pub use crate::origins::AllowedOrigins;
use crate::realtime::mailbox::MailboxLimits;
use crate::realtime::quota::UserQuota;
use crate::realtime::store::HubStore;
use crate::realtime::{Hub, Realtime};
use crate::routes;
use crate::routes::middleware::{cors, log_request, security_headers};
use crate::state::{AppState, SocketLimits};

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
        let secret = crate::auth::secret::resolve(&settings).map_err(|e| StartupError::Config(e.to_string()))?;
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
        let on_revoked: crate::realtime::hub::OnRevoked =
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
        let (writer, writer_drained) = MessageWriter::start(db.clone(), realtime.clone())?;
        let delivered = crate::chat::receipts::DeliveredReceipts::start(db.clone(), realtime.clone());
        let hub = realtime.hub.clone();
        let hasher = Hasher::new(
            settings.password_hashes.unwrap_or_else(Hasher::default_permits),
            crate::auth::password::DEFAULT_PATIENCE,
        );
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
        let storage = crate::storage::Storage::open(settings.storage_url.as_deref(), &settings.data_dir)
            .map_err(|e| StartupError::Config(e.to_string()))?;
        tracing::info!(location = %storage.location, "attachments storage");
        if settings.redis_url.is_some() && settings.storage_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            tracing::warn!(
                "REDIS_URL is set (several instances) but attachments are kept on this machine's disk: files uploaded \
                 through one instance are not found through another; set CHAT_STORAGE_URL to a shared bucket"
            );
        }
        let upload_limits = UploadLimits {
            max_file_bytes: settings.max_upload_mb.saturating_mul(1024 * 1024),
            quota_bytes: settings.upload_quota_mb.saturating_mul(1024 * 1024),
            grace: Duration::from_secs_f64(settings.upload_grace_hours.max(0.0) * 3600.0),
        };
        let attachments = Attachments::new(storage, upload_limits, &settings.data_dir)
            .map_err(|e| StartupError::Config(format!("cannot prepare the upload spool under CHAT_DATA_DIR: {e}")))?;
        spawn_attachment_collector(db.clone(), attachments.clone());
        let state = web::Data::new(AppState {
            db,
            keys,
            hasher,
            realtime,
            writer,
            delivered,
            attachments,
            limits: RateLimits::new(&settings),
            sockets: SocketLimits {
                mailbox: MailboxLimits { frames: settings.ws_mailbox.max(8), bytes: settings.ws_queue_bytes.max(4096) },
                drain_timeout: Duration::from_secs(settings.ws_drain_secs.max(1)),
                ..SocketLimits::default()
            },
            quota: UserQuota::new(settings.max_sockets_per_user),
            searches: UserQuota::new(crate::chat::search::RUNNING_PER_USER),
            csp: origins.content_security_policy(),
            cookie_secure: !settings.insecure_cookies,
            origins,
        });
        let admin = match &settings.admin_bind {
            Some(addr) => Some(run_admin(addr, state.clone())?),
            None => None,
        };
        let server = run(listener, state, &settings)?;
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

    /// Serve until stopped, then wait (bounded) for the writer to store what was queued. An error when the
    /// writer did not finish in time (sends queued then may not be stored; their senders had no ack).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(admin) = &self.admin {
            admin.handle.stop(true).await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.writer_drained.wait()).await.is_err() {
            tracing::error!("the message writer did not drain within 10 s");
            served?;
            return Err(std::io::Error::other("the message writer did not drain within 10 s"));
        }
        served
    }
}

/// Removes unsent uploads past their grace period, now and then (every instance runs it; each upload is
/// removed by one of them).
fn spawn_attachment_collector(db: crate::db::DbPool, attachments: Attachments) {
    let every = (attachments.limits.grace / 4).clamp(Duration::from_secs(60), Duration::from_secs(600));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match crate::chat::attachments::collect_garbage(&db, &attachments).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "unsent uploads removed"),
                Err(error) => tracing::warn!(%error, "collecting unsent uploads failed; tried again later"),
            }
        }
    });
}

fn random_u32() -> u32 {
    let mut buf = [0u8; 4];
    // Only needs to differ between instances; a failed RNG falls back to the process id.
    match getrandom::fill(&mut buf) {
        Ok(()) => u32::from_le_bytes(buf),
        Err(_) => std::process::id(),
    }
}

/// The public listener. Every worker gets the same state.
fn run(listener: TcpListener, state: web::Data<AppState>, settings: &Settings) -> Result<Server, StartupError> {
    spawn_limit_sweeper(&state);
    let web_dir = settings.web_dir.clone();
    let openapi = crate::openapi::document();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(cors(&state.origins))
            .wrap(security_headers())
            .wrap_fn(log_request)
            .app_data(state.clone())
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
fn run_admin(addr: &str, state: web::Data<AppState>) -> Result<Admin, StartupError> {
    let fail = |source| StartupError::Bind { addr: format!("{addr} (CHAT_ADMIN_BIND)"), source };
    let listener = TcpListener::bind(addr).map_err(fail)?;
    let port = listener.local_addr().map_err(fail)?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
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

fn spawn_limit_sweeper(state: &web::Data<AppState>) {
    // A weak handle: holding the state would keep the message writer's handle alive after the server stopped,
    // and shutdown would wait its whole 10 s for a writer that cannot finish.
    let state = Arc::downgrade(&state.clone().into_inner());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let Some(state) = state.upgrade() else { break };
            state.limits.forget_idle();
        }
    });
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}
