//! Extractors: JSON/path/query whose rejections speak the error envelope, and the logged-in
//! session (with the CSRF check for writes).

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use cookie::Cookie;

use crate::AppState;
use crate::auth::session::{COOKIE_NAME, token_hash, tokens_match};
use crate::domain::account::User;
use crate::error::AppError;

/// `axum::Json` with rejections (bad JSON, unknown fields, too large) as `AppError`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

pub const CSRF_HEADER: &str = "x-csrf-token";

/// A logged-in user, from the session cookie. For methods that change state the request
/// must also carry the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub user: User,
    pub token_hash: String,
}

/// The raw session token from the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = session_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        let hash = token_hash(&token);
        let session = state
            .store
            .find_session(&hash)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if session.expires_at <= state.clock.now() {
            state.store.delete_session(&hash).await?;
            return Err(AppError::SessionExpired);
        }
        if !parts.method.is_safe() {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !tokens_match(given, &session.csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        Ok(CurrentSession {
            user: session.user,
            token_hash: hash,
        })
    }
}
