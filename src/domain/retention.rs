//! Retention: which records a purge touches, what it takes out of them, and when a purge
//! is due. Pure rules; `store::retention` applies them and `jobs` runs them on a timer.
//!
//! A purge removes *words*, never rows: channel, category, urgency, status, risk flags,
//! times and who handled the contact stay, so the counts of a period are the same before
//! and after (the county's statistics and the archive's record that a contact happened).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::entry::{Entry, Subject};
use crate::error::{AppError, Result};

/// What a purged summary reads. The summary must not be empty (an edit after a reopen is
/// validated), and a dash reads the same in Finnish, Swedish and English.
pub const PURGED_SUMMARY: &str = "—";

key_enum!(
    /// The kinds of record the retention job purges, each with its own period and run log.
    RecordType {
        /// The free text of closed entries about anonymous clients.
        AnonymousEntryText = "anonymous_entry_text",
        /// Expired login sessions (refused from the moment they expire; deleted later).
        Sessions = "sessions",
    }
);

/// Whether a purge is due: it never finished a run, or its last finished run started at
/// least `every` ago. A run that started and never finished (a crash, a restart) does not
/// count, so the work it left is done at the next look.
pub fn is_due(last_started: Option<DateTime<Utc>>, every: Duration, now: DateTime<Utc>) -> bool {
    last_started.is_none_or(|started| now - started >= every)
}

/// An entry version with its free text removed: the summary, the alias, the notes, what was
/// done, the risk's timeframe and a police request's outcome. The police unit stays (it
/// names the requesting authority, not the client). `None` for a named person's version:
/// those are client records kept under the archive rules, and a purge never touches them.
pub fn purge_entry(entry: &Entry) -> Option<Entry> {
    if entry.subject.is_identified() {
        return None;
    }
    let mut purged = entry.clone();
    purged.summary = PURGED_SUMMARY.to_owned();
    purged.subject = Subject::anonymous("");
    purged.notes.clear();
    purged.actions.clear();
    purged.risk.timeframe.clear();
    if let Some(police) = &mut purged.police {
        police.outcome.clear();
    }
    Some(purged)
}

/// Removes the free text from a stream event about entry `id`, as the desk's `entry.*`
/// events carry it (`{"entry": EntrySummary}`: the summary and an anonymous subject's
/// alias). True when the event was about that entry's anonymous version and is changed;
/// false for anything else, which stays as it is.
pub fn purge_entry_event(data: &mut serde_json::Value, id: Uuid) -> bool {
    let Some(entry) = data.get_mut("entry").and_then(|e| e.as_object_mut()) else {
        return false;
    };
    let about = entry.get("id").and_then(|v| v.as_str()) == Some(id.to_string().as_str());
    let anonymous = entry
        .get("subject")
        .and_then(|s| s.get("anonymous"))
        .and_then(|a| a.as_bool())
        == Some(true);
    if !about || !anonymous {
        return false;
    }
    entry.insert("summary".into(), PURGED_SUMMARY.into());
    if let Some(subject) = entry.get_mut("subject").and_then(|s| s.as_object_mut()) {
        subject.insert("alias".into(), "".into());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::User;
    use crate::domain::entry::{Change, NewEntry, desk_event};
    use crate::domain::roles::Role;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 21, 40, 0).unwrap()
    }

    fn entry(subject: serde_json::Value) -> Entry {
        let author = User {
            id: 7,
            username: "olli".into(),
            display_name: "Olli Päivystäjä".into(),
            role: Role::Oncall,
            team: None,
        };
        serde_json::from_value::<NewEntry>(serde_json::json!({
            "channel": "police_request", "category": "domestic_violence", "urgency": "urgent",
            "summary": "Nainen pihalla lasten kanssa", "subject": subject,
            "notes": "Mies uhkasi puukolla", "actions": "Ohjattu turvakotiin",
            "risk": {"violence_plan": true, "timeframe": "tänä yönä"},
            "police": {"unit": "Itä-Uusimaa partio 3", "outcome": "Mies vietiin putkaan"},
        }))
        .unwrap()
        .into_entry(&author, at())
        .unwrap()
    }

    #[test]
    fn a_purge_takes_the_words_and_keeps_what_statistics_count() {
        let before = entry(serde_json::json!({"anonymous": true, "alias": "Koivukujan äiti"}));
        let after = purge_entry(&before).unwrap();
        let text = serde_json::to_string(&after).unwrap();
        for words in [
            "Nainen pihalla",
            "Koivukujan",
            "puukolla",
            "turvakotiin",
            "tänä yönä",
            "putkaan",
        ] {
            assert!(!text.contains(words), "{words} survived: {text}");
        }
        assert_eq!(after.summary, PURGED_SUMMARY);
        assert_eq!(
            (after.id, after.version, after.channel, after.category),
            (before.id, before.version, before.channel, before.category)
        );
        assert_eq!(
            (after.urgency, after.status),
            (before.urgency, before.status)
        );
        assert_eq!(after.risk.any(), before.risk.any(), "the risk flags stay");
        assert_eq!(
            (after.occurred_at, after.updated_at),
            (before.occurred_at, before.updated_at)
        );
        let police = after.police.as_ref().unwrap();
        assert_eq!(
            (police.unit.as_str(), police.outcome.as_str()),
            ("Itä-Uusimaa partio 3", "")
        );
    }

    #[test]
    fn a_named_persons_entry_is_never_purged() {
        let named = entry(serde_json::json!({"anonymous": false, "name": "Maija Virtanen"}));
        assert!(purge_entry(&named).is_none());
        let mut data = desk_event(&named, Change::Created).data;
        let kept = data.clone();
        assert!(!purge_entry_event(&mut data, named.id));
        assert_eq!(data, kept);
    }

    #[test]
    fn an_event_loses_the_summary_and_alias_of_its_own_entry_only() {
        let anonymous = entry(serde_json::json!({"anonymous": true, "alias": "Koivukujan äiti"}));
        let mut data = desk_event(&anonymous, Change::Closed).data;
        assert!(!purge_entry_event(&mut data.clone(), Uuid::new_v4()));
        assert!(purge_entry_event(&mut data, anonymous.id));
        let text = data.to_string();
        assert!(
            !text.contains("Nainen") && !text.contains("Koivukujan"),
            "{text}"
        );
        assert_eq!(data["entry"]["category"], "domestic_violence");
        assert_eq!(data["entry"]["subject"]["anonymous"], true);
        let mut other = serde_json::json!({"handover": {"entry_id": anonymous.id}});
        assert!(!purge_entry_event(&mut other, anonymous.id));
    }

    #[test]
    fn a_purge_is_due_when_never_run_or_a_period_after_the_last_start() {
        let day = Duration::days(1);
        assert!(is_due(None, day, at()));
        assert!(!is_due(Some(at() - Duration::hours(23)), day, at()));
        assert!(is_due(Some(at() - day), day, at()));
        assert!(!is_due(Some(at() + Duration::hours(1)), day, at()));
    }
}
