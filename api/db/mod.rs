//! Storage: one pool over PostgreSQL or SQLite, chosen by the URL, and queries written once for both.
//!
//! diesel's `MultiConnection` does not work with diesel-async yet, so the two pools live in an enum and
//! [`with_conn!`] expands the same query body once per backend.

pub(crate) mod api_tokens;
pub mod attachments;
pub mod blocks;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod locks;
pub(crate) mod mentions;
pub(crate) mod messages;
pub mod models;
pub(crate) mod pins;
pub(crate) mod reactions;
pub(crate) mod receipts;
pub mod schema;
pub(crate) mod search;
pub(crate) mod sessions;
pub(crate) mod tickets;
pub(crate) mod timeline;
pub mod users;
pub(crate) mod webhooks;

use std::time::Duration;

use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Run `$body` with `$c` bound to the concrete diesel-async connection of whichever backend `$conn` holds.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pooled) => {
                let $c = &mut **pooled;
                $body
            }
            $crate::db::DbConn::Sqlite(pooled) => {
                let $c = &mut **pooled;
                $body
            }
        }
    };
}

/// Like [`with_conn!`], inside a transaction that writes: `BEGIN IMMEDIATE` on SQLite, so a transaction that
/// reads before it writes takes the write lock up front (waiting out `busy_timeout`) instead of failing at once
/// with SQLITE_BUSY when another writer committed in between; an ordinary transaction on PostgreSQL, where the
/// body's row locks do that job. The body returns `Result<_, E>` with `E: From<diesel::result::Error>`; an `Err`
/// rolls back.
#[macro_export]
macro_rules! write_transaction {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(pooled) => {
                let conn = &mut **pooled;
                diesel_async::AsyncConnection::transaction(conn, async |$c| $body).await
            }
            $crate::db::DbConn::Sqlite(pooled) => {
                let conn = &mut **pooled;
                conn.immediate_transaction(async |$c| $body).await
            }
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Which backend a `DATABASE_URL` names, and the location the driver wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(std::path::PathBuf),
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")).ok_or_else(|| {
            "DATABASE_URL must start with sqlite:// or postgres:// (for example sqlite://data/chat.db)".to_owned()
        })?;
        if path.is_empty() {
            return Err("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://data/chat.db".to_owned());
        }
        Ok(DatabaseUrl::Sqlite(path.into()))
    }
}

#[derive(Clone)]
pub enum DbPool {
    Postgres(Pool<AsyncPgConnection>),
    /// The pool, and the file: the message writer opens its own connection to it.
    Sqlite(Pool<SqliteConn>, std::sync::Arc<std::path::Path>),
}

/// A checked-out connection. Only one backend is in use per process, and a connection lives for one request or
/// one batch, so the size difference between the variants costs nothing worth a box (an allocation per checkout).
#[allow(clippy::large_enum_variant)]
pub enum DbConn {
    Postgres(Object<AsyncPgConnection>),
    Sqlite(Object<SqliteConn>),
}

// WAL lets readers run beside the one writer; busy_timeout makes a second writer wait instead of failing, and
// comes first so that even the journal_mode switch waits for a busy database.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// The message writer commits up to a few thousand times a second, each commit appending a handful of pages
/// to the WAL. Were it to checkpoint the WAL into the database itself (every 1000 pages by default), one commit
/// in a few hundred would wait for that copy and its fsync: that was the p99 of a light load. A thread of its own
/// copies the pages back instead ([`SqliteCheckpointer`]). Under steady writes its copy never quite catches up
/// with the newest commit, and only a fully copied WAL starts over from its beginning: so the writer still
/// checkpoints at this threshold (64 MiB of WAL, the file's most), but by then almost everything is copied.
const WRITER_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 16384;";

/// How often the checkpointer copies the WAL back into the database (PASSIVE: it never blocks the writer, and
/// it leaves frames a reader still needs for the next round).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Keeps SQLite's WAL short beside the message writer; stops when dropped.
pub struct SqliteCheckpointer {
    _stop: std::sync::mpsc::Sender<()>,
}

