//! Online reports on both databases: each kind received, routed and due on the right day
//! (a Friday night, over Easter), the professional's duty to give a name, the urgent alert
//! on the desk, adding information with and without the secret, who on the staff may read
//! a report, rate limits, garbage, and that nothing stored holds the sender's address.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, WAIT};
use crate::on_both_backends;

on_both_backends!(
    each_kind_is_routed_to_its_team_and_due_by_the_next_working_day,
    a_report_on_maundy_thursday_evening_is_due_after_easter,
    a_professional_must_name_themselves_and_a_private_person_need_not,
    an_urgent_report_is_raised_on_the_desk_at_once,
    the_reporter_adds_information_with_the_secret_and_never_reads_the_report,
    a_resent_report_is_stored_once_with_a_fresh_secret,
    only_the_desk_and_the_receiving_team_read_a_report,
    reports_are_rate_limited_and_garbage_is_refused,
    nothing_stored_holds_the_senders_address,
);

fn helsinki(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Helsinki
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"))
        .parse()
        .unwrap()
}

fn report(kind: &str) -> Value {
    json!({
        "kind": kind,
        "urgent": false,
        "consent": true,
        "description": format!("Huoli ({kind}): naapurissa on ollut levotonta koko viikon."),
        "subject": {"municipality": "Porvoo"},
        "reporter": {"professional": false},
    })
}

