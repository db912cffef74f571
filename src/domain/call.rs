//! Phone calls reported by the phone system: ringing, answered, ended, in whatever order
//! they arrive. A call's state follows from which of its moments are known, so an `ended`
//! that overtakes its `answered` still gives the right outcome once both are in.
//!
//! The caller's number is never kept: only a keyed hash (to recognise a repeat caller),
//! computed by the caller of this module with a server secret.

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::entry::{
    CallLink, Category, Channel, Entry, Person, RiskChecklist, Status, Subject, Urgency,
};
use crate::domain::stream::StreamName;
use crate::error::{AppError, Result};
use crate::events::NewEvent;

/// Longest call id, number or extension the phone system may send.
pub const MAX_FIELD: usize = 64;

key_enum!(
    CallEventKind {
        Ringing = "call.ringing",
        Answered = "call.answered",
        Ended = "call.ended",
    }
);

key_enum!(
    Direction {
        /// A client calls the desk (`phone_in`).
        In = "in",
        /// A worker calls out (`phone_out`).
        Out = "out",
    }
);

key_enum!(
    /// Why an unanswered call ended, as the phone system tells it.
    EndReason {
        /// The caller hung up while waiting.
        CallerHangup = "caller_hangup",
        /// Nobody answered before the phone system gave up.
        NoAnswer = "no_answer",
        /// A normal end of an answered call.
        Completed = "completed",
    }
);

key_enum!(
    CallState {
        Ringing = "ringing",
        Answered = "answered",
        Ended = "ended",
    }
);

key_enum!(
    /// How a call ended, for the statistics.
    Outcome {
        Answered = "answered",
        /// The caller hung up before anyone answered.
        Abandoned = "abandoned",
        /// It rang out without an answer.
        Missed = "missed",
    }
);

/// `POST /api/v1/telephony/events`, signed by the phone system.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallEvent {
    pub event: CallEventKind,
    /// The phone system's id of the call.
    pub call_id: String,
    /// The calling number (a client's, for an incoming call).
    pub from: String,
    /// The called number (the desk's line, for an incoming call).
    pub to: String,
    /// When it happened, by the phone system's clock.
    pub at: DateTime<Utc>,
    /// `in` (default) or `out`.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// The extension that answered (or placed an outgoing call).
    #[serde(default)]
    pub extension: Option<String>,
    /// For `call.ended`.
    #[serde(default)]
    pub reason: Option<EndReason>,
}

fn bounded(field: &str, text: &str, required: bool) -> Result<()> {
    if required && text.trim().is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    if text.chars().count() > MAX_FIELD || text.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            format!("at most {MAX_FIELD} printable characters"),
        ));
    }
    Ok(())
}

impl CallEvent {
    pub fn validate(&self) -> Result<()> {
        bounded("call_id", &self.call_id, true)?;
        bounded("from", &self.from, false)?;
        bounded("to", &self.to, false)?;
        if let Some(ext) = &self.extension {
            bounded("extension", ext, false)?;
        }
        Ok(())
    }

    pub fn direction(&self) -> Direction {
        self.direction.unwrap_or(Direction::In)
    }

    /// The other party's number: the caller of an incoming call, the called of an
    /// outgoing one.
    pub fn client_number(&self) -> &str {
        match self.direction() {
            Direction::In => &self.from,
            Direction::Out => &self.to,
        }
    }

    /// The desk's own number on this call: which line it came in on.
    pub fn desk_number(&self) -> &str {
        match self.direction() {
            Direction::In => &self.to,
            Direction::Out => &self.from,
        }
    }
}

/// Digits only (a leading + kept, a Finnish 0 turned into +358), so `040 123 4567` and
/// `+358401234567` are the same caller.
pub fn normalise_number(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if number.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("+358{rest}")
    } else {
        digits
    }
}

/// The earlier calls of the same caller, as the desk is told when one rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Repeat {
    /// Earlier calls from the same number within the window.
    pub earlier_calls: i64,
    pub last_at: DateTime<Utc>,
    /// Days the count looks back.
    pub window_days: i64,
}

