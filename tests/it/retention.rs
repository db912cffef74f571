//! Retention on both databases: the free text of closed entries about anonymous clients is
//! purged after `retention.anonymous_entry_text_days` from the entry, its kept revisions
//! and its desk events; nothing else is touched, the counts stay, and the job's state is
//! the run log in the database. The job is driven directly with the manual clock.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use paivystys::domain::clock::{Clock, ManualClock};
use paivystys::domain::entry::{EntryFilter, Status};
use paivystys::domain::retention::{PURGED_SUMMARY, RecordType};
use paivystys::domain::roles::Role;
use paivystys::jobs::{Purged, run_retention};
use paivystys::store::Store;
use paivystys::{AppState, Wiring};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, WAIT};
use crate::on_both_backends;

on_both_backends!(
    closed_anonymous_text_goes_after_the_period_and_nothing_else_does,
    a_run_is_recorded_and_a_second_run_purges_nothing_twice,
    the_job_reads_its_state_from_the_table_after_a_restart,
    a_purged_entry_still_counts_in_the_statistics,
    the_append_only_triggers_let_only_the_purge_through,
    a_reopened_entry_is_purged_a_period_after_its_last_change,
    a_chats_entry_loses_what_the_worker_wrote,
);

/// A server whose own retention job has made its first look (at once, as after any start)
/// and will not look again during the test; that look's runs are forgotten, so the test
/// drives every run itself with the manual clock.
async fn spawn(backend: Backend) -> Option<TestApp> {
    let app = TestApp::spawn_with(backend, |s| s.retention.check_minutes = 24 * 60).await?;
    let looked = async {
        loop {
            let runs = app
                .db
                .store
                .purge_runs(RecordType::Sessions, 1)
                .await
                .unwrap();
            if runs.first().is_some_and(|r| r.finished_at.is_some()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, looked)
        .await
        .expect("the server's job looks at once when it starts");
    app.db
        .execute_raw("DELETE FROM retention_runs")
        .await
        .unwrap();
    Some(app)
}

/// Monday 2 March 2026, 23:40 in Helsinki: a night call.
fn night_call() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 21, 40, 0).unwrap()
}

/// A little over the default 90 days after that night, in June.
fn june() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 3, 0, 0).unwrap()
}

fn anonymous(summary: &str, alias: &str, notes: &str) -> Value {
    json!({
        "channel": "phone_in", "category": "domestic_violence", "urgency": "urgent",
        "summary": summary, "subject": {"anonymous": true, "alias": alias}, "notes": notes,
        "actions": "Ohjattu turvakotiin", "risk": {"violence_plan": true, "timeframe": "tänä yönä"},
    })
}

fn named(summary: &str, notes: &str) -> Value {
    json!({
        "channel": "walk_in", "category": "adult", "urgency": "normal", "summary": summary,
        "subject": {"anonymous": false, "name": "Maija Virtanen"}, "notes": notes,
    })
}

/// A worker logged in at the clock's current time (sessions last a shift, so each period
/// of a test logs in anew).
async fn worker(app: &TestApp, name: &str) -> Client {
    app.user(name, Role::Oncall, None).await
}

async fn log(client: &Client, body: Value) -> Value {
    let (status, entry) = client
        .send_json(Method::POST, "/api/v1/entries", body)
        .await;
    assert_eq!(status, 201, "{entry}");
    entry
}

