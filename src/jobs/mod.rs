//! Background timers. Each stops when the server shuts down.

mod retention;

use std::time::Duration;

use crate::AppState;
use crate::chats;
use crate::domain::chat::EndReason;
use crate::domain::entry::Person;
use crate::domain::handover;
use crate::domain::shelter::Capacity;
use crate::domain::stream::StreamName;
use crate::events::NewEvent;
use crate::store::{ChatFilter, HandoverFilter, Updated};
pub use retention::{Purged, run_retention};

/// How often the overdue timer runs unless configured.
const OVERDUE_CHECK_EVERY: Duration = Duration::from_secs(60);

pub fn spawn_all(state: &AppState) {
    tokio::spawn(retention::watch_retention(state.clone()));
    tokio::spawn(watch_overdue_handovers(state.clone()));
    tokio::spawn(watch_chats(state.clone()));
    if !state.settings.shelter_only {
        tokio::spawn(watch_shelter(state.clone()));
    }
}

/// Keeps the desk's view of the shelter current: free places and the statuses of the
/// referrals it issued, as desk events when they change. Woken at once by a register in
/// this process; a shelter hosted elsewhere is asked every `shelter.watch_secs`.
async fn watch_shelter(state: AppState) {
    let changes = state.shelter_link.changes();
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings.shelter.watch_secs));
    let mut last = None;
    loop {
        let changed = async {
            match &changes {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tick.tick() => {}
            _ = changed => {}
        }
        match report_shelter_changes(&state, last.as_ref()).await {
            Ok(capacity) => last = Some(capacity),
            Err(err) => tracing::warn!(error = %err, "shelter check failed"),
        }
    }
}

/// One look at the shelter: a `shelter.capacity` event when the free places differ from
/// `last` (the first look only notes them: consoles read the numbers when they connect),
/// and a `shelter.referral` event for each referral whose status changed. Returns the
/// capacity seen.
pub async fn report_shelter_changes(
    state: &AppState,
    last: Option<&Capacity>,
) -> crate::error::Result<Capacity> {
    let now = state.clock.now();
    let capacity = state.shelter_link.capacity().await?;
    if last.is_some_and(|seen| seen != &capacity) {
        let event = NewEvent::new(
            StreamName::Desk,
            "shelter.capacity",
            serde_json::to_value(&capacity)?,
        );
        state.store.append_events(&[event], now).await?;
    }
    for mut referral in state.store.desk_referrals(None, true, 500).await? {
        let status = state
            .shelter_link
            .referral_status(&referral.code, now)
            .await?;
        if status != referral.status {
            referral.status = status;
            referral.status_at = now;
            let events = [crate::http::referral_event(&referral)];
            state
                .store
                .set_referral_status(&referral.code, status, now, &events)
                .await?;
        }
    }
    Ok(capacity)
}

/// Runs `run_chat_timers` on a timer.
async fn watch_chats(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings.chat.check_secs));
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = run_chat_timers(&state).await {
                    tracing::warn!(error = %err, "chat timers failed");
                }
            }
        }
    }
}

/// What one run of the chat timers did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChatTimers {
    /// Active chats ended because nobody wrote for `chat.idle_minutes`.
    pub idle: usize,
    /// Chats ended because the client's token ran out.
    pub expired: usize,
    /// Ended chats whose message bodies were removed after `chat.retention_days`.
    pub purged: usize,
}