/// One call as stored. No number: only `caller_hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    pub id: Uuid,
    pub call_id: String,
    pub direction: Direction,
    /// The line's name (e.g. `child_welfare`), from the called number.
    pub line: Option<String>,
    /// HMAC of the client's number under a server key; `None` when it was withheld.
    /// Stored, never sent to a console (`view` leaves it out).
    pub caller_hash: Option<String>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<EndReason>,
    pub extension: Option<String>,
    /// The worker the extension maps to.
    pub worker: Option<Person>,
    pub entry_id: Option<Uuid>,
    pub repeat: Option<Repeat>,
    pub version: i64,
}

impl Call {
    pub fn new(event: &CallEvent, caller_hash: Option<String>, line: Option<String>) -> Call {
        Call {
            id: Uuid::new_v4(),
            call_id: event.call_id.clone(),
            direction: event.direction(),
            line,
            caller_hash,
            ringing_at: None,
            answered_at: None,
            ended_at: None,
            end_reason: None,
            extension: None,
            worker: None,
            entry_id: None,
            repeat: None,
            version: 0,
        }
    }

    pub fn state(&self) -> CallState {
        if self.ended_at.is_some() {
            CallState::Ended
        } else if self.answered_at.is_some() {
            CallState::Answered
        } else {
            CallState::Ringing
        }
    }

    /// Known once the call has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.ended_at?;
        Some(match (self.answered_at, self.end_reason) {
            (Some(_), _) => Outcome::Answered,
            (None, Some(EndReason::NoAnswer)) => Outcome::Missed,
            (None, _) => Outcome::Abandoned,
        })
    }

    /// How long the caller waited for an answer (so far, if still ringing).
    pub fn wait(&self, now: DateTime<Utc>) -> Option<Duration> {
        let rang = self.ringing_at?;
        let until = self.answered_at.or(self.ended_at).unwrap_or(now);
        Some((until - rang).max(Duration::zero()))
    }

    pub fn talk_time(&self) -> Option<Duration> {
        Some((self.ended_at? - self.answered_at?).max(Duration::zero()))
    }

    /// What consoles see of a call (never the number's hash).
    pub fn view(&self, now: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "direction": self.direction,
            "line": self.line,
            "state": self.state(),
            "outcome": self.outcome(),
            "ringing_at": self.ringing_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "extension": self.extension,
            "worker": self.worker,
            "entry_id": self.entry_id,
            "repeat": self.repeat,
            "version": self.version,
            "wait_secs": self.wait(now).map(|d| d.num_seconds()),
            "talk_secs": self.talk_time().map(|d| d.num_seconds()),
        })
    }
}

/// What an event changes. `None` when this moment of the call is already known: a
/// replay changes nothing.
pub fn apply(current: &Call, event: &CallEvent, worker: Option<Person>) -> Option<Call> {
    let mut next = current.clone();
    let moment = match event.event {
        CallEventKind::Ringing => &mut next.ringing_at,
        CallEventKind::Answered => &mut next.answered_at,
        CallEventKind::Ended => &mut next.ended_at,
    };
    if moment.is_some() {
        return None;
    }
    *moment = Some(event.at);
    match event.event {
        CallEventKind::Answered => {
            next.extension = event.extension.clone().or(next.extension);
            next.worker = worker.or(next.worker);
        }
        CallEventKind::Ended => next.end_reason = event.reason,
        CallEventKind::Ringing => {}
    }
    next.version += 1;
    Some(next)
}

