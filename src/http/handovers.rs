//! Handovers to daytime teams: created from an entry by the desk, worked from the team's
//! inbox (acknowledge, done, forward, return a question), answered by the desk.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::domain::account::{Team, User};
use crate::domain::entry::{Entry, Subject};
use crate::domain::handover::{self, Action, Handover, NewHandover};
use crate::domain::roles::Role;
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, CurrentSession, DeskSession, stream_head_header,
};
use crate::store::{AccessAction, AccessResult, HandoverFilter, Inserted, Updated};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_handover, entry_handovers))
        .routes(routes!(team_inbox))
        .routes(routes!(all_handovers))
        .routes(routes!(team_digest))
        .routes(routes!(list_teams))
        .routes(routes!(get_handover))
        .routes(routes!(acknowledge))
        .routes(routes!(mark_done))
        .routes(routes!(forward))
        .routes(routes!(return_to_desk))
        .routes(routes!(answer))
}

/// A team's inbox and digest: its own members, and the desk.
fn require_team_reader(user: &User, team: &str) -> Result<()> {
    let allowed = match user.role {
        Role::Oncall | Role::Supervisor => true,
        Role::Team => user.team.as_deref() == Some(team),
        Role::Shelter | Role::Admin => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "{} may not read the handovers of {team}",
            user.username
        )))
    }
}

async fn load(state: &AppState, id: Uuid) -> Result<Handover> {
    state
        .store
        .get_handover(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no handover {id}")))
}

/// Hands an entry over to a daytime team. The deadline comes from the team's office hours
/// and the working-day calendar; a child welfare entry starts the LsL § 26 clock.
#[utoipa::path(post, path = "/api/v1/entries/{id}/handovers", tag = "handovers",
    params(("id" = Uuid, Path)), request_body = NewHandover,
    responses(
        (status = 201, description = "Handed over", body = Handover),
        (status = 200, description = "Already handed over under this id (a retry)", body = Handover),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 422, description = "Unknown team or empty note", body = ErrorBody),
    ))]
async fn create_handover(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<NewHandover>,
) -> Result<(StatusCode, Json<Handover>)> {
    let entry = state
        .store
        .get_entry(entry_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no entry {entry_id}")))?;
    if state.store.get_team(&request.team).await?.is_none() {
        return Err(AppError::validation(
            "team",
            format!("no team {:?}", request.team),
        ));
    }
    let hours = state.office_hours(&request.team);
    let handover = request.into_handover(
        &entry,
        &session.user,
        &state.calendar,
        &hours,
        state.clock.now(),
    )?;
    let events = handover::events(&handover, "handover.created");
    match state.store.insert_handover(&handover, &events).await? {
        Inserted::Created => Ok((StatusCode::CREATED, Json(handover))),
        Inserted::Existing(existing) => Ok((StatusCode::OK, Json(*existing))),
    }
}

/// The handovers made from one entry.
#[utoipa::path(get, path = "/api/v1/entries/{id}/handovers", tag = "handovers",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Handovers of the entry", body = Vec<Handover>)))]
async fn entry_handovers(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> Result<Json<Vec<Handover>>> {
    let filter = HandoverFilter {
        entry: Some(entry_id),
        limit: 100,
        ..HandoverFilter::default()
    };
    Ok(Json(state.store.list_handovers(&filter).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `open` (default: pending, acknowledged, returned) or `all`.
    pub state: Option<String>,
}

/// A team's inbox: open handovers first, by due time. Team members see only their own team.
#[utoipa::path(get, path = "/api/v1/teams/{key}/handovers", tag = "handovers",
    params(("key" = String, Path), InboxQuery),
    responses(
        (status = 200, description = "The inbox", body = Vec<Handover>),
        (status = 403, description = "Another team's inbox", body = ErrorBody),
    ))]
async fn team_inbox(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(team): ApiPath<String>,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<(HeaderMap, Json<Vec<Handover>>)> {
    require_team_reader(&session.user, &team)?;
    let stream = StreamName::Team(team.clone());
    let filter = HandoverFilter {
        team: Some(team),
        open_only: open_only(query.state.as_deref())?,
        limit: 500,
        ..HandoverFilter::default()
    };
    listed_with_head(&state, &stream, &filter).await
}

/// Every team's handovers, for the desk's "pending handovers" view and the supervisor.
#[utoipa::path(get, path = "/api/v1/handovers", tag = "handovers", params(InboxQuery),
    responses(
        (status = 200, description = "Open handovers first, by due time", body = Vec<Handover>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
    ))]
async fn all_handovers(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<(HeaderMap, Json<Vec<Handover>>)> {
    let filter = HandoverFilter {
        open_only: open_only(query.state.as_deref())?,
        limit: 500,
        ..HandoverFilter::default()
    };
    listed_with_head(&state, &StreamName::Desk, &filter).await
}

/// The daytime teams with their names in Finnish, Swedish and English.
#[utoipa::path(get, path = "/api/v1/teams", tag = "handovers",
    responses((status = 200, description = "The teams", body = Vec<Team>)))]
async fn list_teams(
    State(state): State<AppState>,
    _session: CurrentSession,
) -> Result<Json<Vec<Team>>> {
    Ok(Json(state.store.list_teams().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DigestQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Digest {
    pub team: String,
    /// The close of the team's office hours on its last working day: the digest holds
    /// everything handed over since.
    pub since: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub items: Vec<HandoverWithEntry>,
}

/// The morning digest: everything handed over to the team since its office last closed,
/// with the night's entries, as JSON or CSV. An export: logged for named clients.
#[utoipa::path(get, path = "/api/v1/teams/{key}/digest", tag = "handovers",
    params(("key" = String, Path), DigestQuery),
    responses(
        (status = 200, description = "The digest (JSON, or CSV with format=csv)",
            content((Digest = "application/json"), (String = "text/csv"))),
        (status = 403, description = "Another team's digest", body = ErrorBody),
    ))]
async fn team_digest(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(team): ApiPath<String>,
    ApiQuery(query): ApiQuery<DigestQuery>,
) -> Result<Response> {
    require_team_reader(&session.user, &team)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(AppError::validation(
                "format",
                format!("unknown format {other:?}; use json or csv"),
            ));
        }
    };
    let now = state.clock.now();
    let since = handover::digest_since(&state.calendar, &state.office_hours(&team), now);
    let filter = HandoverFilter {
        team: Some(team.clone()),
        created_since: Some(since),
        limit: 1000,
        ..HandoverFilter::default()
    };
    let mut items = Vec::new();
    for handover in state.store.list_handovers(&filter).await? {
        let Some(entry) = state.store.get_entry(handover.entry_id).await? else {
            continue;
        };
        if entry.subject.is_identified() {
            access::record(
                &state,
                &session.user,
                AccessAction::Export,
                "entry",
                &entry.id.to_string(),
                AccessResult::Allowed,
            )
            .await?;
        }
        items.push(HandoverWithEntry { handover, entry });
    }
    items.sort_by_key(|i| i.handover.created_at);
    let digest = Digest {
        team,
        since,
        generated_at: now,
        items,
    };
    if csv {
        let body = digest_csv(&digest)?;
        let filename = format!(
            "attachment; filename=\"digest-{}-{}.csv\"",
            digest.team,
            now.with_timezone(&Helsinki).format("%Y-%m-%d")
        );
        return Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, filename),
            ],
            body,
        )
            .into_response());
    }
    Ok(Json(digest).into_response())
}

