//! The phone system's webhook on both databases: signatures (valid, forged, replayed,
//! stale), a whole call from ringing to its entry's duration, events out of order, repeat
//! callers, recording a number with consent, the statistics, and that the number is in no
//! database file and no event.

use chrono::{DateTime, Duration, Utc};
use paivystys::domain::clock::Clock;
use paivystys::domain::roles::Role;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, Ws};
use crate::on_both_backends;

on_both_backends!(
    only_signed_fresh_unreplayed_events_change_anything,
    a_call_rings_on_every_console_and_its_answer_becomes_a_claimed_entry,
    an_end_that_overtakes_its_answer_is_put_right,
    a_repeat_caller_is_recognised_with_their_earlier_entries,
    the_number_is_recorded_only_with_consent_and_only_while_held,
    the_number_is_in_no_database_and_no_event,
    statistics_count_offered_answered_abandoned_and_missed,
);

const SECRET: &str = "test-telephony-secret-0123456789abcdef";
const NUMBER: &str = "040 765 4321";
/// The forms a careless implementation could store the number in.
const NUMBER_FORMS: [&str; 4] = ["040 765 4321", "0407654321", "407654321", "765 4321"];

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.telephony_secret = Some(SecretString::from(SECRET));
        s.telephony.extensions.insert("201".into(), "paivi".into());
        s.telephony
            .lines
            .insert("0800 100 200".into(), "child_welfare".into());
    })
    .await
}

fn event(kind: &str, call_id: &str, at: DateTime<Utc>) -> Value {
    json!({"event": kind, "call_id": call_id, "from": NUMBER, "to": "0800100200",
           "at": at, "extension": "201"})
}

/// Posts an event signed as the phone system does.
async fn post_signed(app: &TestApp, body: &Value) -> (u16, Value) {
    let text = body.to_string();
    let signature = paivystys::telephony::sign(&SecretString::from(SECRET), text.as_bytes());
    post_raw(app, text.into_bytes(), Some(signature)).await
}

async fn post_raw(app: &TestApp, body: Vec<u8>, signature: Option<String>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/v1/telephony/events"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("X-Paivystys-Signature", signature);
    }
    let response = request.send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn desk_events(worker: &Client) -> Vec<Value> {
    let (status, events) = worker.get_json("/api/v1/streams/desk/events?since=0").await;
    assert_eq!(status, 200);
    events.as_array().unwrap().clone()
}

async fn event_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let frame = ws.next().await;
        if frame["kind"] == kind {
            return frame;
        }
    }
}

async fn only_signed_fresh_unreplayed_events_change_anything(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let now = app.clock.now();
    let ringing = event("call.ringing", "pbx-1", now);
    let text = ringing.to_string();
    let forged = paivystys::telephony::sign(&SecretString::from("not the secret"), text.as_bytes());
    let stale = event("call.ringing", "pbx-2", now - Duration::minutes(10));
    let future = event("call.ringing", "pbx-3", now + Duration::minutes(10));
    for (what, body, signature, status) in [
        ("unsigned", text.clone().into_bytes(), None, 401),
        ("forged", text.clone().into_bytes(), Some(forged), 401),
        (
            "not hex",
            text.clone().into_bytes(),
            Some("sha256=zz".to_owned()),
            401,
        ),
        (
            "wrong scheme",
            text.clone().into_bytes(),
            Some("md5=00".to_owned()),
            401,
        ),
    ] {
        let (got, error) = post_raw(&app, body, signature).await;
        assert_eq!(got, status, "{what}: {error}");
        assert_eq!(error["error"]["code"], "signature_rejected", "{what}");
    }
    for (what, body) in [("stale", stale), ("from the future", future)] {
        let (got, error) = post_signed(&app, &body).await;
        assert_eq!(got, 401, "{what}: {error}");
    }
    // Signed garbage is refused as garbage.
    for (what, body) in [
        (
            "unknown event",
            json!({"event": "call.exploded", "call_id": "x", "from": "", "to": "", "at": now}),
        ),
        (
            "no call id",
            json!({"event": "call.ringing", "call_id": " ", "from": "", "to": "", "at": now}),
        ),
        (
            "unknown field",
            json!({"event": "call.ringing", "call_id": "x", "from": "", "to": "", "at": now, "caller_name": "x"}),
        ),
        (
            "huge call id",
            json!({"event": "call.ringing", "call_id": "x".repeat(500), "from": "", "to": "", "at": now}),
        ),
    ] {
        let (got, error) = post_signed(&app, &body).await;
        assert_eq!(got, 400, "{what}: {error}");
    }
    assert!(
        desk_events(&oncall).await.is_empty(),
        "nothing refused reached the desk"
    );

    let (status, first) = post_signed(&app, &ringing).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["call"]["state"], "ringing");
    // The same event again, as an attacker replaying a captured request would send it.
    let (status, error) = post_signed(&app, &ringing).await;
    assert_eq!(status, 409, "{error}");
    let rings = desk_events(&oncall)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "call.ringing")
        .count();
    assert_eq!(rings, 1, "the replay changed nothing");
}