/// Ends idle and abandoned chats, purges old transcripts, refreshes the queue gauge, and
/// forgets rate-limit state that has refilled.
pub async fn run_chat_timers(state: &AppState) -> crate::error::Result<ChatTimers> {
    let now = state.clock.now();
    let settings = &state.settings.chat;
    let batch = |filter: ChatFilter| ChatFilter {
        limit: 500,
        ..filter
    };
    let mut done = ChatTimers::default();
    let idle = batch(ChatFilter {
        idle_before: Some(now - chrono::Duration::minutes(i64::from(settings.idle_minutes))),
        ..ChatFilter::default()
    });
    for chat in state.store.list_chats(&idle).await? {
        chats::end(state, chat.id, EndReason::Idle).await?;
        done.idle += 1;
    }
    let expired = batch(ChatFilter {
        token_expired_before: Some(now),
        ..ChatFilter::default()
    });
    for chat in state.store.list_chats(&expired).await? {
        chats::end(state, chat.id, EndReason::Expired).await?;
        done.expired += 1;
    }
    let old = batch(ChatFilter {
        unpurged_ended_before: Some(
            now - chrono::Duration::days(i64::from(settings.retention_days)),
        ),
        ..ChatFilter::default()
    });
    for chat in state.store.list_chats(&old).await? {
        if let Some(next) = chat.purged(now) {
            if let Updated::Saved = state.store.purge_chat_transcript(&next).await? {
                done.purged += 1;
            }
        }
    }
    let queued = state.store.queue_length().await?;
    state.metrics.chat_queue_length.set(queued);
    state.limits.forget_refilled();
    state.login_throttle.forget_stale(state.clock.now());
    Ok(done)
}

/// Runs `mark_overdue_handovers` on a timer. The state lives in the database (`overdue_at`),
/// so a restart loses nothing: the first run after it catches up.
async fn watch_overdue_handovers(state: AppState) {
    let every = state
        .settings
        .calendar
        .overdue_check_secs
        .map(Duration::from_secs)
        .unwrap_or(OVERDUE_CHECK_EVERY);
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = check_handover_deadlines(&state).await {
                    tracing::warn!(error = %err, "overdue check failed");
                }
            }
        }
    }
}

/// How long a handover may stay overdue before its team's lead is told, unless configured.
const ESCALATE_AFTER_MINUTES: u32 = 120;

/// What one deadline check did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DeadlineCheck {
    pub overdue: usize,
    pub escalated: usize,
}

/// Marks pending handovers past their due time overdue (once, with a `handover.overdue`
/// event), and escalates those overdue for longer than the configured delay to the team's
/// leads (`handover.escalated`). Both go to the desk and the team stream.
pub async fn check_handover_deadlines(state: &AppState) -> crate::error::Result<DeadlineCheck> {
    Ok(DeadlineCheck {
        overdue: mark_overdue_handovers(state).await?,
        escalated: escalate_overdue_handovers(state).await?,
    })
}

async fn escalate_overdue_handovers(state: &AppState) -> crate::error::Result<usize> {
    let now = state.clock.now();
    let delay = chrono::Duration::minutes(i64::from(
        state
            .settings
            .calendar
            .escalate_after_minutes
            .unwrap_or(ESCALATE_AFTER_MINUTES),
    ));
    let filter = HandoverFilter {
        unescalated_overdue_since: Some(now - delay),
        limit: 500,
        ..HandoverFilter::default()
    };
    let mut escalated = 0;
    for handover in state.store.list_handovers(&filter).await? {
        let leads: Vec<Person> = state
            .store
            .team_leads(&handover.team)
            .await?
            .iter()
            .map(Person::from)
            .collect();
        let Some(next) = handover::escalate(&handover, &leads, now, delay) else {
            continue;
        };
        let events = handover::events(&next, "handover.escalated");
        if let Updated::Saved = state
            .store
            .update_handover(&next, None, &events, now)
            .await?
        {
            escalated += 1;
        }
    }
    Ok(escalated)
}

async fn mark_overdue_handovers(state: &AppState) -> crate::error::Result<usize> {
    let now = state.clock.now();
    let filter = HandoverFilter {
        unmarked_overdue_at: Some(now),
        limit: 500,
        ..HandoverFilter::default()
    };
    let mut marked = 0;
    for handover in state.store.list_handovers(&filter).await? {
        let Some(next) = handover::mark_overdue(&handover, now) else {
            continue;
        };
        let events = handover::events(&next, "handover.overdue");
        // A concurrent acknowledgement wins: then it is not overdue after all.
        if let Updated::Saved = state
            .store
            .update_handover(&next, None, &events, now)
            .await?
        {
            marked += 1;
        }
    }
    if marked > 0 {
        tracing::info!(handovers = marked, "handovers overdue");
    }
    Ok(marked)
}
