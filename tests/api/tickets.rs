//! Socket tickets: short-lived, single-use, redeemable on any instance, refused once their session ends.

use chat_server::db::DbPool;
use chat_server::protocol::{ServerFrame, WsTicket};
use reqwest::{Method, StatusCode};
use tokio_tungstenite::connect_async;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::WsClient;

async fn ticket(app: &TestApp, token: &str) -> WsTicket {
    let reply = app.request(Method::POST, "/api/ws-ticket", Some(token), None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

/// Open `/ws?ticket=…`: the socket, or the HTTP status and error code it was refused with.
async fn open(app: &TestApp, ticket: &str) -> Result<WsClient, (u16, String)> {
    match connect_async(format!("ws://127.0.0.1:{}/ws?ticket={ticket}", app.port)).await {
        Ok((stream, _)) => Ok(WsClient { stream }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body: serde_json::Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap_or_default();
            Err((response.status().as_u16(), body["error"]["code"].as_str().unwrap_or_default().to_owned()))
        }
        Err(other) => panic!("upgrade failed: {other}"),
    }
}

async fn outstanding(app: &TestApp) -> i64 {
    let pool = DbPool::connect(&app.store.as_ref().expect("own store").database_url(), 1).await.expect("pool");
    let mut conn = pool.get().await.expect("conn");
    chat_server::with_conn!(&mut conn, |c| {
        use diesel::QueryDsl;
        diesel_async::RunQueryDsl::get_result(chat_server::db::schema::ws_tickets::table.count(), c).await
    })
    .expect("count")
}

on_both_backends! {
    async fn a_ticket_opens_one_socket_once(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let issued = ticket(&app, &alice.access_token).await;
        assert_eq!(issued.expires_in, 30);
        assert!(issued.ticket.len() >= 40, "unguessable: {}", issued.ticket);
        let mut socket = open(&app, &issued.ticket).await.expect("the ticket opens a socket");
        // The socket is alice's: it gets her conversation's messages.
        app.send(&bob.access_token, chat.id, "hello ticket").await;
        let body = socket.expect("message", |f| match f {
            ServerFrame::Message { message } => Some(message.body.clone()),
            _ => None,
        }).await;
        assert_eq!(body, "hello ticket");
        assert_eq!(open(&app, &issued.ticket).await.err(), Some((401, "invalid_ticket".to_owned())), "single use");
        assert_eq!(open(&app, "made-up-ticket").await.err(), Some((401, "invalid_ticket".to_owned())));
    }

    async fn an_expired_ticket_is_refused_and_purged(app) {
        let user = app.register("carl").await;
        let issued = ticket(&app, &user.access_token).await;
        let pool = DbPool::connect(&app.store.as_ref().expect("own store").database_url(), 1).await.expect("pool");
        let mut conn = pool.get().await.expect("conn");
        // As if 30 seconds had passed.
        chat_server::with_conn!(&mut conn, |c| diesel_async::SimpleAsyncConnection::batch_execute(
            c, "UPDATE ws_tickets SET expires_at = '2000-01-01 00:00:00'").await).expect("age");
        ticket(&app, &app.register("dina").await.access_token).await;
        assert_eq!(outstanding(&app).await, 1, "issuing purges expired tickets");
        assert_eq!(open(&app, &issued.ticket).await.err(), Some((401, "invalid_ticket".to_owned())));
        let aged = ticket(&app, &user.access_token).await;
        chat_server::with_conn!(&mut conn, |c| diesel_async::SimpleAsyncConnection::batch_execute(
            c, "UPDATE ws_tickets SET expires_at = '2000-01-01 00:00:00'").await).expect("age");
        assert_eq!(open(&app, &aged.ticket).await.err(), Some((401, "invalid_ticket".to_owned())), "expired");
    }

    async fn hostile_a_ticket_of_an_ended_session_is_refused(app) {
        let user = app.register("erik").await;
        let issued = ticket(&app, &user.access_token).await;
        app.request(Method::POST, "/api/auth/logout", Some(&user.access_token), None).await;
        assert_eq!(open(&app, &issued.ticket).await.err(), Some((401, "session_revoked".to_owned())));
        // Nor can an ended session get new ones.
        let reply = app.request(Method::POST, "/api/ws-ticket", Some(&user.access_token), None).await;
        assert_eq!(reply.error_code(401), "session_revoked");
        let reply = app.request(Method::POST, "/api/ws-ticket", None, None).await;
        assert_eq!(reply.error_code(401), "unauthorized");
    }

    async fn at_most_ten_tickets_are_outstanding_per_user(app) {
        let user = app.register("fred").await;
        let first = ticket(&app, &user.access_token).await;
        let mut last = first.clone();
        for _ in 0..100 {
            last = ticket(&app, &user.access_token).await;
        }
        assert_eq!(outstanding(&app).await, 10);
        assert_eq!(open(&app, &first.ticket).await.err(), Some((401, "invalid_ticket".to_owned())), "the oldest went");
        assert!(open(&app, &last.ticket).await.is_ok(), "the newest works");
    }
}

/// Instances share the tickets: one issued on A opens a socket on B, and then is spent everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_ticket_issued_on_one_instance_is_redeemed_once_on_any() {
    let Some(a) = spawn_app(Backend::Postgres).await else { return };
    let b = a.sibling().await;
    let user = a.register("gus").await;
    let issued = ticket(&a, &user.access_token).await;
    assert!(open(&b, &issued.ticket).await.is_ok());
    assert_eq!(open(&a, &issued.ticket).await.err(), Some((401, "invalid_ticket".to_owned())));
    assert_eq!(open(&b, &issued.ticket).await.err(), Some((401, "invalid_ticket".to_owned())));
}
