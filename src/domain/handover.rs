//! Handovers (*siirto päiväpalveluihin*): what the night cannot finish goes to a daytime
//! team with a note written for a reader who was not there, and a deadline from the
//! Finnish working-day calendar. Nothing is dropped silently: every handover stays until the
//! team marks it done or passes it on, and an unacknowledged one turns overdue.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::account::User;
use crate::domain::calendar::{Calendar, OfficeHours, Rule};
use crate::domain::entry::{Category, Entry, Person};
use crate::domain::roles::Role;
use crate::domain::stream::StreamName;
use crate::error::{AppError, Result};
use crate::events::NewEvent;

pub const MAX_NOTE: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoverState {
    /// Waiting for the team.
    Pending,
    /// A named team member has taken it.
    Acknowledged,
    Done,
    /// Passed on to another team (a new handover exists there).
    Forwarded,
    /// Sent back to the desk with a question.
    Returned,
}

impl HandoverState {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoverState::Pending => "pending",
            HandoverState::Acknowledged => "acknowledged",
            HandoverState::Done => "done",
            HandoverState::Forwarded => "forwarded",
            HandoverState::Returned => "returned",
        }
    }

    /// Still waiting for someone: the inbox lists these first.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            HandoverState::Pending | HandoverState::Acknowledged | HandoverState::Returned
        )
    }
}

/// A legal clock that runs beside the handover's own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Lastensuojelulaki § 26: decide within 7 working days of receiving a child welfare
    /// report whether a service-need assessment starts (the day of receipt not counted).
    ChildWelfareReport,
    /// Sosiaalihuoltolaki § 36: for a person aged 75 or more, the service-need assessment
    /// starts by the 7th working day.
    ServiceNeed75,
}