/// The database's directory (created 0700 if missing) and file (created 0600 before SQLite opens it, so the
/// -wal and -shm files SQLite makes get 0600 too; an existing looser file, or its -wal/-shm, is tightened).
fn prepare_sqlite_file(path: &std::path::Path) -> DbResult<()> {
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    let fail = |what: &std::path::Path, e: std::io::Error| {
        DbError::Unavailable(format!("cannot prepare {} privately: {e}", what.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir(dir).map_err(|e| fail(dir, e))?;
    }
    crate::private_files::ensure_file(path).map_err(|e| fail(path, e))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        crate::private_files::tighten(&side).map_err(|e| fail(&side, e))?;
    }
    Ok(())
}

impl DbPool {
    /// Build the pool and prove the database answers, so a bad URL fails at start and not on the first request.
    pub async fn connect(url: &DatabaseUrl, max_size: usize) -> DbResult<Self> {
        let pool = match url {
            DatabaseUrl::Postgres(url) => {
                // A PostgreSQL connection's I/O runs in a task on the runtime that opened it. Open them all on
                // this (the main, multi-threaded) runtime: opened from an HTTP worker, every query of the
                // message writer would wait for that busy worker thread to poll the socket.
                let runtime = tokio::runtime::Handle::current();
                let mut config = ManagerConfig::default();
                // No test query per checkout: it was a second round trip for every batch the writer stores. A
                // connection whose socket closed reports itself broken and is replaced; one that dies between
                // checkouts fails its first query, which the caller reports like any unreachable database.
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(move |url| {
                    let url = url.to_owned();
                    let opened = runtime.spawn(async move { AsyncPgConnection::establish(&url).await });
                    async move { opened.await.map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))? }
                        .boxed()
                });
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url.clone(), config);
                let pool = Pool::builder(manager)
                    .max_size(max_size)
                    // The connection used last is the one taken next: a few backends stay busy and warm (their
                    // caches, their process on a core) instead of every call waking a different one of the pool,
                    // which cost PostgreSQL about a fifth more CPU at light load (README, Benchmarks).
                    .queue_mode(deadpool::managed::QueueMode::Lifo)
                    .wait_timeout(Some(Duration::from_secs(5)))
                    .create_timeout(Some(Duration::from_secs(5)))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e| DbError::Unavailable(e.to_string()))?;
                DbPool::Postgres(pool)
            }
            DatabaseUrl::Sqlite(path) => {
                prepare_sqlite_file(path)?;
                let mut config = ManagerConfig::default();
                config.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    async move {
                        let mut conn = SqliteConn::establish(&url).await?;
                        conn.batch_execute(SQLITE_PRAGMAS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    }
                    .boxed()
                });
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    path.to_string_lossy().into_owned(),
                    config,
                );
                let pool = Pool::builder(manager)
                    .max_size(max_size)
                    .queue_mode(deadpool::managed::QueueMode::Lifo)
                    .wait_timeout(Some(Duration::from_secs(10)))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e| DbError::Unavailable(e.to_string()))?;
                DbPool::Sqlite(pool, path.as_path().into())
            }
        };
        pool.get().await?;
        Ok(pool)
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbPool::Postgres(_) => Backend::Postgres,
            DbPool::Sqlite(..) => Backend::Sqlite,
        }
    }

    pub async fn get(&self) -> DbResult<DbConn> {
        let started = std::time::Instant::now();
        let conn = match self {
            DbPool::Postgres(pool) => pool.get().await.map(DbConn::Postgres),
            DbPool::Sqlite(pool, _) => pool.get().await.map(DbConn::Sqlite),
        }
        .map_err(|e| DbError::Unavailable(e.to_string()));
        static POOL_WAIT: std::sync::LazyLock<metrics::Histogram> =
            std::sync::LazyLock::new(|| metrics::histogram!("chat_db_pool_wait_seconds"));
        POOL_WAIT.record(started.elapsed().as_secs_f64());
        conn
    }

    /// (connections open, connections idle).
    pub fn status(&self) -> (usize, usize) {
        let status = match self {
            DbPool::Postgres(pool) => pool.status(),
            DbPool::Sqlite(pool, _) => pool.status(),
        };
        (status.size, status.available)
    }

    /// Apply the embedded migrations of this backend. Needs a multi-threaded tokio runtime (the harness
    /// blocks in place).
    pub async fn migrate(&self) -> DbResult<()> {
        let conn = self.get().await?;
        let result = match conn {
            DbConn::Postgres(pooled) => {
                AsyncMigrationHarness::new(pooled).run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ())
            }
            DbConn::Sqlite(pooled) => {
                AsyncMigrationHarness::new(pooled).run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ())
            }
        };
        result.map_err(|e| DbError::Unavailable(format!("migration failed: {e}")))
    }

    /// SQLite's message writer: a connection of its own, outside the pool, for the one thread that stores every
    /// batch (None on PostgreSQL, where writers take pooled connections). Its checkpoints are left to
    /// [`DbPool::start_sqlite_checkpointer`], off the path of a commit.
    pub fn open_sqlite_writer(&self) -> DbResult<Option<SqliteConnection>> {
        let Some(mut conn) = self.open_sqlite_outside_pool("the message writer")? else { return Ok(None) };
        diesel::connection::SimpleConnection::batch_execute(&mut conn, WRITER_AUTOCHECKPOINT)?;
        Ok(Some(conn))
    }

    /// A synchronous connection to the SQLite file, set up like the pool's (None on PostgreSQL).
    fn open_sqlite_outside_pool(&self, purpose: &str) -> DbResult<Option<SqliteConnection>> {
        let DbPool::Sqlite(_, path) = self else { return Ok(None) };
        let path = path.to_string_lossy();
        let mut conn = <SqliteConnection as diesel::Connection>::establish(&path)
            .map_err(|e| DbError::Unavailable(format!("cannot open {path} for {purpose}: {e}")))?;
        diesel::connection::SimpleConnection::batch_execute(&mut conn, SQLITE_PRAGMAS)?;
        Ok(Some(conn))
    }

    /// Start the checkpointer thread that goes with [`DbPool::open_sqlite_writer`].
    pub fn start_sqlite_checkpointer(&self) -> DbResult<Option<SqliteCheckpointer>> {
        let Some(mut conn) = self.open_sqlite_outside_pool("checkpoints")? else { return Ok(None) };
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    if let Err(error) = diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "PRAGMA wal_checkpoint(PASSIVE);",
                    ) {
                        tracing::debug!(%error, "WAL checkpoint failed; tried again next round");
                    }
                }
            })
            .map_err(|e| DbError::Unavailable(format!("cannot start the SQLite checkpoint thread: {e}")))?;
        Ok(Some(SqliteCheckpointer { _stop: stop }))
    }

    /// A cheap round trip, for readiness.
    pub async fn ping(&self) -> DbResult<()> {
        let mut conn = self.get().await?;
        with_conn!(&mut conn, |c| c.batch_execute("SELECT 1").await)?;
        Ok(())
    }
}

/// Now, cut to microseconds: PostgreSQL keeps microseconds, so both backends then return the same instant.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now).naive_utc()
}
