//! The operational surface: the admin listener, origins, CSP, file modes.

use reqwest::StatusCode;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
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