async fn patch(client: &Client, entry: &Value, body: Value) -> Value {
    let response = client
        .write(
            Method::PATCH,
            &format!("/api/v1/entries/{}", entry["id"].as_str().unwrap()),
        )
        .header("If-Match", entry["version"].to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn close(client: &Client, entry: &Value) -> Value {
    patch(client, entry, json!({"status": "closed"})).await
}

fn id_of(entry: &Value) -> uuid::Uuid {
    entry["id"].as_str().unwrap().parse().unwrap()
}

/// Everything the store keeps of an entry, as text: the entry, its revisions, and the desk
/// events about it.
async fn stored_text(store: &dyn Store, entry: &Value) -> String {
    let id = id_of(entry);
    let current = store.get_entry(id).await.unwrap().unwrap();
    let revisions = store.entry_revisions(id).await.unwrap();
    let events: Vec<Value> = store
        .events_since("desk", 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.data["entry"]["id"] == entry["id"])
        .map(|e| e.data)
        .collect();
    format!(
        "{}\n{}\n{}",
        serde_json::to_string(&current).unwrap(),
        serde_json::to_string(&revisions).unwrap(),
        serde_json::to_string(&events).unwrap()
    )
}

fn ran(purges: &[Purged], record_type: RecordType) -> Option<i64> {
    purges
        .iter()
        .find(|p| p.record_type == record_type)
        .map(|p| p.purged)
}

async fn closed_anonymous_text_goes_after_the_period_and_nothing_else_does(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let olli = worker(&app, "olli").await;
    let old = log(
        &olli,
        anonymous(
            "Nainen pihalla lasten kanssa",
            "Koivukujan äiti",
            "Mies uhkasi puukolla",
        ),
    )
    .await;
    app.clock.advance(Duration::minutes(20));
    let old = patch(
        &olli,
        &old,
        json!({"notes": "Mies uhkasi puukolla; lapset nukkuvat mummolassa"}),
    )
    .await;
    app.clock.advance(Duration::minutes(10));
    let old = close(&olli, &old).await;
    let open = log(
        &olli,
        anonymous(
            "Avoin huoli Pajulassa",
            "Pajulan isä",
            "Soittaa huomenna uudelleen",
        ),
    )
    .await;
    let named_entry = log(
        &olli,
        named("Nimetyn asiakkaan ilta", "Virtasen asunto kylmä"),
    )
    .await;
    close(&olli, &named_entry).await;

    // Seven weeks later another anonymous night, closed: still inside its period in June.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 4, 20, 22, 5, 0).unwrap());
    let sanna = worker(&app, "sanna").await;
    let recent = log(
        &sanna,
        anonymous(
            "Tuore huoli Rantakylässä",
            "Rantakylän nuori",
            "Ei uskalla kotiin",
        ),
    )
    .await;
    close(&sanna, &recent).await;

    app.clock.set(june());
    let before = app.db.store.get_entry(id_of(&old)).await.unwrap().unwrap();
    let purges = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&purges, RecordType::AnonymousEntryText), Some(1));
    let text_run = purges
        .iter()
        .find(|p| p.record_type == RecordType::AnonymousEntryText)
        .unwrap();
    assert_eq!(text_run.cutoff, june() - Duration::days(90));

    let store = app.db.store.as_ref();
    let after = store.get_entry(id_of(&old)).await.unwrap().unwrap();
    assert_eq!(after.summary, PURGED_SUMMARY);
    assert!(after.notes.is_empty() && after.actions.is_empty());
    assert!(after.risk.timeframe.is_empty() && after.risk.violence_plan);
    assert_eq!(
        (after.version, after.status, after.channel, after.category),
        (
            before.version,
            Status::Closed,
            before.channel,
            before.category
        )
    );
    assert_eq!(
        (after.urgency, after.occurred_at, after.updated_at),
        (before.urgency, before.occurred_at, before.updated_at)
    );
    let revisions = store.entry_revisions(id_of(&old)).await.unwrap();
    assert_eq!(revisions.len(), 3, "every version is still there");
    assert!(
        revisions
            .iter()
            .all(|r| r.entry.notes.is_empty() && r.entry.summary == PURGED_SUMMARY)
    );

    let purged = stored_text(store, &old).await;
    for words in [
        "Nainen pihalla",
        "Koivukujan",
        "puukolla",
        "mummolassa",
        "turvakotiin",
        "tänä yönä",
    ] {
        assert!(!purged.contains(words), "{words} survived the purge");
    }
    assert!(
        stored_text(store, &open)
            .await
            .contains("Avoin huoli Pajulassa"),
        "an open entry keeps its words"
    );
    assert!(
        stored_text(store, &named_entry)
            .await
            .contains("Virtasen asunto kylmä"),
        "a named person's entry is a client record and is kept"
    );
    assert!(
        stored_text(store, &recent)
            .await
            .contains("Ei uskalla kotiin"),
        "a recent entry keeps its words until its own period is over"
    );

    let everything = app.db.all_text().await;
    for words in ["Nainen pihalla", "Koivukujan", "puukolla", "mummolassa"] {
        assert!(
            !everything.contains(words),
            "{words} is still somewhere in the database"
        );
    }
    for kept in ["Pajulan isä", "Virtasen asunto", "Rantakylän nuori"] {
        assert!(everything.contains(kept), "the scan sees {kept}");
    }

    // The desk stream lost words, not events: a replay from 0 still counts 1, 2, 3, …
    let desk = store.events_since("desk", 0, 10_000).await.unwrap();
    let numbers: Vec<i64> = desk.iter().map(|e| e.seq).collect();
    assert_eq!(numbers, (1..=desk.len() as i64).collect::<Vec<_>>());
}

