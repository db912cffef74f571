//! `POST /api/v1/entries/{id}/handovers` bodies: `serde_json::from_slice` into
//! `NewHandover`, then `NewHandover::into_handover` with the Finnish working-day calendar
//! and standard office hours (what `create_handover` uses for a team without its own
//! hours; the handler's check that the team exists needs the database and is left out),
//! on a child welfare entry and on an adult one. The accepted handover then goes through
//! the team's actions with the body's note as the question, answer and forward reason.
//!
//! Holds: no panic; an accepted handover is pending, version 1, with a trimmed note of
//! 1-10 000 characters, due after now, a child welfare entry always gets the LsL § 26
//! clock and a legal basis always its deadline; what the streams carry of it has no note;
//! it survives a JSON round trip; every action that changes it bumps the version by one.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use chrono::Duration;
use libfuzzer_sys::fuzz_target;
use paivystys::domain::account::User;
use paivystys::domain::calendar::{Calendar, OfficeHours};
use paivystys::domain::entry::{Category, Entry, NewEntry};
use paivystys::domain::handover::{
    self, Action, Handover, HandoverState, LegalBasis, MAX_NOTE, NewHandover,
};
use paivystys::domain::roles::Role;

fn entry(category: &str) -> Entry {
    let new: NewEntry = serde_json::from_value(serde_json::json!({
        "channel": "phone_in", "category": category, "urgency": "normal",
        "summary": "Neighbour worried about children alone",
        "subject": {"anonymous": true, "alias": "Family on Koivukuja"},
        "occurred_at": "2026-11-21T21:40:00Z"
    }))
    .unwrap();
    new.into_entry(&common::oncall(), common::now()).unwrap()
}

fn team_member(team: &str) -> User {
    User {
        id: 21,
        username: "tiimi".into(),
        display_name: "Tiimin jäsen".into(),
        role: Role::Team,
        team: Some(team.to_owned()),
    }
}

fn act(
    current: &Handover,
    action: Action,
    by: &User,
    at: chrono::DateTime<chrono::Utc>,
) -> Handover {
    match handover::apply(current, &action, by, at) {
        Ok(Some(next)) => {
            assert_eq!(next.version, current.version + 1, "{action:?}");
            assert_eq!(next.id, current.id);
            next
        }
        Ok(None) | Err(_) => current.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<NewHandover>(data) else {
        return;
    };
    let now = common::now();
    let calendar = Calendar::finnish();
    let hours = OfficeHours::standard();
    let desk = common::oncall();
    for about in [entry("child_welfare"), entry("adult")] {
        let Ok(h) = request
            .clone()
            .into_handover(&about, &desk, &calendar, &hours, now)
        else {
            continue;
        };
        common::trace("handover accepted");
        common::assert_required("note", &h.note, MAX_NOTE);
        assert_eq!(h.note, request.note.trim());
        assert_eq!(h.team, request.team);
        assert_eq!((h.state, h.version), (HandoverState::Pending, 1));
        assert_eq!(h.entry_id, about.id);
        assert!(h.due_at > now, "due at {} before it was made", h.due_at);
        if about.category == Category::ChildWelfare && request.legal_basis.is_none() {
            assert_eq!(h.legal_basis, Some(LegalBasis::ChildWelfareReport));
        }
        if let Some(basis) = request.legal_basis {
            assert_eq!(h.legal_basis, Some(basis));
        }
        assert_eq!(h.legal_basis.is_some(), h.legal_due_at.is_some());
        if let Some(legal) = h.legal_due_at {
            assert!(legal > about.occurred_at);
        }
        let summary = h.summary();
        assert!(summary.get("note").is_none() && summary.get("reason").is_none());
        for event in handover::events(&h, "handover.created") {
            assert!(event.data["handover"].get("note").is_none());
        }
        common::assert_json_round_trip("handover", &h);

        // The team's side, with the body's text where an action takes text.
        let member = team_member(&h.team);
        let later = now + Duration::hours(8);
        let returned = act(
            &h,
            Action::Return {
                question: request.note.clone(),
            },
            &member,
            later,
        );
        let answered = act(
            &returned,
            Action::Answer {
                note: request.note.clone(),
            },
            &desk,
            later,
        );
        let forwarded = act(
            &answered,
            Action::Forward {
                team: "adults".into(),
                reason: request.note.clone(),
            },
            &member,
            later,
        );
        if forwarded.state == HandoverState::Forwarded {
            let copy = handover::forwarded_copy(
                &answered,
                "adults",
                forwarded.reason.as_deref().unwrap_or_default(),
                &member,
                &calendar,
                &hours,
                later,
            );
            assert_eq!(copy.forwarded_from, Some(answered.id));
            assert_eq!(
                copy.legal_due_at, answered.legal_due_at,
                "the legal clock runs on"
            );
        }
        let acked = act(&h, Action::Acknowledge, &member, later);
        let _ = act(&acked, Action::Done, &member, later);
        let _ = handover::mark_overdue(&h, h.due_at + Duration::seconds(1));
    }
});
