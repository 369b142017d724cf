//! The operational surface: the admin listener, origins, CSP, file modes.

use reqwest::StatusCode;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

/// The status a socket upgrade gets with these headers (101 when it opens).
async fn upgrade_status(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> u16 {
    let url = format!("ws://127.0.0.1:{}/ws?token={token}", app.port);
    let mut request = url.into_client_request().expect("request");
    for (key, value) in headers {
        request.headers_mut().insert(
            reqwest::header::HeaderName::from_bytes(key.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    match connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("upgrade failed: {other}"),
    }
}

async fn cors_origin(app: &TestApp, origin: &str) -> Option<String> {
    let res = app.client.get(format!("{}/healthz", app.address)).header("origin", origin).send().await.expect("req");
    res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

on_both_backends! {
    async fn hostile_a_forged_host_does_not_make_a_foreign_origin_same_origin(app) {
        let user = app.register("origin").await;
        let token = &user.access_token;
        // The page at evil.example sends its own Origin and claims the Host to match it.
        let forged = upgrade_status(&app, token, &[("origin", "https://evil.example"), ("host", "evil.example")]).await;
        assert_eq!(forged, 403);
        let forged = upgrade_status(&app, token, &[("origin", "http://evil.example"), ("host", "evil.example")]).await;
        assert_eq!(forged, 403);
        assert_eq!(cors_origin(&app, "https://evil.example").await, None);
        // The listener's own origins are admitted, whatever the Host says.
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            let origin = format!("http://{host}:{}", app.port);
            assert_eq!(upgrade_status(&app, token, &[("origin", &origin), ("host", "evil.example")]).await, 101, "{origin}");
            assert_eq!(cors_origin(&app, &origin).await.as_deref(), Some(origin.as_str()));
        }
        // Not a browser (no Origin): nothing to check.
        assert_eq!(upgrade_status(&app, token, &[]).await, 101);
    }

    async fn a_public_origin_replaces_the_defaults_for_sockets_and_cors(app) {
        let app = app.sibling_with(|s| {
            s.public_origin = vec!["https://chat.example.com/".into()];
            s.allowed_origins = vec!["http://dev.example:5173".into()];
        }).await;
        let user = app.register("public").await;
        let token = &user.access_token;
        for origin in ["https://chat.example.com", "http://dev.example:5173"] {
            assert_eq!(upgrade_status(&app, token, &[("origin", origin)]).await, 101, "{origin}");
            assert_eq!(cors_origin(&app, origin).await.as_deref(), Some(origin));
        }
        let local = format!("http://127.0.0.1:{}", app.port);
        assert_eq!(upgrade_status(&app, token, &[("origin", &local)]).await, 403);
        assert_eq!(cors_origin(&app, &local).await, None);
        let forged = upgrade_status(&app, token, &[("origin", "https://evil.example"), ("host", "chat.example.com")]).await;
        assert_eq!(forged, 403);
    }

    async fn the_web_clients_csp_connects_only_to_the_admitted_origins(app) {
        let web = std::env::temp_dir().join(format!("chat-web-{}", random_hex(6)));
        std::fs::create_dir_all(&web).expect("dir");
        std::fs::write(web.join("index.html"), "<!doctype html><title>Chat</title>").expect("index");
        let dir = web.clone();
        let app = app.sibling_with(move |s| {
            s.web_dir = dir;
            s.public_origin = vec!["https://chat.example.com".into()];
        }).await;
        let index = app.client.get(format!("{}/", app.address)).send().await.expect("index");
        let csp = index.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).expect("CSP").to_owned();
        let connect = csp.split(';').map(str::trim).find(|d| d.starts_with("connect-src")).expect("connect-src");
        assert_eq!(connect, "connect-src 'self' https://chat.example.com wss://chat.example.com");
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        let _ = std::fs::remove_dir_all(web);
    }

    async fn metrics_are_served_on_the_admin_listener_and_not_on_the_public_one(app) {
        // Without CHAT_ADMIN_BIND there is no admin listener, and the public one has no metrics.
        assert!(app.admin_address.is_none());
        let public = app.raw(reqwest::Method::GET, "/metrics", None, vec![]).await;
        assert_eq!(public.error_code(404), "not_found");
        let app = app.sibling_with(|s| s.admin_bind = Some("127.0.0.1:0".into())).await;
        let admin = app.admin_address.clone().expect("an admin listener");
        assert_ne!(admin, app.address);
        let public = app.raw(reqwest::Method::GET, "/metrics", None, vec![]).await;
        assert_eq!(public.error_code(404), "not_found");
        let metrics = app.client.get(format!("{admin}/metrics")).send().await.expect("metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        let content_type = metrics.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let text = metrics.text().await.expect("text");
        assert!(text.contains("# TYPE chat_open_sockets gauge"), "Prometheus text: {text}");
        // Load balancers keep their probes on the public listener; the admin one answers them too.
        for base in [&app.address, &admin] {
            for probe in ["/healthz", "/readyz"] {
                let res = app.client.get(format!("{base}{probe}")).send().await.expect("probe");
                assert_eq!(res.status(), StatusCode::OK, "{base}{probe}");
            }
        }
        // Nothing else is served there.
        let api = app.client.get(format!("{admin}/api/users/me")).send().await.expect("api");
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_origin_that_is_not_an_origin_stops_the_start() {
    for bad in ["chat.example.com", "https://chat.example.com/app", "ftp://chat.example.com"] {
        let store = Store::fresh(Backend::Sqlite).await.expect("store");
        let mut settings = settings_for(&store);
        settings.public_origin = vec![bad.into()];
        let Err(err) = chat_server::startup::Application::build(settings).await else {
            panic!("{bad} was accepted");
        };
        assert!(err.to_string().contains("CHAT_PUBLIC_ORIGIN"), "{err}");
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The SQLite database, its directory and the files SQLite adds beside it are the server's alone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_and_its_directory_are_private() {
    let root = std::env::temp_dir().join(format!("chat-modes-{}", random_hex(6)));
    std::fs::create_dir_all(&root).expect("root");
    let dir = root.join("db").join("nested");
    let store = Store::Sqlite(root.clone());
    let mut settings = settings_for(&store);
    settings.database_url = chat_server::db::DatabaseUrl::Sqlite(dir.join("chat.db"));
    let app = spawn_with(store, settings).await;
    app.register("private").await;
    assert_eq!(mode(&root.join("db")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    for file in ["chat.db", "chat.db-wal", "chat.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
}

/// A database file left readable by others (an older version, a careless copy) is tightened at start.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_looser_database_file_is_tightened_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let first = spawn_app(Backend::Sqlite).await.expect("app");
    first.register("before").await;
    let chat_server::db::DatabaseUrl::Sqlite(path) = first.settings.database_url.clone() else { unreachable!() };
    for file in ["chat.db", "chat.db-wal", "chat.db-shm"] {
        let side = path.with_file_name(file);
        if side.exists() {
            std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o644)).expect("loosen");
        }
    }
    // Another start on the same files.
    let app = first.sibling().await;
    assert_eq!(mode(&path), 0o600);
    for file in ["chat.db-wal", "chat.db-shm"] {
        let side = path.with_file_name(file);
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "{file}");
        }
    }
    app.login("before").await;
}

on_both_backends! {
    async fn a_generated_jwt_key_lives_in_a_private_data_directory(app) {
        let root = std::env::temp_dir().join(format!("chat-data-{}", random_hex(6)));
        let data = root.join("state");
        let dir = data.clone();
        let app = app.sibling_with(move |s| {
            s.jwt_secret = None;
            s.data_dir = dir;
        }).await;
        app.register("keyed").await;
        #[cfg(unix)]
        {
            assert_eq!(mode(&data), 0o700);
            assert_eq!(mode(&data.join("jwt_secret")), 0o600);
        }
        assert!(data.join("jwt_secret").is_file());
        let _ = std::fs::remove_dir_all(root);
    }
}