/// Sends a report as the public does: no cookie, no token.
async fn send(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/public/reports"))
        .json(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn add(app: &TestApp, reference: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/public/reports/{reference}/additions")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// The entry and handover a reference became, as the team sees them in its inbox.
async fn handed_over(worker: &Client, team: &str, reference: &str) -> Value {
    let (status, inbox) = worker
        .get_json(&format!("/api/v1/teams/{team}/handovers"))
        .await;
    assert_eq!(status, 200, "{inbox}");
    for handover in inbox.as_array().unwrap() {
        let (status, item) = worker
            .get_json(&format!(
                "/api/v1/handovers/{}",
                handover["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, 200, "{item}");
        if item["entry"]["summary"]
            .as_str()
            .is_some_and(|s| s.ends_with(reference))
        {
            return item;
        }
    }
    panic!("{reference} is not in the inbox of {team}: {inbox}")
}

async fn desk_events(worker: &Client) -> Vec<Value> {
    let (status, events) = worker.get_json("/api/v1/streams/desk/events?since=0").await;
    assert_eq!(status, 200);
    events.as_array().unwrap().clone()
}

async fn each_kind_is_routed_to_its_team_and_due_by_the_next_working_day(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Friday 20.11.2026 at 22:00: the next working day is Monday, office closes at 16:00.
    app.clock.set(helsinki(2026, 11, 20, 22, 0, 0));
    let oncall = app.user("paivi", Role::Oncall, None).await;
    for (kind, team, category, team_name) in [
        ("contact", "adults", "adult", "Aikuissosiaalityö"),
        ("concern", "adults", "adult", "Aikuissosiaalityö"),
        (
            "child_welfare",
            "child_welfare",
            "child_welfare",
            "Lastensuojelu",
        ),
        (
            "older_person",
            "older_people",
            "older_person",
            "Ikääntyneiden palvelut",
        ),
    ] {
        let (status, receipt) = send(&app, &report(kind)).await;
        assert_eq!(status, 201, "{kind}: {receipt}");
        let reference = receipt["reference"].as_str().unwrap();
        assert!(
            reference.len() == 9 && reference.as_bytes()[4] == b'-',
            "{reference}"
        );
        assert_eq!(receipt["secret"].as_str().unwrap().len(), 23);
        assert_eq!(receipt["team"], team);
        assert_eq!(receipt["team_name"], team_name, "{kind}");
        assert_eq!(
            instant(&receipt["due_at"]),
            helsinki(2026, 11, 23, 16, 0, 0)
        );

        let item = handed_over(&oncall, team, reference).await;
        assert_eq!(item["entry"]["channel"], "web_report");
        assert_eq!(item["entry"]["category"], category);
        assert_eq!(item["entry"]["urgency"], "normal");
        assert_eq!(
            item["entry"]["created_by"]["name"],
            "Verkkolomake / Webbformulär"
        );
        assert_eq!(item["handover"]["state"], "pending");
        assert_eq!(
            instant(&item["handover"]["due_at"]),
            helsinki(2026, 11, 23, 16, 0, 0)
        );
        assert!(
            item["handover"]["note"]
                .as_str()
                .unwrap()
                .contains("levotonta"),
            "the team reads the reporter's words"
        );
        if kind == "child_welfare" {
            // LsL § 26: 7 working days, the day of receipt not counted: Tuesday 1.12.
            assert_eq!(item["handover"]["legal_basis"], "child_welfare_report");
            assert_eq!(
                instant(&item["handover"]["legal_due_at"]),
                helsinki(2026, 12, 1, 23, 59, 59)
            );
        } else {
            assert!(item["handover"]["legal_basis"].is_null(), "{kind}");
        }
    }
    assert_eq!(
        app.state.metrics.reports_received.get(),
        4,
        "counted for the statistics"
    );
}

async fn a_report_on_maundy_thursday_evening_is_due_after_easter(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Thursday 2.4.2026 at 18:00; Good Friday, Easter Sunday and Monday are closed.
    app.clock.set(helsinki(2026, 4, 2, 18, 0, 0));
    let (status, receipt) = send(&app, &report("child_welfare")).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(instant(&receipt["due_at"]), helsinki(2026, 4, 7, 16, 0, 0));
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let item = handed_over(
        &oncall,
        "child_welfare",
        receipt["reference"].as_str().unwrap(),
    )
    .await;
    // 7, 8, 9, 10, 13, 14, 15 April: the seventh working day after the receipt.
    assert_eq!(
        instant(&item["handover"]["legal_due_at"]),
        helsinki(2026, 4, 15, 23, 59, 59)
    );
}

async fn a_professional_must_name_themselves_and_a_private_person_need_not(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let before = desk_events(&oncall).await.len();

    let mut professional = report("child_welfare");
    professional["reporter"] = json!({"professional": true, "name": "Terveydenhoitaja Aino Aalto"});
    let (status, error) = send(&app, &professional).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "validation_failed");
    assert_eq!(
        error["error"]["fields"],
        json!(["reporter.organisation", "reporter.phone"])
    );
    assert_eq!(error["error"]["field"], "reporter.organisation");
    assert_eq!(
        desk_events(&oncall).await.len(),
        before,
        "a refused report leaves no trace on the desk"
    );

    professional["reporter"]["organisation"] = json!("Porvoon koulut");
    professional["reporter"]["phone"] = json!("040 123 4567");
    let (status, receipt) = send(&app, &professional).await;
    assert_eq!(status, 201, "{receipt}");

    let (status, receipt) = send(&app, &report("concern")).await;
    assert_eq!(
        status, 201,
        "an anonymous private person is heard: {receipt}"
    );
    let item = handed_over(&oncall, "adults", receipt["reference"].as_str().unwrap()).await;
    let (status, full) = oncall
        .get_json(&format!(
            "/api/v1/entries/{}/report",
            item["entry"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(full["reporter"], json!({"professional": false}));
    assert!(
        full["consent"].is_null(),
        "consent is recorded for contacts only"
    );

    // A contact without the person's consent is a concern report, not a contact.
    let mut contact = report("contact");
    contact["consent"] = json!(false);
    let (status, error) = send(&app, &contact).await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["field"], "consent");
}

async fn an_urgent_report_is_raised_on_the_desk_at_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let mut desk = oncall.ws().await;
    desk.subscribe("desk", 0).await;

    let mut urgent = report("child_welfare");
    urgent["urgent"] = json!(true);
    urgent["subject"] =
        json!({"name": "Lapsi Esimerkki", "age": 6, "guardians": "Äiti, puh. 040 765 4321"});
    let (status, receipt) = send(&app, &urgent).await;
    assert_eq!(status, 201, "{receipt}");
    let reference = receipt["reference"].as_str().unwrap();

    let alert = tokio::time::timeout(WAIT, async {
        loop {
            let frame = desk.next().await;
            if frame["kind"] == "report.urgent" {
                return frame;
            }
        }
    })
    .await
    .expect("the desk is alerted");
    assert_eq!(alert["data"]["report"]["reference"], reference);
    assert_eq!(alert["data"]["report"]["kind"], "child_welfare");
    let text = alert.to_string();
    for private in ["Lapsi", "levotonta", "040 765"] {
        assert!(!text.contains(private), "the alert carries no {private}");
    }

    let item = handed_over(&oncall, "child_welfare", reference).await;
    assert_eq!(item["entry"]["urgency"], "urgent");
    assert_eq!(item["handover"]["urgent"], true);
    assert_eq!(item["entry"]["subject"]["name"], "Lapsi Esimerkki");

    // A calm report raises no alert.
    send(&app, &report("concern")).await;
    let alerts = desk_events(&oncall)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "report.urgent")
        .count();
    assert_eq!(alerts, 1);
}

async fn the_reporter_adds_information_with_the_secret_and_never_reads_the_report(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, receipt) = send(&app, &report("older_person")).await;
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    let secret = receipt["secret"].as_str().unwrap().to_owned();
    let team = app.user("tiina", Role::Team, Some("older_people")).await;
    let mut inbox = team.ws().await;
    inbox.subscribe("team:older_people", 0).await;

    let client_id = uuid::Uuid::new_v4();
    // Typed back by hand: lower case, spaces instead of dashes.
    let typed = reference.to_lowercase().replace('-', " ");
    let (status, added) = add(
        &app,
        &typed,
        json!({"secret": secret.to_lowercase(), "text": "Hän on ollut kaksi päivää syömättä.", "client_id": client_id}),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["reference"], reference);
    assert_eq!(added["additions"], 1);
    let (status, again) = add(
        &app,
        &reference,
        json!({"secret": secret, "text": "Hän on ollut kaksi päivää syömättä.", "client_id": client_id}),
    )
    .await;
    assert_eq!(status, 200, "a retry adds nothing: {again}");
    assert_eq!(again["additions"], 1);

    let notice = tokio::time::timeout(WAIT, async {
        loop {
            let frame = inbox.next().await;
            if frame["kind"] == "report.added" {
                return frame;
            }
        }
    })
    .await
    .expect("the team hears of the addition");
    assert_eq!(notice["data"]["report"]["reference"], reference);
    assert!(!notice.to_string().contains("syömättä"), "never the text");

    let entry_id = handed_over(&team, "older_people", &reference).await["entry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, full) = team
        .get_json(&format!("/api/v1/entries/{entry_id}/report"))
        .await;
    assert_eq!(status, 200, "{full}");
    assert_eq!(full["additions"].as_array().unwrap().len(), 1);
    assert_eq!(
        full["additions"][0]["text"],
        "Hän on ollut kaksi päivää syömättä."
    );

    // Without the right secret: one answer for every wrong guess, and nothing added.
    for (path_ref, body) in [
        (
            reference.clone(),
            json!({"secret": "AAAAA-AAAAA-AAAAA-AAAAA", "text": "x"}),
        ),
        (
            reference.clone(),
            json!({"secret": "not even a code", "text": "x"}),
        ),
        (
            "ZZZZ-ZZZZ".to_owned(),
            json!({"secret": secret, "text": "x"}),
        ),
        (
            "K7M3%2FQ9XP".to_owned(),
            json!({"secret": secret, "text": "x"}),
        ),
    ] {
        let (status, error) = add(&app, &path_ref, body).await;
        assert_eq!(status, 403, "{path_ref}: {error}");
        assert_eq!(
            error["error"]["message"],
            "the reference or the secret is wrong"
        );
    }
    let (status, error) = add(&app, &reference, json!({"secret": secret, "text": "   "})).await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["field"], "text");
    let (_, full) = team
        .get_json(&format!("/api/v1/entries/{entry_id}/report"))
        .await;
    assert_eq!(full["additions"].as_array().unwrap().len(), 1);

    // There is no way back to the report for the public, secret or not.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let status = reqwest::Client::new()
            .request(
                method.clone(),
                app.url(&format!("/api/v1/public/reports/{reference}")),
            )
            .header("Authorization", format!("Bearer {secret}"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(matches!(status.as_u16(), 404 | 405), "{method}: {status}");
    }
    let (status, _) = add(&app, &reference, json!({"secret": secret})).await;
    assert_eq!(status, 422, "text is required");
}

async fn a_resent_report_is_stored_once_with_a_fresh_secret(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut body = report("concern");
    body["client_id"] = json!(uuid::Uuid::new_v4());
    let (status, first) = send(&app, &body).await;
    assert_eq!(status, 201, "{first}");
    // The answer was lost on the way; the page sends the same report again.
    let (status, second) = send(&app, &body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["reference"], first["reference"]);
    assert_eq!(second["due_at"], first["due_at"]);
    assert_ne!(second["secret"], first["secret"]);
    let reference = first["reference"].as_str().unwrap();
    let (status, _) = add(
        &app,
        reference,
        json!({"secret": first["secret"], "text": "vanhalla koodilla"}),
    )
    .await;
    assert_eq!(status, 403, "the secret nobody saw no longer works");
    let (status, _) = add(
        &app,
        reference,
        json!({"secret": second["secret"], "text": "uudella koodilla"}),
    )
    .await;
    assert_eq!(status, 201, "the one shown does");
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let created = desk_events(&oncall)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "entry.created")
        .count();
    assert_eq!(created, 1, "one entry for the two sends");
}

async fn only_the_desk_and_the_receiving_team_read_a_report(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, receipt) = send(&app, &report("child_welfare")).await;
    let reference = receipt["reference"].as_str().unwrap();
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let entry_id = handed_over(&oncall, "child_welfare", reference).await["entry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/entries/{entry_id}/report");

    let own_team = app.user("lasu", Role::Team, Some("child_welfare")).await;
    let other_team = app.user("aiku", Role::Team, Some("adults")).await;
    let shelter = app.user("turva", Role::Shelter, None).await;
    let admin = app.user("admin", Role::Admin, None).await;
    for (who, client, expected) in [
        ("oncall", &oncall, 200),
        ("own team", &own_team, 200),
        ("another team", &other_team, 403),
        ("shelter", &shelter, 403),
        ("admin", &admin, 403),
    ] {
        let (status, body) = client.get_json(&path).await;
        assert_eq!(status, expected, "{who}: {body}");
        if status == 200 {
            assert_eq!(body["reference"], reference);
            assert!(body["description"].as_str().unwrap().contains("levotonta"));
        }
    }
    let status = reqwest::Client::new()
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "the public never reads a report");

    // Every read, allowed or refused, is in the access log.
    let log = app
        .db
        .store
        .access_log_for("report", &entry_id)
        .await
        .unwrap();
    let seen: Vec<(String, String)> = log
        .iter()
        .map(|r| (r.username.clone(), format!("{:?}", r.result)))
        .collect();
    assert_eq!(
        seen,
        [
            ("paivi", "Allowed"),
            ("lasu", "Allowed"),
            ("aiku", "Refused"),
            ("turva", "Refused"),
            ("admin", "Refused"),
        ]
        .map(|(u, r)| (u.to_owned(), r.to_owned()))
    );

    // An ordinary entry has no report.
    let (status, entry) = oncall
        .send_json(
            Method::POST,
            "/api/v1/entries",
            json!({"channel": "phone_in", "category": "adult", "urgency": "normal",
                   "summary": "Puhelu", "subject": {"anonymous": true, "alias": "Soittaja"}}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = oncall
        .get_json(&format!(
            "/api/v1/entries/{}/report",
            entry["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404);
}

async fn reports_are_rate_limited_and_garbage_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.reports.per_hour_per_source = 2;
        s.reports.additions_per_hour_per_source = 3;
    })
    .await
    else {
        return;
    };
    let oncall = app.user("paivi", Role::Oncall, None).await;
    let http = reqwest::Client::new();
    let post = |body: reqwest::Body, content_type: &'static str| {
        http.post(app.url("/api/v1/public/reports"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Garbage is refused before it counts against the sender's allowance.
    let mut honeypot = report("concern");
    honeypot["website"] = json!("https://cheap-pills.example");
    let mut unknown_field = report("concern");
    unknown_field["ip"] = json!("198.51.100.1");
    let mut wrong_kind = report("concern");
    wrong_kind["kind"] = json!("complaint");
    let mut too_long = report("concern");
    too_long["description"] = json!("a".repeat(10_001));
    let mut future_birth = report("concern");
    future_birth["subject"] = json!({"birth_date": "2099-01-01"});
    let mut empty = report("concern");
    empty["description"] = json!(" \n ");
    for (what, body, status, field) in [
        ("honeypot", honeypot, 422, "website"),
        ("unknown field", unknown_field, 422, "ip"),
        ("unknown kind", wrong_kind, 422, "kind"),
        ("too long", too_long, 422, "description"),
        (
            "born in the future",
            future_birth,
            422,
            "subject.birth_date",
        ),
        ("empty description", empty, 422, "description"),
    ] {
        let response = post(body.to_string().into(), "application/json")
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{what}: {error}");
    }
    for (what, body, content_type, status) in [
        ("not JSON", b"{\"kind\": ".to_vec(), "application/json", 400),
        (
            "invalid UTF-8",
            b"{\"kind\": \"\xff\xfe\"}".to_vec(),
            "application/json",
            400,
        ),
        (
            "a form post",
            b"kind=concern".to_vec(),
            "application/x-www-form-urlencoded",
            415,
        ),
        ("huge", vec![b' '; 70 * 1024], "application/json", 413),
    ] {
        let response = post(body.into(), content_type).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"]["code"].is_string(), "{what}: {error}");
    }
    assert!(
        desk_events(&oncall).await.is_empty(),
        "no refused report reached the desk"
    );

    let (first, receipt) = send(&app, &report("concern")).await;
    let (second, _) = send(&app, &report("concern")).await;
    assert_eq!((first, second), (201, 201));
    let response = http
        .post(app.url("/api/v1/public/reports"))
        .json(&report("concern"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "rate_limited");
    assert_eq!(error["error"]["retry_after"], retry_after);

    // Guessing secrets is limited too, whether the guesses are right or wrong.
    let reference = receipt["reference"].as_str().unwrap();
    for _ in 0..3 {
        let (status, _) = add(
            &app,
            reference,
            json!({"secret": "AAAAA-AAAAA-AAAAA-AAAAA", "text": "x"}),
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, error) = add(
        &app,
        reference,
        json!({"secret": receipt["secret"], "text": "x"}),
    )
    .await;
    assert_eq!(status, 429, "{error}");
    let (status, _) = oncall.get_json("/healthz").await;
    assert_eq!(status, 200, "the server stays up");
}

async fn nothing_stored_holds_the_senders_address(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.public.client_ip_header = Some("X-Real-IP".into());
    })
    .await
    else {
        return;
    };
    let address = "203.0.113.91";
    let agent = "Mozilla/5.0 (iPhone) ReportSenderUnderTest/4.2";
    let http = reqwest::Client::builder()
        .user_agent(agent)
        .build()
        .unwrap();
    let receipt: Value = http
        .post(app.url("/api/v1/public/reports"))
        .header("X-Real-IP", address)
        .header("Forwarded", format!("for={address}"))
        .json(&report("child_welfare"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = receipt["secret"].as_str().unwrap();
    let status = http
        .post(app.url(&format!(
            "/api/v1/public/reports/{}/additions",
            receipt["reference"].as_str().unwrap()
        )))
        .header("X-Real-IP", address)
        .json(&json!({"secret": secret, "text": "Lisätieto: isä on kotona iltaisin."}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);

    let text = app.db.all_text().await;
    assert!(
        text.contains("levotonta"),
        "the scan sees the stored report"
    );
    assert!(text.contains("isä on kotona"), "and the addition");
    for trace in [address, "127.0.0.1", "ReportSenderUnderTest", secret] {
        assert!(!text.contains(trace), "{trace} is stored");
    }
}