async fn a_run_is_recorded_and_a_second_run_purges_nothing_twice(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let olli = worker(&app, "olli").await;
    let entry = log(
        &olli,
        anonymous("Yksinäinen ilta", "Vanha mies", "Ei syönyt päivään"),
    )
    .await;
    close(&olli, &entry).await;

    app.clock.set(june());
    let first = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&first, RecordType::AnonymousEntryText), Some(1));
    let store = app.db.store.as_ref();
    let runs = store
        .purge_runs(RecordType::AnonymousEntryText, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].started_at, june());
    assert_eq!(runs[0].cutoff, june() - Duration::days(90));
    assert_eq!(runs[0].finished_at, Some(june()));
    assert_eq!(runs[0].purged, Some(1));
    let purged_once = stored_text(store, &entry).await;

    // At once again: not due, nothing runs and nothing is recorded.
    let again = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&again, RecordType::AnonymousEntryText), None);
    // A day later it runs, and finds nothing left to do.
    app.clock.advance(Duration::hours(24));
    let next_day = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&next_day, RecordType::AnonymousEntryText), Some(0));
    let runs = store
        .purge_runs(RecordType::AnonymousEntryText, 10)
        .await
        .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.purged).collect::<Vec<_>>(),
        [Some(0), Some(1)]
    );
    // Asked directly, the store finds nothing to purge either, and changes nothing.
    let now = app.clock.now();
    assert_eq!(
        store
            .purge_anonymous_entry_text(now - Duration::days(90), now, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(stored_text(store, &entry).await, purged_once);
    let sessions = store.purge_runs(RecordType::Sessions, 10).await.unwrap();
    assert_eq!(sessions.len(), 2, "expired sessions have their own runs");
    assert!(sessions[1].purged >= Some(1), "the night's session expired");
}

/// A new `AppState` over a freshly opened store of the same database, with a clock of its
/// own: what the server is after a restart.
async fn restarted(app: &TestApp, at: DateTime<Utc>) -> (AppState, Arc<ManualClock>) {
    let wiring = Wiring::new(app.state.settings.ws.live_buffer_events);
    let store: Arc<dyn Store> = match app.db.backend {
        Backend::Sqlite => Arc::new(
            paivystys::store::sqlite::SqliteStore::open(
                &format!("sqlite://{}", app.db.location),
                wiring.hub.clone(),
            )
            .await
            .unwrap(),
        ),
        Backend::Postgres => {
            let options =
                sqlx::postgres::PgConnectOptions::from_str(&crate::helpers::postgres_url())
                    .unwrap()
                    .options([("search_path", app.db.location.as_str())]);
            Arc::new(
                paivystys::store::postgres::PgStore::open_with(options, wiring.hub.clone())
                    .await
                    .unwrap(),
            )
        }
    };
    let clock = Arc::new(ManualClock::new(at));
    let state = wiring
        .into_state(
            app.state.settings.clone(),
            store,
            app.state.shelter.clone(),
            clock.clone(),
        )
        .unwrap();
    (state, clock)
}

async fn the_job_reads_its_state_from_the_table_after_a_restart(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let first = run_retention(&app.state).await.unwrap();
    assert_eq!(
        ran(&first, RecordType::AnonymousEntryText),
        Some(0),
        "the first look ever runs"
    );
    let olli = worker(&app, "olli").await;
    let entry = log(
        &olli,
        anonymous("Paniikki yöllä", "Opiskelija", "Hengitysharjoitus auttoi"),
    )
    .await;
    close(&olli, &entry).await;

    // Restarted two hours later: the table says the daily purge ran, so it waits.
    let (state, clock) = restarted(&app, night_call() + Duration::hours(2)).await;
    let after_restart = run_retention(&state).await.unwrap();
    assert_eq!(ran(&after_restart, RecordType::AnonymousEntryText), None);
    assert_eq!(ran(&after_restart, RecordType::Sessions), Some(0));

    // Down until June: a run cut short by a crash is on record without an end …
    clock.set(june());
    let cut_short = state
        .store
        .start_purge_run(RecordType::AnonymousEntryText, june(), june())
        .await
        .unwrap();
    // … and the first look after the next start does the overdue work at once.
    let (state, _) = restarted(&app, june() + Duration::minutes(1)).await;
    let overdue = run_retention(&state).await.unwrap();
    assert_eq!(ran(&overdue, RecordType::AnonymousEntryText), Some(1));
    assert!(
        !stored_text(state.store.as_ref(), &entry)
            .await
            .contains("Hengitysharjoitus")
    );
    let runs = state
        .store
        .purge_runs(RecordType::AnonymousEntryText, 10)
        .await
        .unwrap();
    assert_eq!(runs.len(), 3);
    let unfinished = runs.iter().find(|r| r.id == cut_short).unwrap();
    assert_eq!((unfinished.finished_at, unfinished.purged), (None, None));
}

/// Entries by channel and category that began in the period, as a statistics report counts
/// them.
async fn counts(
    store: &dyn Store,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> BTreeMap<(String, String), usize> {
    let all = store
        .list_entries(&EntryFilter {
            include_all: true,
            since: Some(from),
            limit: 10_000,
            ..EntryFilter::default()
        })
        .await
        .unwrap();
    let mut counts = BTreeMap::new();
    for entry in all.iter().filter(|e| e.occurred_at < until) {
        *counts
            .entry((
                entry.channel.as_str().to_owned(),
                entry.category.as_str().to_owned(),
            ))
            .or_default() += 1;
    }
    counts
}

async fn a_purged_entry_still_counts_in_the_statistics(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let olli = worker(&app, "olli").await;
    for n in 0..3 {
        let entry = log(
            &olli,
            anonymous(&format!("Väkivaltaa {n}"), "Soittaja", "Uhka"),
        )
        .await;
        close(&olli, &entry).await;
    }
    let mut crisis = anonymous("Kriisi", "Nuori", "Ero");
    crisis["category"] = json!("crisis");
    crisis["channel"] = json!("chat");
    let open = log(&olli, crisis).await;
    let march = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let april = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    let before = counts(app.db.store.as_ref(), march, april).await;
    assert_eq!(
        before.get(&("phone_in".into(), "domestic_violence".into())),
        Some(&3)
    );

    app.clock.set(june());
    let purges = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&purges, RecordType::AnonymousEntryText), Some(3));
    assert_eq!(counts(app.db.store.as_ref(), march, april).await, before);
    assert!(
        stored_text(app.db.store.as_ref(), &open)
            .await
            .contains("Kriisi")
    );
}