/// The live-log entry of an answered call (or a placed one), claimed by the worker when
/// the extension tells who. `line_name` is the line as people call it.
pub fn entry(call: &Call, line_name: Option<&str>, by: &Person, now: DateTime<Utc>) -> Entry {
    let channel = match call.direction {
        Direction::In => Channel::PhoneIn,
        Direction::Out => Channel::PhoneOut,
    };
    let label = match (line_name, call.direction) {
        (Some(line), Direction::In) => format!("Puhelu / Samtal · {line}"),
        (None, Direction::In) => "Puhelu / Samtal".to_owned(),
        (_, Direction::Out) => "Soitto / Utgående samtal".to_owned(),
    };
    Entry {
        id: Uuid::new_v4(),
        version: 1,
        channel,
        category: Category::Other,
        urgency: Urgency::Normal,
        status: if call.worker.is_some() {
            Status::InProgress
        } else {
            Status::Open
        },
        summary: label.clone(),
        subject: Subject::anonymous(String::new()),
        notes: String::new(),
        actions: String::new(),
        risk: RiskChecklist::default(),
        follow_up: false,
        police: None,
        occurred_at: call.answered_at.or(call.ringing_at).unwrap_or(now),
        created_at: now,
        updated_at: now,
        created_by: by.clone(),
        claimed_by: call.worker.clone(),
        chat: None,
        call: Some(CallLink {
            id: call.id,
            started_at: call.answered_at,
            duration_secs: call.talk_time().map(|d| d.num_seconds()),
        }),
    }
}

/// The desk event announcing the call as it now is.
pub fn desk_event(call: &Call, now: DateTime<Utc>) -> NewEvent {
    let kind = match call.state() {
        CallState::Ended => "call.ended",
        CallState::Answered => "call.answered",
        CallState::Ringing => "call.ringing",
    };
    NewEvent::new(
        StreamName::Desk,
        kind,
        serde_json::json!({ "call": call.view(now) }),
    )
}

/// Calls offered, answered, abandoned and missed, and the wait before an answer, in all and
/// by Helsinki hour of the day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CallStatistics {
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub missed: i64,
    /// Still ringing or talking when counted.
    pub ongoing: i64,
    pub outgoing: i64,
    pub average_wait_secs: Option<f64>,
    pub longest_wait_secs: Option<i64>,
    pub by_hour: Vec<HourStatistics>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct HourStatistics {
    /// 0–23, Helsinki time, when the call began ringing.
    pub hour: u32,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub missed: i64,
    pub average_wait_secs: Option<f64>,
}

fn average(waits: &[i64]) -> Option<f64> {
    (!waits.is_empty()).then(|| waits.iter().sum::<i64>() as f64 / waits.len() as f64)
}

