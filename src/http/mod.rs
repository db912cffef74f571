//! The HTTP surface: one router per feature, merged here with the shared layers (request
//! ids, tracing, metrics, body limits, the JSON error envelope) and the OpenAPI document.

mod access_log;
mod chats;
mod entries;
pub mod extract;
mod handovers;
mod health;
mod pages;
mod public_chat;
mod reports;
mod session;
mod shelter;

pub use shelter::referral_event;
pub(crate) mod streams;
mod telephony;
pub mod ws;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::{AppError, ErrorBody, ErrorDetail};
use crate::metrics::{RequestLabels, RouteLabels};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Päivystys API",
        description = "Realtime server of a 24/7 social and crisis on-call service. \
            Errors are always {\"error\":{\"code\",\"message\"}}. Writes made with the \
            session cookie need the X-CSRF-Token header from the login response."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&ChatTokenScheme),
    tags(
        (name = "session", description = "Login and accounts"),
        (name = "entries", description = "The shared live log of the on-call desk"),
        (name = "handovers", description = "Handovers to daytime teams with legal deadlines"),
        (name = "chat", description = "Anonymous client chat: the client's side (no login, a \
            bearer token) and the desk's risk-ranked queue"),
        (name = "reports", description = "Online reports from the public (no login): contact, \
            concern, child welfare and older-person reports, routed to a team by the next \
            working day"),
        (name = "access", description = "The access log: who processed a client's data \
            (Act 703/2023 § 11), for supervisors and administrators"),
        (name = "telephony", description = "Calls from the phone system (a signed webhook) \
            and the desk's view of them; the caller's number is never stored"),
        (name = "shelter", description = "The shelter: free places and referral codes for the \
            desk; the register itself for shelter staff only"),
        (name = "events", description = "Event streams: HTTP paging and the websocket"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

/// Declares the chat client's bearer token, which the public chat endpoints name.
struct ChatTokenScheme;

impl utoipa::Modify for ChatTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "chat_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token from POST /api/v1/public/chats; opens that chat only",
                    ))
                    .build(),
            ),
        );
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let common = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::router())
        .merge(streams::router())
        .merge(ws::router())
        .merge(health::router())
        .merge(shelter::capacity_router());
    // A shelter hosted alone serves its staff and the link, nothing of the desk.
    let features = if state.settings.shelter_only {
        common.merge(shelter::register_router())
    } else {
        let desk = common
            .merge(entries::router())
            .merge(handovers::router())
            .merge(chats::router())
            .merge(public_chat::router())
            .merge(reports::public_router())
            .merge(reports::staff_router())
            .merge(telephony::router())
            .merge(access_log::router())
            .merge(shelter::desk_router());
        match state.shelter {
            Some(_) => desk.merge(shelter::register_router()),
            None => desk,
        }
    };
    let (api, mut openapi) = features.split_for_parts();
    document_error_envelope(&mut openapi);
    let openapi = Arc::new(openapi);
    let body_limit = state.settings.body_limit_bytes;

    api.merge(pages::router())
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = Arc::clone(&openapi);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { AppError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), track_request))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings may carry tokens.
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .layer(middleware::map_response(json_error_envelope))
        .layer(middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// The pages load only their own scripts and styles (no inline code, no other origin), are
/// never framed, send no referrer, and, behind TLS, tell browsers to stay on TLS.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

async fn security_headers(State(state): State<AppState>, mut response: Response) -> Response {
    use axum::http::HeaderValue;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    set("content-security-policy", CONTENT_SECURITY_POLICY);
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "no-referrer");
    set("cross-origin-opener-policy", "same-origin");
    set("cross-origin-resource-policy", "same-origin");
    set(
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    let behind_tls = state.settings.cookie_secure
        || state
            .settings
            .public
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    if behind_tls {
        set(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// Every operation may also answer with an error not listed for it (a malformed path or
/// query 400, no JSON content type 415, a body over the limit 413, no session 401, a
/// database failure 500, …), always in the one envelope: the `default` response says so.
fn document_error_envelope(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let envelope = ResponseBuilder::new()
        .description(
            "Any other outcome: an error in the one envelope {\"error\":{\"code\",\"message\"}}",
        )
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| envelope.clone().into());
        }
    }
}

/// Counts and times every request by its route template.
async fn track_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Turns any error response that is not already JSON (axum's own rejections, 405, the body
/// limit layer's 413) into the one error envelope.
async fn json_error_envelope(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_error || is_json {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UPGRADE_REQUIRED => "upgrade_required",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: status.canonical_reason().unwrap_or("error").to_owned(),
            field: None,
            fields: None,
            retry_after: None,
        },
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut rebuilt = (status, axum::Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        rebuilt.headers_mut().insert(name, value.clone());
    }
    rebuilt
}
