//! What wraps every HTTP request: a request id and one log line (never the query string), request metrics by
//! route pattern, CORS for the admitted origins, and the security headers with the web client's CSP.

use std::time::Instant;

use actix_cors::Cors;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::web;
use tracing::Instrument;

use crate::error::REQUEST_ID;
use crate::origins::AllowedOrigins;
use crate::state::AppState;

/// One line per request: method, path (never the query string, which may hold a token), status, latency.
/// Every request gets an id (the caller's `x-request-id` when it is a sane one), which its log lines, its error
/// body and its response carry; and one log line with method, path (never the query string, which may hold a
/// token), status and latency, plus the request metrics by route pattern.
pub fn log_request<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<actix_web::dev::ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = loggable_path(req.path());
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

/// The path as logged: a webhook's URL is its secret, so only its route is.
fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/api/hooks/") {
        Some(_) => "/api/hooks/{secret}".to_owned(),
        None => path.to_owned(),
    }
}

/// CORS for the admitted origins only; any other origin gets no CORS headers (and its preflights are refused).
pub fn cors(origins: &AllowedOrigins) -> Cors {
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

pub fn security_headers() -> DefaultHeaders {
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
            match res.request().app_data::<web::Data<AppState>>() {
                Some(app) => app.csp.clone(),
                None => HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
            }
        };
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_webhook_secret_never_reaches_the_log() {
        assert_eq!(super::loggable_path("/api/hooks/chat_hook_secret"), "/api/hooks/{secret}");
        assert_eq!(super::loggable_path("/api/users/me"), "/api/users/me");
    }
}
