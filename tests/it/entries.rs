//! The live log's API on both databases: what a night worker does with entries.

use chrono::{Duration, Utc};
use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_logged_call_can_be_read_back_and_is_announced_on_the_desk,
    a_retried_create_makes_one_entry,
    invalid_fields_are_refused_and_named,
    edits_need_the_current_version,
    two_workers_cannot_claim_the_same_entry,
    corrections_keep_the_earlier_text,
    the_board_filters_sorts_and_searches,
    only_desk_roles_reach_the_live_log,
    reads_of_identified_subjects_are_access_logged,
    presence_shows_who_is_on_shift,
);

fn call(summary: &str) -> Value {
    json!({
        "channel": "phone_in",
        "category": "child_welfare",
        "urgency": "urgent",
        "summary": summary,
        "subject": {"anonymous": true, "alias": "Mother of two"},
        "notes": "Neighbour heard shouting; children alone?",
    })
}

async fn create(client: &Client, body: &Value) -> (u16, Value) {
    let response = client
        .write(Method::POST, "/api/v1/entries")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn patch(client: &Client, id: &str, version: i64, body: Value) -> (u16, Value) {
    let response = client
        .write(Method::PATCH, &format!("/api/v1/entries/{id}"))
        .header("If-Match", version.to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn list(client: &Client, query: &str) -> Vec<Value> {
    let response = client
        .get(&format!("/api/v1/entries{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

async fn a_logged_call_can_be_read_back_and_is_announced_on_the_desk(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Oncall, None).await;
    let mut board = bert.ws().await;
    board.subscribe("desk", 0).await;
    loop {
        if board.next().await["type"] == "subscribed" {
            break;
        }
    }

    let response = anna
        .write(Method::POST, "/api/v1/entries")
        .json(&call("Children alone at night"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let entry: Value = response.json().await.unwrap();
    let id = entry["id"].as_str().unwrap().to_owned();
    assert_eq!(entry["version"], 1);
    assert_eq!(entry["status"], "open");
    assert_eq!(entry["created_by"]["name"], "anna");

    let read = bert
        .get(&format!("/api/v1/entries/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["etag"], "\"1\"");
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, entry);

    let event = loop {
        let frame = board.next().await;
        if frame["type"] == "event" {
            break frame;
        }
    };
    assert_eq!(event["kind"], "entry.created");
    assert_eq!(event["data"]["entry"]["id"], id.as_str());
    assert_eq!(event["data"]["entry"]["summary"], "Children alone at night");
    assert!(
        event["data"]["entry"].get("notes").is_none(),
        "the desk stream carries the board's projection, not the full text"
    );
}

async fn a_retried_create_makes_one_entry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let mut body = call("Retried over bad wifi");
    body["id"] = json!(uuid::Uuid::new_v4());
    let (first, created) = create(&anna, &body).await;
    let (second, again) = create(&anna, &body).await;
    assert_eq!((first, second), (201, 200));
    assert_eq!(created, again);
    assert_eq!(list(&anna, "").await.len(), 1);
    let desk = app.db.store.events_since("desk", 0, 100).await.unwrap();
    assert_eq!(desk.len(), 1, "one announcement, not two");
}

async fn invalid_fields_are_refused_and_named(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let with = |key: &str, value: Value| {
        let mut body = call("x");
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = call("x");
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = [
        (with("channel", json!("fax")), "channel"),
        (with("category", json!("weather")), "category"),
        (with("urgency", json!("asap")), "urgency"),
        (with("urgency", json!(3)), "urgency"),
        (with("summary", json!("   ")), "summary"),
        (with("summary", json!("s".repeat(201))), "summary"),
        (without("summary"), "summary"),
        (with("channel", json!("police_request")), "police.unit"),
        (
            with(
                "occurred_at",
                json!((Utc::now() + Duration::hours(2)).to_rfc3339()),
            ),
            "occurred_at",
        ),
        (with("notes", json!("n".repeat(20_001))), "notes"),
        (with("secret_flag", json!(true)), "secret_flag"),
        (
            with("subject", json!({"anonymous": false, "name": ""})),
            "subject.name",
        ),
        (
            with(
                "subject",
                json!({"anonymous": false, "name": "A B", "birth_date": "2999-01-01"}),
            ),
            "subject.birth_date",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = create(&anna, &body).await;
        assert_eq!(status, 422, "{field}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    assert!(
        list(&anna, "?status=all").await.is_empty(),
        "nothing was written"
    );

    // Logging a contact afterwards, with its real start time, is fine.
    let earlier = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let (status, entry) = create(&anna, &with("occurred_at", json!(earlier))).await;
    assert_eq!(status, 201);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(entry["occurred_at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&earlier).unwrap()
    );
}

async fn edits_need_the_current_version(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Oncall, None).await;
    let (_, entry) = create(&anna, &call("Both edit")).await;
    let id = entry["id"].as_str().unwrap();

    let (status, saved) = patch(&anna, id, 1, json!({"notes": "Anna's notes"})).await;
    assert_eq!(status, 200);
    assert_eq!(saved["version"], 2);
    // Bert still holds version 1: his save is refused, Anna's text stays.
    let (status, error) = patch(&bert, id, 1, json!({"notes": "Bert's notes"})).await;
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "version_conflict");
    let current: Value = bert
        .get(&format!("/api/v1/entries/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["notes"], "Anna's notes");

    let missing = bert
        .write(Method::PATCH, &format!("/api/v1/entries/{id}"))
        .json(&json!({"notes": "no version"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 428);
    let garbage = bert
        .write(Method::PATCH, &format!("/api/v1/entries/{id}"))
        .header("If-Match", "latest")
        .json(&json!({"notes": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let (status, _) = patch(&bert, id, 2, json!({"actions": "Called the family"})).await;
    assert_eq!(status, 200);
    // A resent edit (the answer was lost) keeps no empty version.
    let quoted = bert
        .write(Method::PATCH, &format!("/api/v1/entries/{id}"))
        .header("If-Match", "\"3\"")
        .json(&json!({"actions": "Called the family"}))
        .send()
        .await
        .unwrap();
    assert_eq!(quoted.status(), 200);
    assert_eq!(quoted.json::<Value>().await.unwrap()["version"], 3);
    let unknown = patch(&bert, &uuid::Uuid::new_v4().to_string(), 1, json!({})).await;
    assert_eq!(unknown.0, 404);
}

async fn two_workers_cannot_claim_the_same_entry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Oncall, None).await;
    let boss = app.user("sirpa", Role::Supervisor, None).await;
    let (_, entry) = create(&anna, &call("Call the family back")).await;
    let id = entry["id"].as_str().unwrap();
    let claim = |client: &Client, action: &str| {
        client
            .write(Method::POST, &format!("/api/v1/entries/{id}/{action}"))
            .send()
    };
    let mine = claim(&anna, "claim").await.unwrap();
    assert_eq!(mine.status(), 200);
    let mine: Value = mine.json().await.unwrap();
    assert_eq!(mine["claimed_by"]["name"], "anna");
    assert_eq!(mine["status"], "in_progress");

    let taken = claim(&bert, "claim").await.unwrap();
    assert_eq!(taken.status(), 409);
    let taken: Value = taken.json().await.unwrap();
    assert!(taken["error"]["message"].as_str().unwrap().contains("anna"));
    assert_eq!(claim(&bert, "release").await.unwrap().status(), 403);
    let again: Value = claim(&anna, "claim").await.unwrap().json().await.unwrap();
    assert_eq!(
        again["version"], mine["version"],
        "a resent claim changes nothing"
    );
    assert_eq!(claim(&boss, "release").await.unwrap().status(), 200);
    assert_eq!(claim(&bert, "claim").await.unwrap().status(), 200);

    // Simultaneous claims: exactly one wins.
    let (_, other) = create(&anna, &call("Race")).await;
    let other_id = other["id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/entries/{other_id}/claim");
    let (a, b) = tokio::join!(
        anna.write(Method::POST, &url).send(),
        bert.write(Method::POST, &url).send()
    );
    let mut codes = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409]);
}

async fn corrections_keep_the_earlier_text(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let (_, entry) = create(&anna, &call("Correct me")).await;
    let id = entry["id"].as_str().unwrap();
    patch(&anna, id, 1, json!({"notes": "Wrong address written"})).await;
    patch(
        &anna,
        id,
        2,
        json!({"notes": "Address corrected: Koivukuja 3"}),
    )
    .await;
    let (status, closed) = patch(&anna, id, 3, json!({"status": "closed"})).await;
    assert_eq!(status, 200);
    assert_eq!(closed["status"], "closed");
    let history: Vec<Value> = anna
        .get(&format!("/api/v1/entries/{id}/history"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let changes: Vec<(i64, &str, &str)> = history
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["change"].as_str().unwrap(),
                r["entry"]["notes"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (1, "created", "Neighbour heard shouting; children alone?"),
            (2, "edited", "Wrong address written"),
            (3, "edited", "Address corrected: Koivukuja 3"),
            (4, "closed", "Address corrected: Koivukuja 3"),
        ]
    );
    assert!(history.iter().all(|r| r["by"]["name"] == "anna"));
    // Revisions cannot be rewritten behind the API either.
    assert!(
        app.db
            .execute_raw("UPDATE entry_revisions SET body = '{}'")
            .await
            .is_err()
    );
    assert!(app.db.execute_raw("DELETE FROM entries").await.is_err());
}

async fn the_board_filters_sorts_and_searches(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Oncall, None).await;
    let minutes_ago = |m: i64| (Utc::now() - Duration::minutes(m)).to_rfc3339();
    let specs = [
        ("Calm older caller", "older_person", "normal", 10, &anna),
        (
            "Suicide threat, 100% serious",
            "mental_health",
            "immediate",
            50,
            &bert,
        ),
        (
            "Police at the door",
            "domestic_violence",
            "urgent",
            5,
            &anna,
        ),
        ("Older man fell", "older_person", "urgent", 30, &bert),
        ("Closed matter", "adult", "normal", 1, &anna),
    ];
    let mut ids = Vec::new();
    for (summary, category, urgency, ago, who) in specs {
        let mut body = call(summary);
        body["category"] = json!(category);
        body["urgency"] = json!(urgency);
        body["occurred_at"] = json!(minutes_ago(ago));
        let (status, entry) = create(who, &body).await;
        assert_eq!(status, 201);
        ids.push(entry["id"].as_str().unwrap().to_owned());
    }
    patch(&anna, &ids[4], 1, json!({"status": "closed"})).await;

    let summaries = |entries: Vec<Value>| -> Vec<String> {
        entries
            .iter()
            .map(|e| e["summary"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        summaries(list(&anna, "").await),
        [
            "Suicide threat, 100% serious",
            "Police at the door",
            "Older man fell",
            "Calm older caller"
        ],
        "open ones, most urgent first, then newest"
    );
    assert_eq!(
        summaries(list(&anna, "?status=closed").await),
        ["Closed matter"]
    );
    assert_eq!(list(&anna, "?status=all").await.len(), 5);
    assert_eq!(
        summaries(list(&anna, "?category=older_person").await),
        ["Older man fell", "Calm older caller"]
    );
    assert_eq!(
        summaries(list(&anna, "?urgency=urgent").await),
        ["Police at the door", "Older man fell"]
    );
    assert_eq!(
        summaries(list(&bert, "?mine=true").await),
        ["Suicide threat, 100% serious", "Older man fell"]
    );
    assert_eq!(
        summaries(list(&anna, "?q=OLDER%20fell").await),
        ["Older man fell"]
    );
    assert_eq!(
        summaries(list(&anna, "?q=100%25").await),
        ["Suicide threat, 100% serious"],
        "a % typed in the search is literal"
    );
    assert_eq!(
        list(&anna, "?q=mother").await.len(),
        4,
        "the alias is searched"
    );
    let since = urlencode(&minutes_ago(20));
    assert_eq!(list(&anna, &format!("?since={since}")).await.len(), 2);

    for bad in [
        "?status=lost",
        "?category=x",
        "?urgency=now",
        "?limit=0",
        "?limit=9999",
        "?colour=red",
    ] {
        let response = anna
            .get(&format!("/api/v1/entries{bad}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == 422 || response.status() == 400,
            "{bad}: {}",
            response.status()
        );
    }
    let with_head = anna.get("/api/v1/entries").send().await.unwrap();
    assert_eq!(with_head.headers()["x-stream-head"], "6");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

async fn only_desk_roles_reach_the_live_log(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let (_, entry) = create(&anna, &call("Desk only")).await;
    let id = entry["id"].as_str().unwrap();
    for (username, role, team) in [
        ("tiina", Role::Team, Some("child_welfare")),
        ("saara", Role::Shelter, None),
        ("aatu", Role::Admin, None),
    ] {
        let client = app.user(username, role, team).await;
        assert_eq!(
            client.get("/api/v1/entries").send().await.unwrap().status(),
            403
        );
        assert_eq!(
            client
                .get(&format!("/api/v1/entries/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
        let (status, _) = create(&client, &call("not allowed")).await;
        assert_eq!(status, 403, "{username}");
        assert_eq!(
            client
                .get("/api/v1/presence")
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
    let anonymous = reqwest::get(app.url(&format!("/api/v1/entries/{id}")))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(list(&anna, "?status=all").await.len(), 1);
}

async fn reads_of_identified_subjects_are_access_logged(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Supervisor, None).await;
    let mut named = call("Named client");
    named["subject"] = json!({
        "anonymous": false, "name": "Maija Virtanen", "birth_date": "1950-05-01",
        "municipality": "Vantaa"
    });
    let (_, entry) = create(&anna, &named).await;
    let id = entry["id"].as_str().unwrap().to_owned();
    let (_, anonymous) = create(&anna, &call("Anonymous client")).await;
    let anonymous_id = anonymous["id"].as_str().unwrap().to_owned();

    bert.get(&format!("/api/v1/entries/{id}"))
        .send()
        .await
        .unwrap();
    bert.get(&format!("/api/v1/entries/{id}/history"))
        .send()
        .await
        .unwrap();
    anna.get(&format!("/api/v1/entries/{anonymous_id}"))
        .send()
        .await
        .unwrap();

    let log = app.db.store.access_log_for("entry", &id).await.unwrap();
    let seen: Vec<(String, String)> = log
        .iter()
        .map(|r| (r.username.clone(), format!("{:?}", r.action)))
        .collect();
    assert_eq!(
        seen,
        [
            ("anna".to_owned(), "Write".to_owned()),
            ("bert".to_owned(), "Read".to_owned()),
            ("bert".to_owned(), "Read".to_owned()),
        ]
    );
    assert!(
        log.iter()
            .all(|r| r.result == paivystys::store::AccessResult::Allowed)
    );
    assert!(
        app.db
            .store
            .access_log_for("entry", &anonymous_id)
            .await
            .unwrap()
            .is_empty()
    );

    // The board and the live stream never carry the name.
    let board = serde_json::to_string(&list(&anna, "").await).unwrap();
    assert!(
        !board.contains("Virtanen") && !board.contains("1950"),
        "{board}"
    );
    assert!(board.contains("M. V."));
    let desk = app.db.store.events_since("desk", 0, 100).await.unwrap();
    assert!(!serde_json::to_string(&desk).unwrap().contains("Virtanen"));
}

async fn presence_shows_who_is_on_shift(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let bert = app.user("bert", Role::Supervisor, None).await;
    let mut anna_ws = anna.ws().await;
    let names = |frame: &Value| -> Vec<String> {
        frame["online"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = anna_ws.next_any().await;
    assert_eq!(first["type"], "presence", "sent first, on connect");
    assert_eq!(names(&first), ["anna"]);

    let bert_ws = bert.ws().await;
    assert_eq!(names(&anna_ws.next_presence().await), ["anna", "bert"]);
    let listed: Vec<Value> = anna
        .get("/api/v1/presence")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["role"], "supervisor");
    drop(bert_ws);
    assert_eq!(names(&anna_ws.next_presence().await), ["anna"]);
}
