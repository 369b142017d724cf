//! The two migration sets must describe the same tables and columns (apart from each backend's search index:
//! SQLite's FTS5 tables, PostgreSQL's `body_tsv` column).

use chat_server::db::{DbConn, DbPool};
use chat_server::with_conn;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

use crate::helpers::*;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, \
    CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'no' ELSE 'yes' END AS nullable \
    FROM sqlite_master m JOIN pragma_table_info(m.name) p \
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%' \
    AND m.name NOT LIKE 'messages_fts%'";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
    lower(is_nullable)::text AS nullable FROM information_schema.columns \
    WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%' AND column_name <> 'body_tsv'";

async fn columns(store: &Store) -> Vec<ColumnInfo> {
    let pool = DbPool::connect(&store.database_url(), 1).await.expect("connect");
    pool.migrate().await.expect("migrate");
    let mut conn = pool.get().await.expect("conn");
    let mut rows: Vec<ColumnInfo> = match &mut conn {
        DbConn::Postgres(_) => with_conn!(&mut conn, |c| diesel::sql_query(POSTGRES_COLUMNS).load(c).await),
        DbConn::Sqlite(_) => with_conn!(&mut conn, |c| diesel::sql_query(SQLITE_COLUMNS).load(c).await),
    }
    .expect("columns");
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn both_migration_sets_create_the_same_tables_and_columns() {
    let sqlite_store = Store::fresh(Backend::Sqlite).await.expect("sqlite store");
    let sqlite = columns(&sqlite_store).await;
    let tables: std::collections::BTreeSet<_> = sqlite.iter().map(|c| c.table_name.as_str()).collect();
    assert_eq!(
        tables.into_iter().collect::<Vec<_>>(),
        [
            "attachments",
            "blocks",
            "contacts",
            "conversations",
            "memberships",
            "mentions",
            "messages",
            "pins",
            "reactions",
            "refresh_tokens",
            "sessions",
            "users",
            "webhooks",
            "ws_tickets"
        ]
    );
    let Some(pg_store) = Store::fresh(Backend::Postgres).await else { return };
    let postgres = columns(&pg_store).await;
    assert_eq!(sqlite, postgres);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_twice_is_harmless() {
    let store = Store::fresh(Backend::Sqlite).await.expect("sqlite store");
    let pool = DbPool::connect(&store.database_url(), 1).await.expect("connect");
    pool.migrate().await.expect("first");
    pool.migrate().await.expect("second");
}

/// Sessions replaced refresh-token families: rows from before become one session per family, and their
/// tokens keep working (or keep being refused) as before.
async fn families_become_sessions(backend: Backend) {
    use chat_server::db::models::SessionRow;
    use chat_server::db::schema::{refresh_tokens, sessions};
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    use diesel_async::AsyncMigrationHarness;
    use diesel_migrations::MigrationHarness;

    let Some(store) = Store::fresh(backend).await else { return };
    let pool = DbPool::connect(&store.database_url(), 1).await.expect("connect");
    // Only the initial migration, as a database from before sessions.
    match pool.get().await.expect("conn") {
        DbConn::Postgres(pooled) => {
            AsyncMigrationHarness::new(pooled).run_next_migration(chat_server::db::POSTGRES_MIGRATIONS).map(|_| ())
        }
        DbConn::Sqlite(pooled) => {
            AsyncMigrationHarness::new(pooled).run_next_migration(chat_server::db::SQLITE_MIGRATIONS).map(|_| ())
        }
    }
    .expect("initial migration");
    let at = |hours_ago: i64| (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).format("%Y-%m-%d %H:%M:%S");
    let hash = |token: &str| chat_server::auth::service::hash_token(token);
    let rows = format!(
        "INSERT INTO users (username, display_name, password_hash, created_at) VALUES \
           ('old', 'Old', 'x', '{day}'), ('older', 'Older', 'x', '{day}'); \
         INSERT INTO refresh_tokens (user_id, token_hash, family_id, expires_at, used_at, revoked_at, created_at) VALUES \
           (1, '{spent}', 'fam-a', '{future}', '{h2}', NULL, '{h3}'), \
           (1, '{live}', 'fam-a', '{future}', NULL, NULL, '{h2}'), \
           (1, '{gone1}', 'fam-b', '{future}', '{h2}', '{h1}', '{h3}'), \
           (1, '{gone2}', 'fam-b', '{future}', NULL, '{h1}', '{h2}'), \
           (2, '{alone}', 'fam-c', '{future}', NULL, NULL, '{h1}');",
        day = at(48),
        h3 = at(3),
        h2 = at(2),
        h1 = at(1),
        future = (chrono::Utc::now() + chrono::Duration::days(20)).format("%Y-%m-%d %H:%M:%S"),
        spent = hash("legacy-spent"),
        live = hash("legacy-live"),
        gone1 = hash("legacy-gone-1"),
        gone2 = hash("legacy-gone-2"),
        alone = hash("legacy-alone"),
    );
    let mut conn = pool.get().await.expect("conn");
    with_conn!(&mut conn, |c| diesel_async::SimpleAsyncConnection::batch_execute(c, &rows).await).expect("old rows");
    drop(conn);
    pool.migrate().await.expect("the sessions migration");

    let mut conn = pool.get().await.expect("conn");
    let found: Vec<SessionRow> = with_conn!(&mut conn, |c| sessions::table
        .order(sessions::id.asc())
        .select(SessionRow::as_select())
        .load(c)
        .await)
    .expect("sessions");
    let tokens: Vec<(i64, i64)> = with_conn!(&mut conn, |c| refresh_tokens::table
        .order(refresh_tokens::id.asc())
        .select((refresh_tokens::id, refresh_tokens::session_id))
        .load(c)
        .await)
    .expect("tokens");
    assert_eq!(found.iter().map(|s| (s.id.get(), s.user_id.get())).collect::<Vec<_>>(), [(1, 1), (3, 1), (5, 2)]);
    assert_eq!(tokens, [(1, 1), (2, 1), (3, 3), (4, 3), (5, 5)], "each token belongs to its family's session");
    let (a, b, c) = (&found[0], &found[1], &found[2]);
    assert!(a.revoked_at.is_none() && c.revoked_at.is_none());
    assert!(b.revoked_at.is_some(), "a family whose every token was revoked is a revoked session");
    assert!(a.last_used_at > a.created_at, "last used: the family's newest token");
    assert_eq!(a.expires_at - a.created_at, chrono::Duration::days(90));
    drop(conn);
    drop(pool);

    // The server carries on with them; new sessions are numbered after the old ones.
    let settings = settings_for(&store);
    let app = spawn_with(store, settings).await;
    let reply = app.post("/api/auth/refresh", None, &serde_json::json!({"refresh_token": "legacy-live"})).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let session: chat_server::protocol::Session = reply.json();
    assert_eq!(session.session_id, 1);
    let reply = app.post("/api/auth/refresh", None, &serde_json::json!({"refresh_token": "legacy-gone-2"})).await;
    assert_eq!(reply.error_code(401), "invalid_refresh_token");
    let reply = app.post("/api/auth/refresh", None, &serde_json::json!({"refresh_token": "legacy-spent"})).await;
    assert_eq!(reply.error_code(401), "refresh_token_reused");
    let fresh = app.register("newcomer").await;
    assert!(fresh.session_id > 5, "{}", fresh.session_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_refresh_token_families_become_sessions() {
    families_become_sessions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refresh_token_families_become_sessions() {
    families_become_sessions(Backend::Postgres).await;
}

/// Every migration's down.sql undoes it: all the way back, and up again.
async fn migrations_revert_and_reapply(backend: Backend) {
    use diesel_async::AsyncMigrationHarness;
    use diesel_migrations::MigrationHarness;

    let Some(store) = Store::fresh(backend).await else { return };
    let pool = DbPool::connect(&store.database_url(), 1).await.expect("connect");
    pool.migrate().await.expect("up");
    match pool.get().await.expect("conn") {
        DbConn::Postgres(pooled) => {
            AsyncMigrationHarness::new(pooled).revert_all_migrations(chat_server::db::POSTGRES_MIGRATIONS).map(|_| ())
        }
        DbConn::Sqlite(pooled) => {
            AsyncMigrationHarness::new(pooled).revert_all_migrations(chat_server::db::SQLITE_MIGRATIONS).map(|_| ())
        }
    }
    .expect("down");
    assert!(columns_of(&pool).await.is_empty(), "nothing is left after reverting everything");
    pool.migrate().await.expect("up again");
    assert!(!columns_of(&pool).await.is_empty());
}

async fn columns_of(pool: &DbPool) -> Vec<ColumnInfo> {
    let mut conn = pool.get().await.expect("conn");
    match &mut conn {
        DbConn::Postgres(_) => with_conn!(&mut conn, |c| diesel::sql_query(POSTGRES_COLUMNS).load(c).await),
        DbConn::Sqlite(_) => with_conn!(&mut conn, |c| diesel::sql_query(SQLITE_COLUMNS).load(c).await),
    }
    .expect("columns")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_revert_and_reapply() {
    migrations_revert_and_reapply(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_revert_and_reapply() {
    migrations_revert_and_reapply(Backend::Postgres).await;
}