/// One row per handover, times in Helsinki time, for a spreadsheet or the morning meeting.
fn digest_csv(digest: &Digest) -> Result<String> {
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&Helsinki)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
    out.write_record([
        "handed_over",
        "due",
        "legal_due",
        "urgent",
        "state",
        "by",
        "channel",
        "category",
        "urgency",
        "subject",
        "summary",
        "note",
    ])
    .map_err(csv_error)?;
    for item in &digest.items {
        let (h, e) = (&item.handover, &item.entry);
        let subject = match &e.subject {
            Subject::Anonymous(a) => a.alias.clone(),
            Subject::Identified(p) => match p.birth_date {
                Some(born) => format!("{} ({born})", p.name),
                None => p.name.clone(),
            },
        };
        out.write_record([
            local(h.created_at),
            local(h.due_at),
            h.legal_due_at.map(local).unwrap_or_default(),
            if h.urgent { "yes" } else { "no" }.to_owned(),
            h.state.as_str().to_owned(),
            h.created_by.name.clone(),
            e.channel.as_str().to_owned(),
            e.category.as_str().to_owned(),
            e.urgency.as_str().to_owned(),
            subject,
            e.summary.clone(),
            h.note.clone(),
        ])
        .map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("CSV: {e}")))
}

/// A list with `X-Stream-Head` (see `stream_head_header`).
async fn listed_with_head(
    state: &AppState,
    stream: &StreamName,
    filter: &HandoverFilter,
) -> Result<(HeaderMap, Json<Vec<Handover>>)> {
    let headers = stream_head_header(state, stream).await?;
    let handovers = state.store.list_handovers(filter).await?;
    Ok((headers, Json(handovers)))
}

