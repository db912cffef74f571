//! Handovers to daytime teams: created from an entry by the desk, worked from the team's
//! inbox (acknowledge, done, forward, return a question), answered by the desk.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::domain::account::{Team, User};
use crate::domain::entry::Entry;
use crate::domain::handover::{self, Action, Handover, NewHandover};
use crate::domain::roles::Role;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentSession};
use crate::store::{AccessAction, AccessResult, HandoverFilter, Inserted, Updated};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_handover, entry_handovers))
        .routes(routes!(team_inbox))
        .routes(routes!(all_handovers))
        .routes(routes!(list_teams))
        .routes(routes!(get_handover))
        .routes(routes!(acknowledge))
        .routes(routes!(mark_done))
        .routes(routes!(forward))
        .routes(routes!(return_to_desk))
        .routes(routes!(answer))
}

fn require_desk(user: &User) -> Result<()> {
    if matches!(user.role, Role::Oncall | Role::Supervisor) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "role {} cannot hand over from the desk",
            user.role
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
    session: CurrentSession,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<NewHandover>,
) -> Result<(StatusCode, Json<Handover>)> {
    require_desk(&session.user)?;
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
    session: CurrentSession,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> Result<Json<Vec<Handover>>> {
    require_desk(&session.user)?;
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
) -> Result<Json<Vec<Handover>>> {
    let user = &session.user;
    let allowed = match user.role {
        Role::Oncall | Role::Supervisor => true,
        Role::Team => user.team.as_deref() == Some(team.as_str()),
        Role::Shelter | Role::Admin => false,
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "{} may not read the inbox of {team}",
            user.username
        )));
    }
    let filter = HandoverFilter {
        team: Some(team),
        open_only: open_only(query.state.as_deref())?,
        limit: 500,
        ..HandoverFilter::default()
    };
    Ok(Json(state.store.list_handovers(&filter).await?))
}

/// Every team's handovers, for the desk's "pending handovers" view and the supervisor.
#[utoipa::path(get, path = "/api/v1/handovers", tag = "handovers", params(InboxQuery),
    responses(
        (status = 200, description = "Open handovers first, by due time", body = Vec<Handover>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
    ))]
async fn all_handovers(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<Vec<Handover>>> {
    require_desk(&session.user)?;
    let filter = HandoverFilter {
        open_only: open_only(query.state.as_deref())?,
        limit: 500,
        ..HandoverFilter::default()
    };
    Ok(Json(state.store.list_handovers(&filter).await?))
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
