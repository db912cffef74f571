//! Handovers on both databases, with the clock set to real dates: routing, due times over
//! weekends and Easter, team isolation, the inbox actions, and the overdue timer.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_friday_night_handover_is_due_monday_at_the_end_of_office_hours,
    a_child_welfare_handover_over_easter_runs_the_seven_working_day_clock,
    urgent_handovers_are_due_at_the_next_opening_and_short_fridays_count,
    a_team_sees_only_its_own_handovers,
    the_team_acknowledges_forwards_and_asks_the_desk,
    unacknowledged_handovers_turn_overdue_once,
    the_morning_digest_holds_what_came_since_the_office_closed,
);

/// Helsinki wall time as UTC.
fn helsinki(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Helsinki
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn due(value: &Value, field: &str) -> DateTime<Utc> {
    value[field].as_str().unwrap().parse().unwrap()
}

/// The events of one kind on a stream, oldest first.
async fn events_of(app: &TestApp, stream: &str, kind: &str) -> Vec<paivystys::events::Event> {
    app.db
        .store
        .events_since(stream, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .collect()
}

async fn entry(client: &Client, category: &str) -> String {
    let response = client
        .write(Method::POST, "/api/v1/entries")
        .json(&json!({
            "channel": "phone_in", "category": category, "urgency": "normal",
            "summary": "Needs daytime follow-up",
            "subject": {"anonymous": true, "alias": "Caller"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn hand_over(client: &Client, entry_id: &str, body: Value) -> (u16, Value) {
    let response = client
        .write(
            Method::POST,
            &format!("/api/v1/entries/{entry_id}/handovers"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn post(client: &Client, path: &str, body: Value) -> (u16, Value) {
    client.send_json(Method::POST, path, body).await
}

async fn a_friday_night_handover_is_due_monday_at_the_end_of_office_hours(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 20, 21, 0)); // Friday evening
    let night = app.user("olli", Role::Oncall, None).await;
    let id = entry(&night, "adult").await;
    let note = "Asiakas soitti klo 20.40: vuokranantaja uhkaa häädöllä. Soita takaisin \
                maanantaina, puh. annettu asiakkaalta. Ei välitöntä vaaraa.";
    let mut body = json!({"team": "adults", "note": note});
    let client_id = uuid::Uuid::new_v4();
    body["id"] = json!(client_id);
    let (status, handover) = hand_over(&night, &id, body.clone()).await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["state"], "pending");
    assert_eq!(handover["team"], "adults");
    assert_eq!(due(&handover, "due_at"), helsinki(2026, 11, 23, 16, 0));
    assert_eq!(rfc(due(&handover, "due_at")), "2026-11-23T14:00:00Z");
    assert!(handover["legal_due_at"].is_null());

    let (again, same) = hand_over(&night, &id, body).await;
    assert_eq!(
        (again, same["id"].clone()),
        (200, json!(client_id)),
        "a retry"
    );

    for stream in ["desk", "team:adults"] {
        let events = app.db.store.events_since(stream, 0, 100).await.unwrap();
        let handed: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "handover.created")
            .collect();
        assert_eq!(handed.len(), 1, "{stream}");
        assert!(
            handed[0].data["handover"].get("note").is_none(),
            "no note on the stream"
        );
    }
    let (status, error) = hand_over(&night, &id, json!({"team": "weather", "note": "x"})).await;
    assert_eq!(
        (status, error["error"]["field"].clone()),
        (422, json!("team"))
    );
    let (status, error) = hand_over(&night, &id, json!({"team": "adults", "note": "  "})).await;
    assert_eq!(
        (status, error["error"]["field"].clone()),
        (422, json!("note"))
    );
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = hand_over(
        &night,
        &unknown.to_string(),
        json!({"team": "adults", "note": "x"}),
    )
    .await;
    assert_eq!(status, 404);
}

async fn a_child_welfare_handover_over_easter_runs_the_seven_working_day_clock(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Maundy Thursday evening 2026; Good Friday 3.4 and Easter Monday 6.4 are closed.
    app.clock.set(helsinki(2026, 4, 2, 21, 0));
    let night = app.user("olli", Role::Oncall, None).await;
    let id = entry(&night, "child_welfare").await;
    let (status, handover) = hand_over(
        &night,
        &id,
        json!({"team": "child_welfare", "note": "Lastensuojeluilmoitus poliisilta."}),
    )
    .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(
        due(&handover, "due_at"),
        helsinki(2026, 4, 7, 16, 0),
        "Tuesday after Easter"
    );
    assert_eq!(handover["legal_basis"], "child_welfare_report");
    // 7 working days after 2.4: 7, 8, 9, 10, 13, 14, 15 April.
    assert_eq!(
        rfc(due(&handover, "legal_due_at")),
        rfc(Helsinki
            .with_ymd_and_hms(2026, 4, 15, 23, 59, 59)
            .unwrap()
            .with_timezone(&Utc))
    );

    // An older person's service need (SHL § 36) on request, for another team.
    let older = entry(&night, "older_person").await;
    let (status, handover) = hand_over(
        &night,
        &older,
        json!({"team": "older_people", "note": "82-v. yksin asuva, kaatuillut.", "legal_basis": "service_need75"}),
    )
    .await;
    assert_eq!(status, 201, "{handover}");
    assert_eq!(handover["legal_basis"], "service_need75");
    assert!(handover["legal_due_at"].is_string());
}

async fn urgent_handovers_are_due_at_the_next_opening_and_short_fridays_count(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        let short_friday = paivystys::domain::calendar::OfficeHours::standard().with_day(
            chrono::Weekday::Fri,
            chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            chrono::NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        );
        s.calendar
            .office_hours
            .insert("families".into(), short_friday);
    })
    .await
    else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 21, 10, 0)); // Saturday morning
    let night = app.user("olli", Role::Oncall, None).await;
    let id = entry(&night, "child_family").await;
    let (_, urgent) = hand_over(
        &night,
        &id,
        json!({"team": "families", "note": "Kiireellinen: soita heti aamulla.", "urgent": true}),
    )
    .await;
    assert_eq!(
        due(&urgent, "due_at"),
        helsinki(2026, 11, 23, 8, 0),
        "Monday opening"
    );

    app.clock.set(helsinki(2026, 11, 26, 21, 0)); // Thursday evening, the next shift
    let night = app.user("pekka", Role::Oncall, None).await;
    let (_, short) = hand_over(
        &night,
        &id,
        json!({"team": "families", "note": "Perhe pyytää yhteydenottoa."}),
    )
    .await;
    assert_eq!(
        due(&short, "due_at"),
        helsinki(2026, 11, 27, 13, 0),
        "the team's short Friday"
    );
    let (_, standard) = hand_over(
        &night,
        &id,
        json!({"team": "adults", "note": "Sama perhe, aikuissosiaalityö."}),
    )
    .await;
    assert_eq!(due(&standard, "due_at"), helsinki(2026, 11, 27, 16, 0));
}

async fn a_team_sees_only_its_own_handovers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 20, 22, 0));
    let night = app.user("olli", Role::Oncall, None).await;
    let child = app.user("tiina", Role::Team, Some("child_welfare")).await;
    let adults = app.user("aino", Role::Team, Some("adults")).await;
    let shelter = app.user("saara", Role::Shelter, None).await;
    let id = entry(&night, "child_welfare").await;
    let (_, mine) = hand_over(
        &night,
        &id,
        json!({"team": "child_welfare", "note": "Lapset yksin."}),
    )
    .await;
    let mine_id = mine["id"].as_str().unwrap();

    let inbox: Vec<Value> = child
        .get("/api/v1/teams/child_welfare/handovers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["note"], "Lapset yksin.");
    let read: Value = child
        .get(&format!("/api/v1/handovers/{mine_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["entry"]["id"],
        id.as_str(),
        "the night's entry is readable"
    );

    for (client, path) in [
        (&adults, "/api/v1/teams/child_welfare/handovers".to_owned()),
        (&adults, format!("/api/v1/handovers/{mine_id}")),
        (&shelter, format!("/api/v1/handovers/{mine_id}")),
        (&shelter, "/api/v1/teams/child_welfare/handovers".to_owned()),
        (&child, format!("/api/v1/entries/{id}")),
    ] {
        let status = client.get(&path).send().await.unwrap().status();
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = post(
        &adults,
        &format!("/api/v1/handovers/{mine_id}/ack"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = hand_over(&child, &id, json!({"team": "adults", "note": "x"})).await;
    assert_eq!(status, 403, "teams do not hand over from the desk");

    let refused = app
        .db
        .store
        .access_log_for("handover", mine_id)
        .await
        .unwrap();
    let who: Vec<_> = refused.iter().map(|r| r.username.as_str()).collect();
    assert_eq!(who, ["aino", "saara"], "refused reads are logged");
    assert!(
        refused
            .iter()
            .all(|r| r.result == paivystys::store::AccessResult::Refused)
    );

    let teams: Vec<Value> = adults
        .get("/api/v1/teams")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(teams.len(), 7);
    assert_eq!(
        adults
            .get("/api/v1/handovers")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let everything: Vec<Value> = night
        .get("/api/v1/handovers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(everything.len(), 1, "the desk sees every team's handovers");

    let mut ws = adults.ws().await;
    ws.subscribe("team:child_welfare", 0).await;
    assert_eq!(ws.next().await["code"], "forbidden");
}

async fn the_team_acknowledges_forwards_and_asks_the_desk(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 22, 22, 0)); // Sunday night
    let night = app.user("olli", Role::Oncall, None).await;
    let id = entry(&night, "child_welfare").await;
    let (_, first) = hand_over(
        &night,
        &id,
        json!({"team": "child_welfare", "note": "Ilmoitus koulusta."}),
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_owned();

    let mut desk = night.ws().await;
    desk.subscribe("desk", app.db.store.stream_head("desk").await.unwrap())
        .await;
    assert_eq!(desk.next().await["type"], "subscribed");

    app.clock.set(helsinki(2026, 11, 23, 8, 5)); // Monday morning: the team logs in
    let tiina = app.user("tiina", Role::Team, Some("child_welfare")).await;
    let (status, acked) = post(
        &tiina,
        &format!("/api/v1/handovers/{first_id}/ack"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"]["name"], "tiina");
    assert_eq!(due(&acked, "acknowledged_at"), helsinki(2026, 11, 23, 8, 5));
    let live = desk.next().await;
    assert_eq!(
        live["kind"], "handover.acknowledged",
        "the night worker sees the ack live"
    );
    let (again, same) = post(
        &tiina,
        &format!("/api/v1/handovers/{first_id}/ack"),
        json!({}),
    )
    .await;
    assert_eq!(
        (again, same["version"].clone()),
        (200, acked["version"].clone())
    );

    // Not ours after all: forwarded to family law with a reason; the legal clock stays.
    let (status, forwarded) = post(
        &tiina,
        &format!("/api/v1/handovers/{first_id}/forward"),
        json!({"team": "family_law", "reason": "Huoltoriita, ei lastensuojelua."}),
    )
    .await;
    assert_eq!(status, 200, "{forwarded}");
    assert_eq!(forwarded["state"], "forwarded");
    let theirs: Vec<Value> = night
        .get("/api/v1/teams/family_law/handovers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["forwarded_from"], first_id.as_str());
    assert_eq!(theirs[0]["legal_due_at"], first["legal_due_at"]);
    assert!(theirs[0]["note"].as_str().unwrap().contains("Huoltoriita"));
    let (status, again) = post(
        &tiina,
        &format!("/api/v1/handovers/{first_id}/forward"),
        json!({"team": "family_law", "reason": "Huoltoriita, ei lastensuojelua."}),
    )
    .await;
    assert_eq!(
        (status, again["version"].clone()),
        (200, forwarded["version"].clone()),
        "a resent forward changes nothing"
    );
    let inbox = tiina
        .get("/api/v1/teams/child_welfare/handovers")
        .send()
        .await
        .unwrap();
    let head = app
        .db
        .store
        .stream_head("team:child_welfare")
        .await
        .unwrap();
    assert_eq!(inbox.headers()["x-stream-head"], head.to_string().as_str());
    let (status, _) = post(
        &tiina,
        &format!("/api/v1/handovers/{first_id}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, 409, "a forwarded handover is no longer this team's");

    // A second one goes back to the desk with a question, and comes back answered.
    let (_, second) = hand_over(
        &night,
        &id,
        json!({"team": "child_welfare", "note": "Toinen asia."}),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (status, returned) = post(
        &tiina,
        &format!("/api/v1/handovers/{second_id}/return"),
        json!({"question": "Kuka ilmoittaja oli?"}),
    )
    .await;
    assert_eq!(
        (status, returned["state"].clone()),
        (200, json!("returned"))
    );
    let (status, _) = post(
        &tiina,
        &format!("/api/v1/handovers/{second_id}/answer"),
        json!({"note": "x"}),
    )
    .await;
    assert_eq!(status, 403, "the desk answers");
    let (status, answered) = post(
        &night,
        &format!("/api/v1/handovers/{second_id}/answer"),
        json!({"note": "Koulukuraattori, yhteystiedot kirjauksessa."}),
    )
    .await;
    assert_eq!((status, answered["state"].clone()), (200, json!("pending")));
    assert!(
        answered["note"]
            .as_str()
            .unwrap()
            .contains("Koulukuraattori")
    );
    let (status, done) = post(
        &tiina,
        &format!("/api/v1/handovers/{second_id}/done"),
        json!({}),
    )
    .await;
    assert_eq!((status, done["state"].clone()), (200, json!("done")));

    let kinds: Vec<String> = app
        .db
        .store
        .events_since("team:child_welfare", 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "handover.created",
            "handover.acknowledged",
            "handover.forwarded",
            "handover.created",
            "handover.returned",
            "handover.answered",
            "handover.done"
        ]
    );
    let (status, _) = post(
        &tiina,
        &format!("/api/v1/handovers/{second_id}/forward"),
        json!({"team": "child_welfare", "reason": "x", "extra": 1}),
    )
    .await;
    assert_eq!(status, 422);
}

async fn unacknowledged_handovers_turn_overdue_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 20, 23, 0)); // Friday night → due Monday 16:00
    let night = app.user("olli", Role::Oncall, None).await;
    let tiina = app.user("tiina", Role::Team, Some("child_welfare")).await;
    let id = entry(&night, "adult").await;
    let (_, late) = hand_over(
        &night,
        &id,
        json!({"team": "adults", "note": "Jää huomaamatta."}),
    )
    .await;
    let (_, acked) = hand_over(
        &night,
        &id,
        json!({"team": "child_welfare", "note": "Kuitataan ajoissa."}),
    )
    .await;
    post(
        &tiina,
        &format!("/api/v1/handovers/{}/ack", acked["id"].as_str().unwrap()),
        json!({}),
    )
    .await;

    let check = || paivystys::jobs::check_handover_deadlines(&app.state);
    let counts = |overdue, escalated| paivystys::jobs::DeadlineCheck { overdue, escalated };
    app.clock.set(helsinki(2026, 11, 23, 15, 59));
    assert_eq!(check().await.unwrap(), counts(0, 0));
    app.clock.set(helsinki(2026, 11, 23, 16, 1));
    assert_eq!(check().await.unwrap(), counts(1, 0));
    assert_eq!(check().await.unwrap(), counts(0, 0), "once");

    // The night worker's session has long expired; the supervisor looks.
    let supervisor = app.user("sirpa", Role::Supervisor, None).await;
    let inbox: Vec<Value> = supervisor
        .get("/api/v1/teams/adults/handovers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox[0]["id"], late["id"]);
    assert_eq!(due(&inbox[0], "overdue_at"), helsinki(2026, 11, 23, 16, 1));
    let overdue = events_of(&app, "team:adults", "handover.overdue").await;
    assert_eq!(overdue.len(), 1);
    let desk_overdue = events_of(&app, "desk", "handover.overdue").await.len();
    assert_eq!(desk_overdue, 1, "the desk supervisor sees it too");

    // Two hours later, still unacknowledged: the team's lead is told.
    app.db.add_lead("aila", "adults").await;
    app.clock.set(helsinki(2026, 11, 23, 18, 0));
    assert_eq!(check().await.unwrap(), counts(0, 0), "not yet two hours");
    app.clock.set(helsinki(2026, 11, 23, 18, 2));
    assert_eq!(check().await.unwrap(), counts(0, 1));
    assert_eq!(check().await.unwrap(), counts(0, 0), "once");
    let escalated = events_of(&app, "team:adults", "handover.escalated")
        .await
        .into_iter()
        .next()
        .expect("an escalation event");
    assert_eq!(
        escalated.data["handover"]["escalated_to"][0]["name"],
        "aila"
    );
}

async fn the_morning_digest_holds_what_came_since_the_office_closed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2026, 11, 23, 15, 0)); // Monday afternoon, office still open
    let day = app.user("olli", Role::Oncall, None).await;
    let id = entry(&day, "child_welfare").await;
    hand_over(
        &day,
        &id,
        json!({"team": "child_welfare", "note": "Iltapäivän asia."}),
    )
    .await;

    app.clock.set(helsinki(2026, 11, 23, 21, 0));
    let night = app.user("pekka", Role::Oncall, None).await;
    let first = entry(&night, "child_welfare").await;
    hand_over(
        &night,
        &first,
        json!({"team": "child_welfare", "note": "Illan ilmoitus, soita äidille."}),
    )
    .await;
    app.clock.set(helsinki(2026, 11, 24, 2, 30));
    let response = night
        .write(Method::POST, "/api/v1/entries")
        .json(&json!({
            "channel": "police_request", "category": "child_welfare", "urgency": "urgent",
            "summary": "Virka-apu", "police": {"unit": "Partio 12", "outcome": "Lapsi turvassa"},
            "subject": {"anonymous": false, "name": "Matti Meikäläinen", "birth_date": "2015-03-01"},
        }))
        .send()
        .await
        .unwrap();
    let named: Value = response.json().await.unwrap();
    let named_id = named["id"].as_str().unwrap().to_owned();
    hand_over(
        &night,
        &named_id,
        json!({"team": "child_welfare", "note": "Poliisin virka-apu, \"kiireellinen\", 2 lasta."}),
    )
    .await;

    app.clock.set(helsinki(2026, 11, 24, 7, 45)); // Tuesday morning
    let tiina = app.user("tiina", Role::Team, Some("child_welfare")).await;
    let digest: Value = tiina
        .get("/api/v1/teams/child_welfare/digest")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        due(&digest, "since"),
        helsinki(2026, 11, 23, 16, 0),
        "Monday's close"
    );
    let notes: Vec<&str> = digest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["handover"]["note"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "Illan ilmoitus, soita äidille.",
            "Poliisin virka-apu, \"kiireellinen\", 2 lasta."
        ]
    );

    let csv = tiina
        .get("/api/v1/teams/child_welfare/digest?format=csv")
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("handed_over,due,legal_due,urgent,state"));
    assert!(
        lines[1].starts_with("2026-11-23 21:00,2026-11-24 16:00,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("Matti Meikäläinen (2015-03-01)")
            && lines[2].contains("\"Poliisin virka-apu, \"\"kiireellinen\"\", 2 lasta.\""),
        "quoted as CSV: {}",
        lines[2]
    );
    let exports = app
        .db
        .store
        .access_log_for("entry", &named_id)
        .await
        .unwrap();
    assert!(
        exports
            .iter()
            .any(|r| r.username == "tiina" && r.action == paivystys::store::AccessAction::Export),
        "the export of a named client's entry is logged"
    );
    let other = app.user("aino", Role::Team, Some("adults")).await;
    let refused = other
        .get("/api/v1/teams/child_welfare/digest")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let bad = tiina
        .get("/api/v1/teams/child_welfare/digest?format=pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