fn open_only(filter: Option<&str>) -> Result<bool> {
    match filter {
        None | Some("open") => Ok(true),
        Some("all") => Ok(false),
        Some(other) => Err(AppError::validation(
            "state",
            format!("unknown state filter {other:?}; use open or all"),
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverWithEntry {
    pub handover: Handover,
    /// The night's entry, readable by the team it was handed to.
    pub entry: Entry,
}

/// One handover with the entry it came from (reading a named person's entry is logged).
#[utoipa::path(get, path = "/api/v1/handovers/{id}", tag = "handovers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The handover and its entry", body = HandoverWithEntry),
        (status = 403, description = "Another team's handover", body = ErrorBody),
        (status = 404, description = "No such handover", body = ErrorBody),
    ))]
async fn get_handover(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<HandoverWithEntry>> {
    let handover = load(&state, id).await?;
    if !handover::may_read(&session.user, &handover) {
        access::record(
            &state,
            &session.user,
            AccessAction::Read,
            "handover",
            &id.to_string(),
            AccessResult::Refused,
        )
        .await?;
        return Err(AppError::Forbidden(
            "this handover belongs to another team".into(),
        ));
    }
    let entry = state
        .store
        .get_entry(handover.entry_id)
        .await?
        .ok_or_else(|| AppError::Internal("a handover without its entry".into()))?;
    if entry.subject.is_identified() {
        access::record(
            &state,
            &session.user,
            AccessAction::Read,
            "entry",
            &entry.id.to_string(),
            AccessResult::Allowed,
        )
        .await?;
    }
    Ok(Json(HandoverWithEntry { handover, entry }))
}

/// Applies an action, deciding again on a newer version if someone saved meanwhile.
async fn act(state: &AppState, user: &User, id: Uuid, action: Action) -> Result<Handover> {
    for _ in 0..5 {
        let current = load(state, id).await?;
        if !handover::may_act(user, &current, &action) {
            return Err(AppError::Forbidden(
                "only the receiving team (or a supervisor) acts on this handover".into(),
            ));
        }
        let now = state.clock.now();
        let Some(next) = handover::apply(&current, &action, user, now)? else {
            return Ok(current);
        };
        let copy = match &action {
            Action::Forward { team, reason } => {
                if state.store.get_team(team).await?.is_none() {
                    return Err(AppError::validation("team", format!("no team {team:?}")));
                }
                let hours = state.office_hours(team);
                Some(handover::forwarded_copy(
                    &current,
                    team,
                    reason,
                    user,
                    &state.calendar,
                    &hours,
                    now,
                ))
            }
            _ => None,
        };
        let mut events = handover::events(&next, action.event_kind());
        if let Some(copy) = &copy {
            events.extend(handover::events(copy, "handover.created"));
        }
        match state
            .store
            .update_handover(&next, copy.as_ref(), &events, now)
            .await?
        {
            Updated::Saved => return Ok(next),
            Updated::Stale(_) => continue,
        }
    }
    Err(AppError::Conflict(
        "the handover keeps changing; try again".into(),
    ))
}

/// The team has it: a named member acknowledges (idempotent).
#[utoipa::path(post, path = "/api/v1/handovers/{id}/ack", tag = "handovers",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Acknowledged", body = Handover),
        (status = 403, description = "Not the receiving team", body = ErrorBody),
        (status = 409, description = "Already done or passed on", body = ErrorBody),
    ))]
async fn acknowledge(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Handover>> {
    act(&state, &session.user, id, Action::Acknowledge)
        .await
        .map(Json)
}

/// The team has dealt with it.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/done", tag = "handovers",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Done", body = Handover)))]
async fn mark_done(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Handover>> {
    act(&state, &session.user, id, Action::Done).await.map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    pub team: String,
    pub reason: String,
}

/// Passes the handover to another team with a reason; the legal clock keeps running from
/// the original receipt.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/forward", tag = "handovers",
    params(("id" = Uuid, Path)), request_body = ForwardRequest,
    responses((status = 200, description = "Forwarded; the other team has a new handover", body = Handover)))]
async fn forward(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ForwardRequest>,
) -> Result<Json<Handover>> {
    let action = Action::Forward {
        team: request.team,
        reason: request.reason,
    };
    act(&state, &session.user, id, action).await.map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    pub question: String,
}

/// Sends the handover back to the desk with a question.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/return", tag = "handovers",
    params(("id" = Uuid, Path)), request_body = QuestionRequest,
    responses((status = 200, description = "Returned to the desk", body = Handover)))]
async fn return_to_desk(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<QuestionRequest>,
) -> Result<Json<Handover>> {
    let action = Action::Return {
        question: request.question,
    };
    act(&state, &session.user, id, action).await.map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub note: String,
}

/// The desk answers a returned handover; it goes back to the team's inbox.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/answer", tag = "handovers",
    params(("id" = Uuid, Path)), request_body = AnswerRequest,
    responses((status = 200, description = "Answered and pending again", body = Handover)))]
async fn answer(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> Result<Json<Handover>> {
    act(
        &state,
        &session.user,
        id,
        Action::Answer { note: request.note },
    )
    .await
    .map(Json)
}
