//! The live log over HTTP: create, read, edit with optimistic versions, claim and release,
//! history, and the board's list with filters and search.

use axum::Json;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access::{self, ReasonQuery};
use crate::domain::account::User;
use crate::domain::entry::{
    self, Category, Change, Entry, EntryFilter, EntryPatch, EntrySummary, NewEntry, Person,
    Revision, Status, Urgency, desk_event,
};
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, DeskSession, etag, if_match, list_limit, stream_head_header,
};
use crate::store::{AccessAction, AccessResult, Inserted, Updated};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_entries, create_entry))
        .routes(routes!(get_entry, patch_entry))
        .routes(routes!(claim_entry))
        .routes(routes!(release_entry))
        .routes(routes!(entry_history))
}

/// Reads and writes of an entry about a named person go to the access log.
async fn log_if_identified(
    state: &AppState,
    user: &User,
    entry: &Entry,
    action: AccessAction,
) -> Result<()> {
    if entry.subject.is_identified() {
        access::record(
            state,
            user,
            action,
            "entry",
            &entry.id.to_string(),
            AccessResult::Allowed,
        )
        .await?;
    }
    Ok(())
}

async fn load(state: &AppState, id: Uuid) -> Result<Entry> {
    state
        .store
        .get_entry(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no entry {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open`, `in_progress`, `waiting`, `closed`, or `all`; default: everything not closed.
    pub status: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    /// Only entries I logged or am handling.
    #[serde(default)]
    pub mine: bool,
    /// Words that must all appear in the summary, notes, actions or alias.
    pub q: Option<String>,
    /// Only contacts that began at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// 1–500, default 200.
    pub limit: Option<i64>,
}

/// The board: open entries, most urgent first, then newest. `X-Stream-Head` is the desk
/// stream's head read before the list, so subscribing from it misses nothing.
#[utoipa::path(get, path = "/api/v1/entries", tag = "entries", params(ListQuery),
    responses(
        (status = 200, description = "Entries as the board shows them", body = Vec<EntrySummary>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
        (status = 422, description = "Unknown filter value", body = ErrorBody),
    ))]
async fn list_entries(
    State(state): State<AppState>,
    session: DeskSession,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, Json<Vec<EntrySummary>>)> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some("all") => Some(None),
        Some(s) => Some(Some(Status::parse_field(s, "status")?)),
    };
    let q = query.q.unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(AppError::validation("q", "at most 200 characters"));
    }
    let limit = list_limit(query.limit)?;
    let headers = stream_head_header(&state, &StreamName::Desk).await?;
    let filter = EntryFilter {
        status: status.flatten(),
        include_all: matches!(status, Some(None)),
        category: query
            .category
            .filter(|c| !c.is_empty())
            .map(|c| Category::parse_field(&c, "category"))
            .transpose()?,
        urgency: query
            .urgency
            .filter(|u| !u.is_empty())
            .map(|u| Urgency::parse_field(&u, "urgency"))
            .transpose()?,
        mine_of: query.mine.then_some(session.user.id),
        words: q
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        since: query.since,
        limit,
    };
    let entries = state.store.list_entries(&filter).await?;
    Ok((headers, Json(entries.iter().map(Entry::summary).collect())))
}

/// Logs a contact. Send a client-generated `id`: a retry after a lost answer returns the
/// same entry (200) instead of a second one.
#[utoipa::path(post, path = "/api/v1/entries", tag = "entries", request_body = NewEntry,
    responses(
        (status = 201, description = "Logged", body = Entry),
        (status = 200, description = "Already logged under this id (a retry)", body = Entry),
        (status = 403, description = "Not a desk role, or CSRF token missing", body = ErrorBody),
        (status = 422, description = "Invalid field (named in `field`)", body = ErrorBody),
    ))]
async fn create_entry(
    State(state): State<AppState>,
    session: DeskSession,
    ApiJson(request): ApiJson<NewEntry>,
) -> Result<(StatusCode, HeaderMap, Json<Entry>)> {
    let entry = request.into_entry(&session.user, state.clock.now())?;
    let inserted = state
        .store
        .insert_entry(&entry, &[desk_event(&entry, Change::Created)])
        .await?;
    let (status, entry) = match inserted {
        Inserted::Created => (StatusCode::CREATED, entry),
        Inserted::Existing(existing) => (StatusCode::OK, *existing),
    };
    log_if_identified(&state, &session.user, &entry, AccessAction::Write).await?;
    let mut headers = etag(entry.version);
    headers.insert(
        LOCATION,
        HeaderValue::from_str(&format!("/api/v1/entries/{}", entry.id))
            .expect("a UUID path is a valid header"),
    );
    Ok((status, headers, Json(entry)))
}

/// One entry in full. Reading an entry about a named person is access-logged.
#[utoipa::path(get, path = "/api/v1/entries/{id}", tag = "entries",
    params(("id" = Uuid, Path), ReasonQuery),
    responses(
        (status = 200, description = "The entry; `ETag` is its version", body = Entry),
        (status = 403, description = "`reason_required`: a named client's entry outside one's own work", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
    ))]
async fn get_entry(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ReasonQuery>,
) -> Result<(HeaderMap, Json<Entry>)> {
    let entry = load(&state, id).await?;
    access::read_entry(
        &state,
        &session.user,
        &entry,
        query.reason.as_deref(),
        access::Flag::Supervisors,
    )
    .await?;
    Ok((etag(entry.version), Json(entry)))
}

/// Changes an entry. `If-Match` must name the version the edit was based on; a colleague's
/// newer save answers 409 `version_conflict` and nothing is overwritten.
#[utoipa::path(patch, path = "/api/v1/entries/{id}", tag = "entries",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The version edited")),
    request_body = EntryPatch,
    responses(
        (status = 200, description = "Saved as the next version", body = Entry),
        (status = 409, description = "The entry changed meanwhile", body = ErrorBody),
        (status = 428, description = "If-Match missing", body = ErrorBody),
    ))]
async fn patch_entry(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<EntryPatch>,
) -> Result<(HeaderMap, Json<Entry>)> {
    let expected = if_match(&headers)?;
    let current = load(&state, id).await?;
    if current.version != expected {
        return Err(AppError::VersionConflict {
            given: expected,
            current: current.version,
        });
    }
    let saved = match patch.apply(&current, state.clock.now())? {
        Some((next, change)) => save(&state, &session.user, &next, change).await?,
        None => current,
    };
    Ok((etag(saved.version), Json(saved)))
}

async fn save(state: &AppState, user: &User, next: &Entry, change: Change) -> Result<Entry> {
    let by = Person::from(user);
    match state
        .store
        .update_entry(next, change, &by, &[desk_event(next, change)])
        .await?
    {
        Updated::Saved => {
            log_if_identified(state, user, next, AccessAction::Write).await?;
            Ok(next.clone())
        }
        Updated::Stale(current) => Err(AppError::VersionConflict {
            given: next.version - 1,
            current: current.version,
        }),
    }
}

/// Claim and release are decided on the current version; a concurrent save just means
/// deciding again on the newer one.
async fn claim_or_release(
    state: &AppState,
    user: &User,
    id: Uuid,
    decide: fn(&Entry, &User, DateTime<Utc>) -> Result<Option<Entry>>,
    change: Change,
) -> Result<Entry> {
    for _ in 0..5 {
        let current = load(state, id).await?;
        let Some(next) = decide(&current, user, state.clock.now())? else {
            return Ok(current);
        };
        match save(state, user, &next, change).await {
            Err(AppError::VersionConflict { .. }) => continue,
            other => return other,
        }
    }
    Err(AppError::Conflict(
        "the entry keeps changing; try again".into(),
    ))
}

/// "I'm on it": marks the entry as handled by me (409 if a colleague already is).
#[utoipa::path(post, path = "/api/v1/entries/{id}/claim", tag = "entries",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Claimed", body = Entry),
        (status = 409, description = "A colleague is handling it, or it is closed", body = ErrorBody),
    ))]
async fn claim_entry(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Entry>> {
    claim_or_release(&state, &session.user, id, entry::claim, Change::Claimed)
        .await
        .map(Json)
}

/// Gives the entry back to the desk (the holder, or a supervisor).
#[utoipa::path(post, path = "/api/v1/entries/{id}/release", tag = "entries",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Released", body = Entry),
        (status = 403, description = "Held by someone else", body = ErrorBody),
    ))]
async fn release_entry(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Entry>> {
    claim_or_release(&state, &session.user, id, entry::release, Change::Released)
        .await
        .map(Json)
}

/// Every kept version, oldest first: corrections never erase the earlier text.
#[utoipa::path(get, path = "/api/v1/entries/{id}/history", tag = "entries",
    params(("id" = Uuid, Path), ReasonQuery),
    responses(
        (status = 200, description = "The versions", body = Vec<Revision>),
        (status = 403, description = "`reason_required`: a named client's entry outside one's own work", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
    ))]
async fn entry_history(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ReasonQuery>,
) -> Result<Json<Vec<Revision>>> {
    let revisions = state.store.entry_revisions(id).await?;
    let Some(latest) = revisions.last() else {
        return Err(AppError::NotFound(format!("no entry {id}")));
    };
    // Named in any version counts: the earlier text may hold the name.
    let mut named = latest.entry.clone();
    if let Some(r) = revisions.iter().find(|r| r.entry.subject.is_identified()) {
        named.subject = r.entry.subject.clone();
    }
    access::read_entry(
        &state,
        &session.user,
        &named,
        query.reason.as_deref(),
        access::Flag::LogOnly,
    )
    .await?;
    Ok(Json(revisions))
}