async fn the_append_only_triggers_let_only_the_purge_through(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let olli = worker(&app, "olli").await;
    let anonymous_entry = log(&olli, anonymous("Huoli", "Naapuri", "Meteliä")).await;
    close(&olli, &anonymous_entry).await;
    let named_entry = log(&olli, named("Nimetty", "Tiedot")).await;
    close(&olli, &named_entry).await;
    log(&olli, anonymous("Kesken", "Soittaja", "Vielä auki")).await;
    app.append("desk", 1).await;
    app.clock.set(june());
    run_retention(&app.state).await.unwrap();

    let stamp = "'2026-06-02T00:00:00Z'";
    let refused = [
        // Rewriting a kept version is still refused, marked or not …
        "UPDATE entry_revisions SET body = '{}'".to_owned(),
        format!(
            "UPDATE entry_revisions SET body = '{{}}', purged_at = {stamp} \
             WHERE entry_id IN (SELECT id FROM entries WHERE identified = TRUE)"
        ),
        // … a purged one cannot be purged (rewritten) again …
        format!(
            "UPDATE entry_revisions SET body = '{{}}', purged_at = {stamp} \
             WHERE purged_at IS NOT NULL"
        ),
        // … an open entry's versions are not the purge's to touch …
        format!(
            "UPDATE entry_revisions SET body = '{{}}', purged_at = {stamp} \
             WHERE entry_id IN (SELECT id FROM entries WHERE status <> 'closed')"
        ),
        // … and nothing rewrites who wrote a version.
        format!(
            "UPDATE entry_revisions SET by_name = 'x', purged_at = {stamp} \
             WHERE entry_id IN (SELECT id FROM entries WHERE identified = FALSE)"
        ),
        "DELETE FROM entry_revisions".to_owned(),
        "UPDATE events SET data = '{}'".to_owned(),
        format!(
            "UPDATE events SET data = '{{}}', purged_at = {stamp} WHERE kind NOT LIKE 'entry.%'"
        ),
        format!("UPDATE events SET seq = seq + 1000, purged_at = {stamp} WHERE purged_at IS NULL"),
    ];
    // Each statement matches rows; the triggers must refuse every one.
    for sql in refused {
        let result = app.db.execute_raw(&sql).await;
        assert!(
            result.is_err(),
            "the database let through: {sql} ({result:?})"
        );
    }
    assert!(
        stored_text(app.db.store.as_ref(), &named_entry)
            .await
            .contains("Tiedot")
    );
}