async fn a_call_rings_on_every_console_and_its_answer_becomes_a_claimed_entry(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let paivi = app.user("paivi", Role::Oncall, None).await;
    let colleague = app.user("olli", Role::Oncall, None).await;
    let mut consoles = [paivi.ws().await, colleague.ws().await];
    for ws in &mut consoles {
        ws.subscribe("desk", 0).await;
    }
    let rang_at = app.clock.now();
    post_signed(&app, &event("call.ringing", "pbx-7", rang_at)).await;
    for ws in &mut consoles {
        let ringing = event_of(ws, "call.ringing").await;
        assert_eq!(ringing["data"]["call"]["line"], "child_welfare");
        assert_eq!(ringing["data"]["call"]["direction"], "in");
        assert!(ringing["data"]["call"]["repeat"].is_null(), "a first call");
    }
    let (status, live) = paivi.get_json("/api/v1/calls").await;
    assert_eq!(status, 200);
    assert_eq!(live.as_array().unwrap().len(), 1);

    app.clock.advance(Duration::seconds(20));
    let (status, answered) =
        post_signed(&app, &event("call.answered", "pbx-7", app.clock.now())).await;
    assert_eq!(status, 200, "{answered}");
    let entry_id = answered["call"]["entry_id"].as_str().unwrap().to_owned();
    for ws in &mut consoles {
        assert_eq!(
            event_of(ws, "call.answered").await["data"]["call"]["wait_secs"],
            20
        );
        let created = event_of(ws, "entry.created").await;
        assert_eq!(created["data"]["entry"]["channel"], "phone_in");
        assert_eq!(
            created["data"]["entry"]["claimed_by"]["name"], "paivi",
            "extension 201 is Päivi's phone"
        );
    }

    app.clock.advance(Duration::seconds(754));
    let (status, ended) = post_signed(&app, &{
        let mut e = event("call.ended", "pbx-7", app.clock.now());
        e["reason"] = json!("completed");
        e
    })
    .await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["call"]["outcome"], "answered");
    let (_, entry) = paivi.get_json(&format!("/api/v1/entries/{entry_id}")).await;
    assert_eq!(entry["call"]["duration_secs"], 754);
    assert_eq!(entry["status"], "in_progress");
    assert_eq!(entry["occurred_at"], json!(rang_at + Duration::seconds(20)));
    let (_, live) = paivi.get_json("/api/v1/calls").await;
    assert!(
        live.as_array().unwrap().is_empty(),
        "an ended call leaves the strip"
    );

    // An answer at an extension nobody is mapped to: the entry waits for one click.
    post_signed(&app, &event("call.ringing", "pbx-8", app.clock.now())).await;
    let mut unmapped = event("call.answered", "pbx-8", app.clock.now());
    unmapped["extension"] = json!("999");
    let (_, answered) = post_signed(&app, &unmapped).await;
    assert!(answered["call"]["worker"].is_null());
    let entry_id = answered["call"]["entry_id"].as_str().unwrap();
    let (status, claimed) = colleague
        .send_json(
            Method::POST,
            &format!("/api/v1/entries/{entry_id}/claim"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["claimed_by"]["name"], "olli");
}

