//! The browser pages and their assets, embedded in the binary from `web/` (read from disk
//! in debug builds, so a page can be edited without rebuilding).

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::AppState;
use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { asset("console/index.html") }))
        .route("/digest", get(|| async { asset("console/digest.html") }))
        .route("/chat", get(|| async { public_page("public/chat.html") }))
        .route(
            "/report",
            get(|| async { public_page("public/report.html") }),
        )
        .route(
            "/static/{*path}",
            get(|Path(path): Path<String>| async move { asset(&path) }),
        )
}

/// A page for the public: nothing of it may linger on a shared device or leak where the
/// visitor came from, so it is never cached and sends no referrer.
fn public_page(path: &str) -> Response {
    let mut response = asset(path);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn asset(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return AppError::NotFound(format!("no file {path}")).into_response();
    };
    let mut mime = file.metadata.mimetype().to_owned();
    // Our text files are UTF-8; say so rather than leave the browser to guess.
    if mime.starts_with("text/") && !mime.contains("charset") {
        mime.push_str("; charset=utf-8");
    }
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Pages and scripts change with each release and must never be served stale to a
    // console that reconnects after an upgrade.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