async fn a_reopened_entry_is_purged_a_period_after_its_last_change(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let olli = worker(&app, "olli").await;
    let entry = log(&olli, anonymous("Ensimmäinen soitto", "Soittaja", "Alku")).await;
    close(&olli, &entry).await;

    // The caller rings again five days later; the worker reopens the entry, writes more
    // and closes it again.
    app.clock.advance(Duration::days(5));
    let sanna = worker(&app, "sanna").await;
    let (_, current) = sanna
        .get_json(&format!("/api/v1/entries/{}", id_of(&entry)))
        .await;
    let reopened = patch(
        &sanna,
        &current,
        json!({"status": "open", "summary": "Toinen soitto", "notes": "Jatkoa"}),
    )
    .await;
    close(&sanna, &reopened).await;

    // 91 days after the first close, 86 after the last change: not yet.
    app.clock.set(june());
    let early = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&early, RecordType::AnonymousEntryText), Some(0));
    assert!(
        stored_text(app.db.store.as_ref(), &entry)
            .await
            .contains("Jatkoa")
    );

    app.clock.advance(Duration::days(5));
    let later = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&later, RecordType::AnonymousEntryText), Some(1));
    let text = stored_text(app.db.store.as_ref(), &entry).await;
    for words in ["Ensimmäinen", "Alku", "Toinen soitto", "Jatkoa"] {
        assert!(!text.contains(words), "{words} survived: {text}");
    }
    let revisions = app.db.store.entry_revisions(id_of(&entry)).await.unwrap();
    assert_eq!(revisions.len(), 4, "created, closed, reopened, closed");
}

async fn a_chats_entry_loses_what_the_worker_wrote(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    app.clock.set(night_call());
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/public/chats"))
        .json(&json!({"language": "fi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let opened: Value = response.json().await.unwrap();
    let chat_id = opened["chat_id"].as_str().unwrap();
    // Accepting makes the chat's entry in the chat's own transaction (another write path
    // than a logged call); the worker writes into it and closes it.
    let olli = worker(&app, "olli").await;
    let (status, accepted) = olli
        .send_json(
            Method::POST,
            &format!("/api/v1/chats/{chat_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    let (_, entry) = olli
        .get_json(&format!(
            "/api/v1/entries/{}",
            accepted["entry_id"].as_str().unwrap()
        ))
        .await;
    app.clock.advance(Duration::minutes(40));
    let written = patch(
        &olli,
        &entry,
        json!({"summary": "Nuori kertoi kiusaamisesta", "notes": "Harjun koulun välitunnit"}),
    )
    .await;
    close(&olli, &written).await;

    app.clock.set(june());
    let purges = run_retention(&app.state).await.unwrap();
    assert_eq!(ran(&purges, RecordType::AnonymousEntryText), Some(1));
    let text = stored_text(app.db.store.as_ref(), &entry).await;
    let everything = app.db.all_text().await;
    for words in ["kiusaamisesta", "Harjun koulun"] {
        assert!(!text.contains(words), "{words} survived: {text}");
        assert!(
            !everything.contains(words),
            "{words} is still in the database"
        );
    }
    let kept = app
        .db
        .store
        .get_entry(id_of(&entry))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.chat.map(|c| c.to_string()).as_deref(), Some(chat_id));
}
