//! Events over plain HTTP, for clients that cannot hold a socket (and for catching up).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::events::Event;
use crate::events::subscription::REPLAY_PAGE;
use crate::http::extract::{ApiPath, ApiQuery, Reader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

/// Largest page a client may ask for.
pub const MAX_PAGE: i64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Return events with a sequence number greater than this (default 0: from the start).
    #[serde(default)]
    pub since: i64,
    /// Page size, 1–1000 (default 500). Ask again with the last `seq` for the next page.
    pub limit: Option<i64>,
}

/// Checks that the reader may read the stream and returns its canonical name.
pub fn authorize_stream(reader: &Reader, stream: &str) -> Result<StreamName> {
    let name: StreamName = stream.parse()?;
    if !reader.may_read(&name) {
        return Err(AppError::Forbidden(format!(
            "{} may not read stream {name}",
            reader.describe()
        )));
    }
    Ok(name)
}

/// Events of one stream after `since`, in order. Staff read with their session; a chat
/// client reads its own `chat:<id>` with `Authorization: Bearer <token>`. The `X-Stream-Head` header tells the
/// stream's last sequence number, so a client knows whether to page on.
#[utoipa::path(get, path = "/api/v1/streams/{stream}/events", tag = "events",
    params(("stream" = String, Path, description = "desk, team:<key>, chat:<id> or shelter"), EventsQuery),
    responses(
        (status = 200, description = "Events in sequence order", body = Vec<Event>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The role may not read this stream", body = ErrorBody),
        (status = 422, description = "Unknown stream or bad paging", body = ErrorBody),
    ))]
async fn stream_events(
    State(state): State<AppState>,
    reader: Reader,
    ApiPath(stream): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<(HeaderMap, Json<Vec<Event>>)> {
    let name = authorize_stream(&reader, &stream)?;
    if query.since < 0 {
        return Err(AppError::validation("since", "must be 0 or more"));
    }
    let limit = query.limit.unwrap_or(REPLAY_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("must be 1-{MAX_PAGE}"),
        ));
    }
    let name = name.to_string();
    let head = state.store.stream_head(&name).await?;
    let events = state.store.events_since(&name, query.since, limit).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-stream-head", head.into());
    Ok((headers, Json(events)))
}
