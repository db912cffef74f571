//! Liveness, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{AppError, ErrorBody, ErrorDetail};
use crate::metrics::{PoolLabels, TeamLabels};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
}

/// 200 while the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// How long readiness waits for the databases: a load balancer asks often and must get an
/// answer, not a hanging request, while the database is away.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 when the databases answer; 503 otherwise (take this instance out of rotation).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Databases reachable", body = Health),
        (status = 503, description = "A database is unreachable", body = ErrorBody),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    let checks = async {
        state.store.ping().await?;
        if let Some(shelter) = &state.shelter {
            shelter.ping().await?;
        }
        Ok::<_, AppError>(())
    };
    let failure = match tokio::time::timeout(READY_TIMEOUT, checks).await {
        Ok(Ok(())) => return Json(Health { status: "ready" }).into_response(),
        Ok(Err(err)) => err.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(%failure, "not ready");
    let body = ErrorBody {
        error: ErrorDetail {
            code: "unavailable".into(),
            message: "the database is not reachable".into(),
            field: None,
            fields: None,
            retry_after: None,
        },
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// Sets the gauges that are read from the database (or the pools) at each scrape.
async fn refresh_gauges(state: &AppState) {
    let metrics = &state.metrics;
    for pool in state.store.pool_use() {
        let busy = (pool.open as usize).saturating_sub(pool.idle);
        for (label, value) in [("idle", pool.idle), ("busy", busy)] {
            metrics
                .db_connections
                .get_or_create(&PoolLabels {
                    pool: pool.pool.to_owned(),
                    state: label.to_owned(),
                })
                .set(value as i64);
        }
    }
    if state.settings.shelter_only {
        return;
    }
    let counts = async {
        let teams = state.store.list_teams().await?;
        let pending = state.store.pending_handovers(state.clock.now()).await?;
        Ok::<_, AppError>((teams, pending))
    };
    match counts.await {
        Ok((all_teams, teams)) => {
            // Every team has a value, so a team whose last pending handover was taken
            // shows 0 rather than vanishing from the graph.
            for team in all_teams {
                let team = TeamLabels { team: team.key };
                metrics.handovers_pending.get_or_create(&team).set(0);
                metrics.handovers_overdue.get_or_create(&team).set(0);
            }
            for t in teams {
                let team = TeamLabels { team: t.team };
                metrics
                    .handovers_pending
                    .get_or_create(&team)
                    .set(t.pending);
                metrics
                    .handovers_overdue
                    .get_or_create(&team)
                    .set(t.overdue);
            }
        }
        // The scrape still answers; the stale values stay and /readyz tells the rest.
        Err(err) => tracing::warn!(error = %err, "could not count pending handovers"),
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    refresh_gauges(&state).await;
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}
