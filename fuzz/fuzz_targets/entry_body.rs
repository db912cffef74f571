//! `POST /api/v1/entries` and `PATCH /api/v1/entries/{id}` bodies: `serde_json::from_slice`
//! into `NewEntry` / `EntryPatch`, then `NewEntry::into_entry` and `EntryPatch::apply`, as
//! the handlers do (`http/entries.rs`). Every input is tried as both.
//!
//! Holds: no panic; an accepted entry is version 1, open, with a trimmed summary of 1-200
//! characters, notes and actions within 20 000, a police request naming its unit, a
//! normalised subject, and a contact time within the last 7 days (5 minutes of slack);
//! it survives a JSON round trip, and the board's projections of it do not panic. A patch
//! that changes something bumps the version by one, keeps the same rules, and a closing one
//! drops the claim; a patch that changes nothing returns `None`.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use chrono::{DateTime, Datelike, Duration, Utc};
use libfuzzer_sys::fuzz_target;
use paivystys::domain::entry::{
    self, Change, Channel, Entry, EntryPatch, MAX_SHORT, MAX_SUMMARY, MAX_TEXT, NewEntry, Status,
    Subject,
};

/// What must hold of every entry the rules accept at `now`.
fn assert_valid(e: &Entry, now: DateTime<Utc>) {
    common::assert_required("summary", &e.summary, MAX_SUMMARY);
    assert!(common::chars(&e.notes) <= MAX_TEXT, "notes too long");
    assert!(common::chars(&e.actions) <= MAX_TEXT, "actions too long");
    assert!(
        common::chars(&e.risk.timeframe) <= MAX_SHORT,
        "timeframe too long"
    );
    match &e.subject {
        Subject::Anonymous(a) => {
            assert!(a.anonymous, "an alias subject is anonymous");
            assert!(common::chars(&a.alias) <= MAX_SHORT);
        }
        Subject::Identified(p) => {
            assert!(!p.anonymous, "a named subject is not anonymous");
            assert!(!p.name.trim().is_empty(), "a named subject has a name");
            assert!(common::chars(&p.name) <= MAX_SHORT);
            if let Some(born) = p.birth_date {
                assert!(born <= now.date_naive(), "born in the future");
                assert!(born.year() >= 1900, "born before 1900: {born}");
            }
        }
    }
    if e.channel == Channel::PoliceRequest {
        assert!(
            e.police.is_some(),
            "a police request without police details"
        );
    }
    if let Some(p) = &e.police {
        assert!(!p.unit.trim().is_empty(), "a police request without a unit");
        assert!(common::chars(&p.unit) <= MAX_SHORT);
        assert!(common::chars(&p.outcome) <= MAX_TEXT);
    }
    assert!(
        e.occurred_at <= now + Duration::minutes(5),
        "occurred in the future"
    );
    assert!(
        e.occurred_at >= now - Duration::days(7),
        "occurred over a week ago"
    );
    // What the board, the search and the desk stream make of it.
    let summary = e.summary();
    assert_eq!(summary.summary, e.summary);
    let _ = serde_json::to_string(&summary).expect("a summary serializes");
    let _ = e.search_text();
    let _ = entry::desk_event(e, Change::Edited);
    common::assert_json_round_trip("entry", e);
}

/// The entry a patch is applied to: a fixed, valid, ordinary one.
fn base() -> Entry {
    let new: NewEntry = serde_json::from_value(serde_json::json!({
        "id": "0b6d4f8a-1c33-4c7a-9e21-5f1c2a9e8d3b",
        "channel": "phone_in", "category": "child_welfare", "urgency": "urgent",
        "summary": "Neighbour worried about children alone",
        "subject": {"anonymous": true, "alias": "Family on Koivukuja"},
        "notes": "Two children, 4 and 7, heard crying since evening.",
        "occurred_at": "2026-11-22T00:40:00Z"
    }))
    .unwrap();
    new.into_entry(&common::oncall(), common::now()).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let now = common::now();
    let user = common::oncall();

    if let Ok(new) = serde_json::from_slice::<NewEntry>(data) {
        let given_id = new.id;
        let given_summary = new.summary.clone();
        if let Ok(e) = new.into_entry(&user, now) {
            common::trace("new entry accepted");
            assert_eq!(e.version, 1);
            assert_eq!(e.status, Status::Open);
            assert_eq!((e.created_at, e.updated_at), (now, now));
            assert_eq!(e.created_by.id, user.id);
            assert_eq!(e.claimed_by, None);
            assert_eq!(e.summary, given_summary.trim());
            if let Some(id) = given_id {
                assert_eq!(e.id, id, "a client id is kept");
            }
            assert_valid(&e, now);
        }
    }

    if let Ok(patch) = serde_json::from_slice::<EntryPatch>(data) {
        let later = now + Duration::minutes(10);
        let open = base();
        let claimed = entry::claim(&open, &common::supervisor(), now)
            .unwrap()
            .unwrap();
        for current in [&open, &claimed] {
            match patch.clone().apply(current, later) {
                Err(_) => {}
                Ok(None) => common::trace("patch changed nothing"),
                Ok(Some((next, change))) => {
                    common::trace("patch applied");
                    assert_ne!(&next, current, "a new version changes something");
                    assert_eq!(next.version, current.version + 1);
                    assert_eq!(next.updated_at, later);
                    assert_eq!((next.id, next.created_at), (current.id, current.created_at));
                    assert_eq!(next.created_by, current.created_by);
                    match change {
                        Change::Closed => assert_eq!(next.status, Status::Closed),
                        Change::Reopened => assert_eq!(current.status, Status::Closed),
                        Change::Edited => {}
                        other => panic!("a patch made a {other:?} change"),
                    }
                    if next.status == Status::Closed {
                        assert_eq!(next.claimed_by, None, "a closed entry is nobody's");
                    }
                    assert_valid(&next, later);
                }
            }
        }
    }
});