async fn an_end_that_overtakes_its_answer_is_put_right(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let t0 = app.clock.now();
    post_signed(&app, &event("call.ringing", "pbx-9", t0)).await;
    let (status, ended) = post_signed(
        &app,
        &event("call.ended", "pbx-9", t0 + Duration::seconds(100)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ended["call"]["outcome"], "abandoned",
        "as far as anyone knows yet"
    );
    let (status, answered) = post_signed(
        &app,
        &event("call.answered", "pbx-9", t0 + Duration::seconds(10)),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["call"]["outcome"], "answered");
    assert_eq!(answered["call"]["talk_secs"], 90);
    let entry_id = answered["call"]["entry_id"].as_str().unwrap();
    let (_, entry) = oncall
        .get_json(&format!("/api/v1/entries/{entry_id}"))
        .await;
    assert_eq!(entry["call"]["duration_secs"], 90);
    // And an answer arriving first of all makes the call and its entry at once.
    let (status, first) =
        post_signed(&app, &event("call.answered", "pbx-10", app.clock.now())).await;
    assert_eq!(status, 200);
    assert!(first["call"]["entry_id"].is_string());
}

async fn a_repeat_caller_is_recognised_with_their_earlier_entries(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let first_at = app.clock.now();
    post_signed(&app, &event("call.ringing", "pbx-a", first_at)).await;
    let (_, first) = post_signed(&app, &event("call.answered", "pbx-a", first_at)).await;
    post_signed(
        &app,
        &event("call.ended", "pbx-a", first_at + Duration::minutes(5)),
    )
    .await;
    let first_entry = first["call"]["entry_id"].clone();

    // Three days later, the same number written another way.
    app.clock.advance(Duration::days(3));
    let mut again = event("call.ringing", "pbx-b", app.clock.now());
    again["from"] = json!("+358 40 765 4321");
    let (_, second) = post_signed(&app, &again).await;
    assert_eq!(second["call"]["repeat"]["earlier_calls"], 1);
    let oncall = app.user("paivi", Role::Oncall, None).await;
    assert_eq!(second["call"]["repeat"]["last_at"], json!(first_at));
    let (status, detail) = oncall
        .get_json(&format!(
            "/api/v1/calls/{}",
            second["call"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{detail}");
    let earlier: Vec<&Value> = detail["earlier_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(earlier, [&first_entry]);

    // A different caller is not a repeat; nor is anyone after the window.
    let mut other = event("call.ringing", "pbx-c", app.clock.now());
    other["from"] = json!("050 111 2222");
    let (_, third) = post_signed(&app, &other).await;
    assert!(third["call"]["repeat"].is_null());
    app.clock.advance(Duration::days(31));
    let (_, late) = post_signed(&app, &event("call.ringing", "pbx-d", app.clock.now())).await;
    assert!(late["call"]["repeat"].is_null(), "{late}");
}

async fn the_number_is_recorded_only_with_consent_and_only_while_held(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let now = app.clock.now();
    post_signed(&app, &event("call.ringing", "pbx-n", now)).await;
    let (_, answered) = post_signed(&app, &event("call.answered", "pbx-n", now)).await;
    let call_id = answered["call"]["id"].as_str().unwrap().to_owned();
    let entry_id = answered["call"]["entry_id"].as_str().unwrap().to_owned();
    let (_, detail) = oncall.get_json(&format!("/api/v1/calls/{call_id}")).await;
    assert_eq!(detail["number_available"], true);
    for form in NUMBER_FORMS {
        assert!(!detail.to_string().contains(form), "never shown unasked");
    }

    let path = format!("/api/v1/calls/{call_id}/record-number");
    let (status, entry) = oncall.send_json(Method::POST, &path, json!({})).await;
    assert_eq!(status, 200, "{entry}");
    assert!(entry["notes"].as_str().unwrap().contains(NUMBER));
    let log = app
        .db
        .store
        .access_log_for("entry", &entry_id)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|r| r.username == "paivi" && format!("{:?}", r.action) == "Write"),
        "recording the number is logged: {log:?}"
    );

    // After the call, the number is forgotten within a quarter of an hour.
    post_signed(&app, &event("call.ended", "pbx-n", app.clock.now())).await;
    app.clock.advance(Duration::minutes(16));
    let (status, error) = oncall.send_json(Method::POST, &path, json!({})).await;
    assert_eq!(status, 410, "{error}");
    let team = app.user("tiimi", Role::Team, Some("adults")).await;
    let (status, _) = team.send_json(Method::POST, &path, json!({})).await;
    assert_eq!(status, 403, "only the desk");
}

async fn the_number_is_in_no_database_and_no_event(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let now = app.clock.now();
    for kind in ["call.ringing", "call.answered", "call.ended"] {
        let (status, answer) = post_signed(&app, &event(kind, "pbx-p", now)).await;
        assert_eq!(status, 200);
        for form in NUMBER_FORMS {
            assert!(
                !answer.to_string().contains(form),
                "{kind} answer holds {form}"
            );
        }
    }
    let events = serde_json::to_string(&desk_events(&oncall).await).unwrap();
    assert!(events.contains("call.ended"), "the scan sees the events");
    let text = app.db.all_text().await;
    assert!(text.contains("pbx-p"), "the scan sees the stored call");
    for form in NUMBER_FORMS.iter().chain(["+358407654321"].iter()) {
        assert!(!events.contains(form), "an event holds {form}");
        assert!(!text.contains(form), "the database holds {form}");
    }
}

async fn statistics_count_offered_answered_abandoned_and_missed(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let t = app.clock.now();
    // Answered after 30 s.
    post_signed(&app, &event("call.ringing", "s-1", t)).await;
    post_signed(
        &app,
        &event("call.answered", "s-1", t + Duration::seconds(30)),
    )
    .await;
    post_signed(&app, &event("call.ended", "s-1", t + Duration::seconds(90))).await;
    // The caller gave up.
    post_signed(&app, &event("call.ringing", "s-2", t)).await;
    post_signed(&app, &event("call.ended", "s-2", t + Duration::seconds(50))).await;
    // Nobody answered.
    post_signed(&app, &event("call.ringing", "s-3", t)).await;
    let mut rang_out = event("call.ended", "s-3", t + Duration::seconds(60));
    rang_out["reason"] = json!("no_answer");
    post_signed(&app, &rang_out).await;
    let (status, stats) = oncall.get_json("/api/v1/calls/statistics").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        (
            &stats["offered"],
            &stats["answered"],
            &stats["abandoned"],
            &stats["missed"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(stats["average_wait_secs"], 30.0);
    assert_eq!(stats["by_hour"].as_array().unwrap().len(), 24);
    for bad in [
        "?from=2026-13-01",
        "?from=2026-11-22&to=2026-11-01",
        "?from=2020-01-01&to=2026-01-01",
    ] {
        let (status, _) = oncall
            .get_json(&format!("/api/v1/calls/statistics{bad}"))
            .await;
        assert_eq!(status, 400, "{bad}");
    }
}

/// `paivystys telephony simulate` plays a whole call against a running server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulate_command_plays_a_whole_call() {
    let Some(app) = spawn(Backend::Sqlite).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    // The simulator uses the real clock; the server's follows it.
    app.clock.set(Utc::now());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args([
            "telephony",
            "simulate",
            "--url",
            &app.base,
            "--extension",
            "201",
            "--ring-secs",
            "0",
            "--talk-secs",
            "0",
        ])
        .env("PAIVYSTYS_TELEPHONY_SECRET", SECRET)
        .env_remove("PAIVYSTYS_CONFIG")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    let kinds: Vec<String> = desk_events(&oncall)
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "call.ringing",
        "call.answered",
        "entry.created",
        "call.ended",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing in {kinds:?}"
        );
    }
    let wrong = tokio::process::Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args([
            "telephony",
            "simulate",
            "--url",
            &app.base,
            "--ring-secs",
            "0",
        ])
        .env(
            "PAIVYSTYS_TELEPHONY_SECRET",
            "another secret entirely, 32+ chars long",
        )
        .env_remove("PAIVYSTYS_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(!wrong.status.success(), "a wrong secret is refused");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"));
}
