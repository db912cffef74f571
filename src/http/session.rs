//! Login, logout and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{DateTime, Duration, Utc};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::password;
use crate::auth::session::{COOKIE_NAME, random_token, token_hash};
use crate::domain::account::{MAX_PASSWORD_BYTES, User};
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{ApiJson, ClientSource, CurrentSession, session_token};
use crate::presence::OnlineUser;
use crate::store::NewSession;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, current_session, logout))
        .routes(routes!(me))
        .routes(routes!(presence))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: User,
    /// Send back in `X-CSRF-Token` with every write made with the session cookie.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Logs in and sets the HttpOnly session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins for the account or from this \
            source; see Retry-After", body = ErrorBody),
        (status = 422, description = "Malformed request", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    source: ClientSource,
    request_headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<(HeaderMap, Json<LoginResponse>)> {
    // Oversized input is refused before any hashing work is spent on it.
    if request.username.len() > 64 || request.password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::InvalidCredentials);
    }
    let now = state.clock.now();
    state
        .login_throttle
        .check(&request.username, source.0, now)?;
    let found = state.store.find_credentials(&request.username).await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(request.password, stored_hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        state
            .login_throttle
            .failed(&request.username, source.0, now);
        tracing::warn!("failed login");
        return Err(AppError::InvalidCredentials);
    };
    state.login_throttle.succeeded(&request.username);

    // A new login replaces whatever session the browser had (no session fixation).
    if let Some(old) = session_token(&request_headers) {
        state.store.delete_session(&token_hash(&old)).await?;
    }
    let token = random_token();
    let csrf_token = random_token();
    let ttl = Duration::minutes(i64::from(state.settings.session_ttl_minutes));
    let expires_at = now + ttl;
    state
        .store
        .create_session(&NewSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: csrf_token.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(user = %user.username, role = %user.role, "logged in");

    let cookie = Cookie::build((COOKIE_NAME, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.cookie_secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(ttl.num_seconds()));
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, header_value(&cookie.to_string())?);
    Ok((
        headers,
        Json(LoginResponse {
            user,
            csrf_token,
            expires_at,
        }),
    ))
}

/// Logs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    params(("X-CSRF-Token" = String, Header, description = "CSRF token from login")),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Missing or wrong CSRF token", body = ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<(StatusCode, HeaderMap)> {
    state.store.delete_session(&session.token_hash).await?;
    let cookie = Cookie::build((COOKIE_NAME, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.cookie_secure)
        .path("/")
        .max_age(cookie::time::Duration::ZERO);
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, header_value(&cookie.to_string())?);
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The current session with its CSRF token, so a reloaded console can go on writing.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses(
        (status = 200, description = "The session", body = LoginResponse),
        (status = 401, description = "Not logged in or session expired", body = ErrorBody),
    ))]
async fn current_session(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<LoginResponse>> {
    let record = state
        .store
        .find_session(&session.token_hash)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Json(LoginResponse {
        user: record.user,
        csrf_token: record.csrf_token,
        expires_at: record.expires_at,
    }))
}

/// Desk workers with an open console right now.
#[utoipa::path(get, path = "/api/v1/presence", tag = "session",
    responses(
        (status = 200, description = "Who is on shift", body = Vec<OnlineUser>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
    ))]
async fn presence(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Vec<OnlineUser>>> {
    if !session.user.role.is_desk() {
        return Err(AppError::Forbidden("presence is for the desk".into()));
    }
    Ok(Json(state.presence.online().as_ref().clone()))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses(
        (status = 200, description = "The logged-in user", body = User),
        (status = 401, description = "Not logged in or session expired", body = ErrorBody),
    ))]
async fn me(session: CurrentSession) -> Json<User> {
    Json(session.user)
}

fn header_value(text: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(text).map_err(|e| AppError::Internal(format!("bad header: {e}")))
}
