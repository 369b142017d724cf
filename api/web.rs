//! The built web client: static files from the web directory, `index.html` for every other GET (SPA routing).

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::Method;
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::ApiError;

pub fn configure(web_dir: PathBuf) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let index = web_dir.join("index.html");
        if index.is_file() {
            cfg.service(
                Files::new("/", &web_dir)
                    .index_file("index.html")
                    .default_handler(fn_service(move |req: ServiceRequest| spa_fallback(req, index.clone()))),
            );
        } else {
            cfg.default_service(web::to(no_client));
        }
    }
}

async fn spa_fallback(req: ServiceRequest, index: PathBuf) -> Result<ServiceResponse, actix_web::Error> {
    let (req, _) = req.into_parts();
    let response = if req.method() == Method::GET || req.method() == Method::HEAD {
        serve_index(&index, &req).await
    } else {
        ApiError::MethodNotAllowed("GET, HEAD".into()).error_response()
    };
    Ok(ServiceResponse::new(req, response))
}

async fn serve_index(index: &Path, req: &actix_web::HttpRequest) -> HttpResponse {
    match NamedFile::open_async(index).await {
        Ok(file) => file.into_response(req),
        Err(_) => ApiError::NoRoute(req.path().to_owned()).error_response(),
    }
}

async fn no_client(req: actix_web::HttpRequest) -> HttpResponse {
    ApiError::NoRoute(format!("{} {}", req.method(), req.path())).error_response()
}
