//! The two migration sets must describe the same tables and columns.

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
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'";

const POSTGRES_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
    lower(is_nullable)::text AS nullable FROM information_schema.columns \
    WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%'";

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
async fn both_migration_sets_create_the_same_tables_and_columns() {
    let sqlite_store = Store::fresh(Backend::Sqlite).await.expect("sqlite store");
    let sqlite = columns(&sqlite_store).await;
    let tables: std::collections::BTreeSet<_> = sqlite.iter().map(|c| c.table_name.as_str()).collect();
    assert_eq!(
        tables.into_iter().collect::<Vec<_>>(),
        ["contacts", "conversations", "memberships", "messages", "refresh_tokens", "users"]
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