pub fn statistics(calls: &[Call], now: DateTime<Utc>) -> CallStatistics {
    let mut stats = CallStatistics::default();
    let mut hours: Vec<(HourStatistics, Vec<i64>)> = (0..24)
        .map(|hour| {
            (
                HourStatistics {
                    hour,
                    ..HourStatistics::default()
                },
                Vec::new(),
            )
        })
        .collect();
    let mut waits = Vec::new();
    for call in calls {
        if call.direction == Direction::Out {
            stats.outgoing += 1;
            continue;
        }
        stats.offered += 1;
        let began = call
            .ringing_at
            .or(call.answered_at)
            .or(call.ended_at)
            .unwrap_or(now);
        let (hour, hour_waits) = &mut hours[began.with_timezone(&Helsinki).hour() as usize];
        hour.offered += 1;
        match call.outcome() {
            Some(Outcome::Answered) => {
                stats.answered += 1;
                hour.answered += 1;
            }
            Some(Outcome::Abandoned) => {
                stats.abandoned += 1;
                hour.abandoned += 1;
            }
            Some(Outcome::Missed) => {
                stats.missed += 1;
                hour.missed += 1;
            }
            None => stats.ongoing += 1,
        }
        if call.answered_at.is_some() {
            if let Some(wait) = call.wait(now) {
                waits.push(wait.num_seconds());
                hour_waits.push(wait.num_seconds());
            }
        }
    }
    stats.average_wait_secs = average(&waits);
    stats.longest_wait_secs = waits.iter().copied().max();
    stats.by_hour = hours
        .into_iter()
        .map(|(mut hour, waits)| {
            hour.average_wait_secs = average(&waits);
            hour
        })
        .collect();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Helsinki
            .with_ymd_and_hms(2026, 11, 21, h, m, s)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn event(kind: CallEventKind, when: DateTime<Utc>) -> CallEvent {
        CallEvent {
            event: kind,
            call_id: "pbx-1".into(),
            from: "040 123 4567".into(),
            to: "0800 100 200".into(),
            at: when,
            direction: None,
            extension: Some("201".into()),
            reason: None,
        }
    }

    fn run(events: &[CallEvent]) -> Call {
        let mut call = Call::new(&events[0], Some("h".into()), None);
        for e in events {
            if let Some(next) = apply(&call, e, None) {
                call = next;
            }
        }
        call
    }

    #[test]
    fn numbers_are_compared_as_digits_in_international_form() {
        assert_eq!(normalise_number("040 123 4567"), "+358401234567");
        assert_eq!(normalise_number("+358 40 123 4567"), "+358401234567");
        assert_eq!(normalise_number("00358401234567"), "+358401234567");
        assert_eq!(normalise_number("112"), "112");
    }

    #[test]
    fn an_end_that_overtakes_the_answer_still_counts_as_answered() {
        let in_order = run(&[
            event(CallEventKind::Ringing, at(3, 0, 0)),
            event(CallEventKind::Answered, at(3, 0, 40)),
            event(CallEventKind::Ended, at(3, 12, 40)),
        ]);
        let shuffled = run(&[
            event(CallEventKind::Ended, at(3, 12, 40)),
            event(CallEventKind::Ringing, at(3, 0, 0)),
            event(CallEventKind::Answered, at(3, 0, 40)),
        ]);
        for call in [&in_order, &shuffled] {
            assert_eq!(call.state(), CallState::Ended);
            assert_eq!(call.outcome(), Some(Outcome::Answered));
            assert_eq!(call.talk_time(), Some(Duration::minutes(12)));
            assert_eq!(call.wait(at(4, 0, 0)), Some(Duration::seconds(40)));
        }
    }

    #[test]
    fn a_replayed_moment_changes_nothing() {
        let call = run(&[event(CallEventKind::Ringing, at(3, 0, 0))]);
        assert!(apply(&call, &event(CallEventKind::Ringing, at(3, 0, 5)), None).is_none());
    }

    #[test]
    fn unanswered_calls_are_abandoned_or_missed() {
        let mut ended = event(CallEventKind::Ended, at(3, 1, 0));
        let abandoned = run(&[event(CallEventKind::Ringing, at(3, 0, 0)), ended.clone()]);
        assert_eq!(abandoned.outcome(), Some(Outcome::Abandoned));
        ended.reason = Some(EndReason::NoAnswer);
        let missed = run(&[event(CallEventKind::Ringing, at(3, 0, 0)), ended]);
        assert_eq!(missed.outcome(), Some(Outcome::Missed));
    }

    #[test]
    fn statistics_count_by_helsinki_hour() {
        let answered = run(&[
            event(CallEventKind::Ringing, at(3, 0, 0)),
            event(CallEventKind::Answered, at(3, 0, 30)),
            event(CallEventKind::Ended, at(3, 5, 0)),
        ]);
        let abandoned = run(&[
            event(CallEventKind::Ringing, at(3, 20, 0)),
            event(CallEventKind::Ended, at(3, 21, 0)),
        ]);
        let ringing = run(&[event(CallEventKind::Ringing, at(23, 59, 0))]);
        let stats = statistics(&[answered, abandoned, ringing], at(23, 59, 30));
        assert_eq!(
            (
                stats.offered,
                stats.answered,
                stats.abandoned,
                stats.ongoing
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(stats.average_wait_secs, Some(30.0));
        assert_eq!(stats.by_hour[3].offered, 2);
        assert_eq!(stats.by_hour[3].answered, 1);
        assert_eq!(stats.by_hour[23].offered, 1);
    }
}