impl LegalBasis {
    pub fn rule(self) -> Rule {
        match self {
            LegalBasis::ChildWelfareReport | LegalBasis::ServiceNeed75 => Rule::WorkingDays(7),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Handover {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub team: String,
    pub note: String,
    pub urgent: bool,
    pub state: HandoverState,
    /// When the team must have it in hand: the end of office hours on the next working day,
    /// or the next office opening for an urgent one.
    pub due_at: DateTime<Utc>,
    pub legal_basis: Option<LegalBasis>,
    /// The legal clock's deadline, counted from the original receipt.
    pub legal_due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: Person,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Person>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Person>,
    /// When it was found unacknowledged past its due time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// When the team's lead was told it is still unacknowledged.
    #[serde(default)]
    pub escalated_at: Option<DateTime<Utc>>,
    /// The leads it was escalated to.
    #[serde(default)]
    pub escalated_to: Vec<Person>,
    pub forwarded_to: Option<String>,
    /// Why it was forwarded, or the question sent back to the desk.
    pub reason: Option<String>,
    /// The handover this one was forwarded from.
    pub forwarded_from: Option<Uuid>,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHandover {
    /// Client-generated id: a retried POST returns the same handover.
    pub id: Option<Uuid>,
    pub team: String,
    /// For the reader who was not there: what happened, what was done, what is expected,
    /// whom to call back.
    pub note: String,
    /// Due at the next office opening instead of the end of the next working day.
    #[serde(default)]
    pub urgent: bool,
    /// Starts a legal clock; a child welfare entry gets LsL § 26 by default.
    pub legal_basis: Option<LegalBasis>,
}

fn check_text(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(AppError::validation(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// The deadlines of a handover received at `now` about `entry`.
pub struct Deadlines {
    pub due_at: DateTime<Utc>,
    pub legal_basis: Option<LegalBasis>,
    pub legal_due_at: Option<DateTime<Utc>>,
}

pub fn deadlines(
    calendar: &Calendar,
    hours: &OfficeHours,
    entry: &Entry,
    urgent: bool,
    legal_basis: Option<LegalBasis>,
    now: DateTime<Utc>,
) -> Deadlines {
    let due_at = if urgent {
        calendar.next_opening(now, hours)
    } else {
        calendar.due(Rule::NextWorkingDay, now, hours)
    };
    let legal_basis = legal_basis
        .or((entry.category == Category::ChildWelfare).then_some(LegalBasis::ChildWelfareReport));
    // The legal clock runs from the original receipt: when the contact came in.
    let legal_due_at =
        legal_basis.map(|basis| calendar.due(basis.rule(), entry.occurred_at, hours));
    Deadlines {
        due_at,
        legal_basis,
        legal_due_at,
    }
}

impl NewHandover {
    pub fn into_handover(
        self,
        entry: &Entry,
        by: &User,
        calendar: &Calendar,
        hours: &OfficeHours,
        now: DateTime<Utc>,
    ) -> Result<Handover> {
        let handing = Handing {
            id: self.id.unwrap_or_else(Uuid::new_v4),
            team: self.team,
            note: check_text("note", &self.note, MAX_NOTE)?,
            urgent: self.urgent,
            legal_basis: self.legal_basis,
        };
        Ok(pending(
            handing,
            entry,
            Person::from(by),
            calendar,
            hours,
            now,
        ))
    }
}

/// What a new handover says besides its entry: where it goes and why.
pub struct Handing {
    pub id: Uuid,
    pub team: String,
    pub note: String,
    pub urgent: bool,
    pub legal_basis: Option<LegalBasis>,
}

/// A new, pending handover of `entry` with its deadlines, made at `now` by `by` (a worker,
/// or the system account of an online report).
pub fn pending(
    handing: Handing,
    entry: &Entry,
    by: Person,
    calendar: &Calendar,
    hours: &OfficeHours,
    now: DateTime<Utc>,
) -> Handover {
    let d = deadlines(
        calendar,
        hours,
        entry,
        handing.urgent,
        handing.legal_basis,
        now,
    );
    Handover {
        id: handing.id,
        entry_id: entry.id,
        team: handing.team,
        note: handing.note,
        urgent: handing.urgent,
        state: HandoverState::Pending,
        due_at: d.due_at,
        legal_basis: d.legal_basis,
        legal_due_at: d.legal_due_at,
        created_at: now,
        created_by: by,
        acknowledged_at: None,
        acknowledged_by: None,
        done_at: None,
        done_by: None,
        overdue_at: None,
        escalated_at: None,
        escalated_to: Vec::new(),
        forwarded_to: None,
        reason: None,
        forwarded_from: None,
        version: 1,
    }
}

/// What a team member (or the desk) does to a handover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Done,
    /// To another team, with a reason.
    Forward {
        team: String,
        reason: String,
    },
    /// Back to the desk with a question.
    Return {
        question: String,
    },
    /// The desk answers a returned handover; it goes back to the team.
    Answer {
        note: String,
    },
}

impl Action {
    pub fn event_kind(&self) -> &'static str {
        match self {
            Action::Acknowledge => "handover.acknowledged",
            Action::Done => "handover.done",
            Action::Forward { .. } => "handover.forwarded",
            Action::Return { .. } => "handover.returned",
            Action::Answer { .. } => "handover.answered",
        }
    }
}

/// Who may act on a handover: the members of its team (and supervisors) act on it; the
/// desk answers a returned one.
pub fn may_act(user: &User, handover: &Handover, action: &Action) -> bool {
    let of_team = user.role == Role::Team && user.team.as_deref() == Some(handover.team.as_str());
    let supervisor = user.role == Role::Supervisor;
    match action {
        Action::Answer { .. } => matches!(user.role, Role::Oncall | Role::Supervisor),
        _ => of_team || supervisor,
    }
}

/// Whether the user may read the handover (and the entry handed over with it).
pub fn may_read(user: &User, handover: &Handover) -> bool {
    match user.role {
        Role::Oncall | Role::Supervisor => true,
        Role::Team => user.team.as_deref() == Some(handover.team.as_str()),
        Role::Shelter | Role::Admin => false,
    }
}

/// Applies an action; `None` when it changes nothing (a resent acknowledgement).
pub fn apply(
    current: &Handover,
    action: &Action,
    by: &User,
    now: DateTime<Utc>,
) -> Result<Option<Handover>> {
    use HandoverState::*;
    let mut next = current.clone();
    match (current.state, action) {
        // Resent after a lost answer: already so.
        (Acknowledged, Action::Acknowledge)
        | (Done, Action::Done)
        | (Returned, Action::Return { .. }) => {
            return Ok(None);
        }
        (Forwarded, Action::Forward { team, .. })
            if current.forwarded_to.as_ref() == Some(team) =>
        {
            return Ok(None);
        }
        (Pending, Action::Acknowledge) => {
            next.state = Acknowledged;
            next.acknowledged_at = Some(now);
            next.acknowledged_by = Some(Person::from(by));
        }
        (Pending | Acknowledged, Action::Done) => {
            next.state = Done;
            next.done_at = Some(now);
            next.done_by = Some(Person::from(by));
            if next.acknowledged_at.is_none() {
                next.acknowledged_at = Some(now);
                next.acknowledged_by = Some(Person::from(by));
            }
        }
        (Pending | Acknowledged, Action::Forward { team, reason }) => {
            if *team == current.team {
                return Err(AppError::validation("team", "forward to another team"));
            }
            next.state = Forwarded;
            next.forwarded_to = Some(team.clone());
            next.reason = Some(check_text("reason", reason, MAX_NOTE)?);
        }
        (Pending | Acknowledged, Action::Return { question }) => {
            next.state = Returned;
            next.reason = Some(check_text("question", question, MAX_NOTE)?);
        }
        (Returned, Action::Answer { note }) => {
            let answer = check_text("note", note, MAX_NOTE)?;
            next.state = Pending;
            next.note = format!("{}\n\n— {} —\n{answer}", current.note, by.display_name);
            next.reason = None;
        }
        (state, _) => {
            return Err(AppError::Conflict(format!(
                "a {} handover cannot be {}",
                state.as_str(),
                action.event_kind().trim_start_matches("handover.")
            )));
        }
    }
    next.version += 1;
    Ok(Some(next))
}

/// The handover a forward creates at the receiving team: same entry, same legal clock (it
/// runs from the original receipt), a new next-working-day deadline.
pub fn forwarded_copy(
    from: &Handover,
    team: &str,
    reason: &str,
    by: &User,
    calendar: &Calendar,
    hours: &OfficeHours,
    now: DateTime<Utc>,
) -> Handover {
    let due_at = if from.urgent {
        calendar.next_opening(now, hours)
    } else {
        calendar.due(Rule::NextWorkingDay, now, hours)
    };
    Handover {
        id: Uuid::new_v4(),
        team: team.to_owned(),
        note: format!("{}\n\n— {} → {team}: {reason}", from.note, from.team),
        state: HandoverState::Pending,
        due_at,
        created_at: now,
        created_by: Person::from(by),
        acknowledged_at: None,
        acknowledged_by: None,
        done_at: None,
        done_by: None,
        overdue_at: None,
        escalated_at: None,
        escalated_to: Vec::new(),
        forwarded_to: None,
        reason: None,
        forwarded_from: Some(from.id),
        version: 1,
        ..from.clone()
    }
}

/// Marks an unacknowledged handover overdue once its due time has passed; `None` when it
/// is not (or already) overdue.
pub fn mark_overdue(current: &Handover, now: DateTime<Utc>) -> Option<Handover> {
    let late = current.state == HandoverState::Pending && now > current.due_at;
    if !late || current.overdue_at.is_some() {
        return None;
    }
    let mut next = current.clone();
    next.overdue_at = Some(now);
    next.version += 1;
    Some(next)
}

/// Escalates a handover that has stayed overdue (still pending) for `delay`, naming the
/// team's leads; `None` when it is not yet time, or already done.
pub fn escalate(
    current: &Handover,
    leads: &[Person],
    now: DateTime<Utc>,
    delay: chrono::Duration,
) -> Option<Handover> {
    let due = current.state == HandoverState::Pending
        && current.escalated_at.is_none()
        && current.overdue_at.is_some_and(|t| now >= t + delay);
    if !due {
        return None;
    }
    let mut next = current.clone();
    next.escalated_at = Some(now);
    next.escalated_to = leads.to_vec();
    next.version += 1;
    Some(next)
}

impl Handover {
    /// What the streams carry: everything but the note and the reason, which may hold
    /// client details and are read (and access-logged) through the API.
    pub fn summary(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a handover serializes");
        if let Some(map) = value.as_object_mut() {
            map.remove("note");
            map.remove("reason");
        }
        value
    }
}

/// Where a team's morning digest starts: the close of its office hours on the last working
/// day before `now` (everything handed over since the team last went home).
pub fn digest_since(calendar: &Calendar, hours: &OfficeHours, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&Helsinki).date_naive();
    (0..60)
        .map(|back| today - chrono::Duration::days(back))
        .filter(|day| calendar.is_working_day(*day))
        .filter_map(|day| {
            let (_, close) = hours.hours_on(day.weekday())?;
            let local = Helsinki
                .from_local_datetime(&day.and_time(close))
                .earliest()?;
            Some(local.with_timezone(&Utc))
        })
        .find(|closed| *closed <= now)
        .unwrap_or(now - chrono::Duration::days(1))
}

/// A handover's change goes to both the desk and the team's inbox stream.
pub fn events(handover: &Handover, kind: &str) -> Vec<NewEvent> {
    let data = serde_json::json!({ "handover": handover.summary() });
    vec![
        NewEvent::new(StreamName::Desk, kind, data.clone()),
        NewEvent::new(StreamName::Team(handover.team.clone()), kind, data),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Helsinki
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_digest_starts_at_the_last_office_close() {
        let calendar = Calendar::finnish();
        let hours = OfficeHours::standard();
        let since = |now| digest_since(&calendar, &hours, now);
        // Tuesday morning: since Monday 16:00.
        assert_eq!(
            since(helsinki(2026, 11, 24, 7, 45)),
            helsinki(2026, 11, 23, 16, 0)
        );
        // Monday morning: since Friday 16:00.
        assert_eq!(
            since(helsinki(2026, 11, 23, 7, 45)),
            helsinki(2026, 11, 20, 16, 0)
        );
        // The Tuesday after Easter: since Maundy Thursday 16:00.
        assert_eq!(
            since(helsinki(2026, 4, 7, 7, 45)),
            helsinki(2026, 4, 2, 16, 0)
        );
        // Late in the afternoon, after today's close: since today 16:00.
        assert_eq!(
            since(helsinki(2026, 11, 24, 17, 0)),
            helsinki(2026, 11, 24, 16, 0)
        );
    }
}
