//! The one error type of the crate and its JSON envelope.
//!
//! Every failure a client can see becomes `{"error":{"code":"…","message":"…"}}` with a fitting
//! status. Internal failures are logged with their detail and answered with a generic message,
//! so database text never leaks to a client.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request whose content breaks a rule; `field` names the offending input.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("the session has expired; log in again")]
    SessionExpired,
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("missing or invalid X-CSRF-Token header")]
    Csrf,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized | AppError::SessionExpired | AppError::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            AppError::Csrf | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Database(_)
            | AppError::Migration(_)
            | AppError::Config(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation { .. } => "validation_failed",
            AppError::Unauthorized => "unauthorized",
            AppError::SessionExpired => "session_expired",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Csrf => "csrf_failed",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Database(_)
            | AppError::Migration(_)
            | AppError::Config(_)
            | AppError::Internal(_) => "internal",
        }
    }

    /// The message a client may see: internal detail stays in the server log.
    fn public_message(&self) -> String {
        if self.status().is_server_error() {
            "internal server error".to_owned()
        } else {
            self.to_string()
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
                field: match self {
                    AppError::Validation { field, .. } => Some(field.clone()),
                    _ => None,
                },
            },
        }
    }
}

/// The error envelope of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(self.body())).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            // serde names the offending field ("unknown field `x`", "missing field `y`").
            JsonRejection::JsonDataError(e) => AppError::validation("body", e.body_text()),
            JsonRejection::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("invalid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("expected Content-Type: application/json".to_owned())
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<figment::Error> for AppError {
    fn from(e: figment::Error) -> Self {
        AppError::Config(e.to_string())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(format!("I/O: {e}"))
    }
}
