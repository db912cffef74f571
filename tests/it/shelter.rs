//! The shelter's register and its narrow link to the desk, on both county databases: who
//! may read stays, the referral code's life, encryption at rest, the THL statistics over a
//! constructed year, and a shelter hosted alone (`--shelter-only`) beside a desk server.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use paivystys::domain::roles::Role;
use paivystys::jobs::report_shelter_changes;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp};
use crate::on_both_backends;

on_both_backends!(
    only_shelter_staff_read_the_register,
    a_referral_code_is_used_once_and_tells_the_desk_only_its_status,
    notes_and_identity_are_sealed_at_rest,
    the_yearly_statistics_count_days_across_the_new_year,
    a_shelter_hosted_alone_serves_a_desk_elsewhere,
    bad_shelter_input_is_refused_clearly,
);

fn helsinki(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Helsinki
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn arrival(alias: &str, code: Option<&str>) -> Value {
    json!({
        "alias": alias,
        "adults": 1,
        "children": {"0_6": 1, "7_12": 1},
        "sexes": {"female": 2, "unknown": 1},
        "violence": ["physical", "psychological"],
        "referral_source": "police",
        "notes": "Mies uhkasi puhelimessa; lapset nukkuvat huoneessa 3.",
        "referral_code": code,
    })
}

async fn send(client: &Client, method: Method, path: &str, body: Value) -> (u16, Value) {
    client.send_json(method, path, body).await
}

async fn get(client: &Client, path: &str) -> (u16, Value) {
    client.get_json(path).await
}

/// The desk's events of one kind, oldest first.
async fn desk_events(app: &TestApp, kind: &str) -> Vec<Value> {
    app.db
        .store
        .events_since("desk", 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.data)
        .collect()
}

async fn only_shelter_staff_read_the_register(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.user("hanna", Role::Shelter, None).await;
    let (code, stay) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Lumikki", None),
    )
    .await;
    assert_eq!(code, 201, "{stay}");
    let id = stay["id"].as_str().unwrap();
    let others = [
        app.user("olli", Role::Oncall, None).await,
        app.user("sanna", Role::Supervisor, None).await,
        app.user("tiina", Role::Team, Some("adults")).await,
        app.user("aapo", Role::Admin, None).await,
    ];
    for other in &others {
        for path in [
            "/api/v1/shelter/stays".to_owned(),
            format!("/api/v1/shelter/stays/{id}"),
            "/api/v1/shelter/statistics".to_owned(),
            "/api/v1/shelter/turned-away".to_owned(),
        ] {
            let (status, body) = get(other, &path).await;
            assert_eq!(status, 403, "{path}: {body}");
        }
        let (status, _) = send(
            other,
            Method::POST,
            "/api/v1/shelter/stays",
            arrival("X", None),
        )
        .await;
        assert_eq!(status, 403);
    }
    let anonymous = reqwest::get(app.url("/api/v1/shelter/stays"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Staff see the stay; lists never carry the notes.
    let (_, list) = get(&staff, "/api/v1/shelter/stays").await;
    assert_eq!(list[0]["alias"], "Lumikki");
    assert!(list[0].get("notes").is_none());
    let (_, one) = get(&staff, &format!("/api/v1/shelter/stays/{id}")).await;
    assert!(one["notes"].as_str().unwrap().contains("huoneessa 3"));
    // The desk sees numbers only; nothing of the stay reaches its database or stream.
    let (status, capacity) = get(&others[0], "/api/v1/shelter/capacity").await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            capacity["family_places_free"].as_i64(),
            capacity["beds_free"].as_i64()
        ),
        (Some(5), Some(15))
    );
    assert_eq!(get(&others[2], "/api/v1/shelter/capacity").await.0, 403);
    let empty = paivystys::domain::shelter::Capacity::of(6, 18, &[]);
    report_shelter_changes(&app.state, Some(&empty))
        .await
        .unwrap();
    let seen = desk_events(&app, "shelter.capacity").await;
    assert_eq!(
        seen.last().unwrap(),
        &capacity,
        "the desk hears the numbers"
    );
    let county = app.db.all_text().await;
    assert!(
        !county.contains("Lumikki"),
        "the alias is in the county database"
    );
    assert!(!county.contains("huoneessa 3"));
}

async fn a_referral_code_is_used_once_and_tells_the_desk_only_its_status(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let desk = app.user("olli", Role::Oncall, None).await;
    let staff = app.user("hanna", Role::Shelter, None).await;
    let (_, entry) = send(
        &desk,
        Method::POST,
        "/api/v1/entries",
        json!({
            "channel": "phone_in", "category": "domestic_violence", "urgency": "immediate",
            "summary": "Äiti ja kaksi lasta tarvitsevat turvakodin",
            "subject": {"anonymous": true, "alias": "Soittaja"},
        }),
    )
    .await;
    let (status, referral) = send(
        &desk,
        Method::POST,
        "/api/v1/shelter/referrals",
        json!({"entry_id": entry["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{referral}");
    let code = referral["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(referral["status"], "issued");
    let status_path = format!("/api/v1/shelter/referrals/{code}");
    assert_eq!(get(&desk, &status_path).await.1["status"], "issued");

    // A wrong code, and a malformed one, get the same answer as a used one will.
    let wrong = if code == "12345678" {
        "87654321"
    } else {
        "12345678"
    };
    let (status, refused) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Kettu", Some(wrong)),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("referral_code"))
    );
    let constant = refused["error"]["message"].clone();
    let (_, malformed) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Kettu", Some("12")),
    )
    .await;
    assert_eq!(malformed["error"]["message"], constant);

    // The client arrives with the code, typed as said on the phone.
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    let (status, stay) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Kettu", Some(&spaced)),
    )
    .await;
    assert_eq!(status, 201, "{stay}");
    assert_eq!(stay["referral_source"], "oncall_referral");
    assert_eq!(
        get(&desk, &status_path).await.1,
        json!({"status": "arrived"})
    );
    let (status, reused) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Kettu 2", Some(&code)),
    )
    .await;
    assert_eq!(
        (status, &reused["error"]["message"]),
        (422, &constant),
        "a used code is refused"
    );
    assert_eq!(
        get(&staff, "/api/v1/shelter/stays")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The desk hears "arrived" as an event with its own entry, and nothing of the stay.
    report_shelter_changes(&app.state, None).await.unwrap();
    let statuses = desk_events(&app, "shelter.referral").await;
    assert_eq!(statuses.last().unwrap()["status"], "arrived");
    assert_eq!(statuses.last().unwrap()["entry_id"], entry["id"]);
    let stream =
        serde_json::to_string(&app.db.store.events_since("desk", 0, 1000).await.unwrap()).unwrap();
    assert!(
        !stream.contains("Kettu") && !stream.contains("huoneessa"),
        "{stream}"
    );
    let (_, mine) = get(
        &desk,
        &format!(
            "/api/v1/shelter/referrals?entry_id={}",
            entry["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(mine[0]["status"], "arrived");

    // A code left unused expires after its lifetime, and is then refused.
    let (_, late) = send(&desk, Method::POST, "/api/v1/shelter/referrals", json!({})).await;
    let late_code = late["code"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::hours(25));
    // The next night's shift logs in.
    let desk = app.user("otto", Role::Oncall, None).await;
    assert_eq!(
        get(&desk, &format!("/api/v1/shelter/referrals/{late_code}"))
            .await
            .1["status"],
        "expired"
    );
    let staff = app.user("hilda", Role::Shelter, None).await;
    let (status, expired) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Myöhään", Some(&late_code)),
    )
    .await;
    assert_eq!((status, &expired["error"]["message"]), (422, &constant));
    report_shelter_changes(&app.state, None).await.unwrap();
    let (_, all) = get(&desk, "/api/v1/shelter/referrals").await;
    let statuses: Vec<(&str, &str)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert!(
        statuses.contains(&(late_code.as_str(), "expired")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(code.as_str(), "arrived")),
        "{statuses:?}"
    );
    assert_eq!(
        get(&desk, "/api/v1/shelter/referrals/00000000").await.0,
        404
    );
}

async fn notes_and_identity_are_sealed_at_rest(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.user("hanna", Role::Shelter, None).await;
    let mut body = arrival("Peippo", None);
    body["notes"] = json!("Tekijä on poliisi; älä soita kotiin.");
    body["identity"] = json!({"name": "Maija Meikäläinen", "identity_number": "010190-123A"});
    let (status, stay) = send(&staff, Method::POST, "/api/v1/shelter/stays", body).await;
    assert_eq!(status, 201, "{stay}");
    let id = stay["id"].as_str().unwrap();
    let (_, opened) = get(&staff, &format!("/api/v1/shelter/stays/{id}")).await;
    assert_eq!(opened["identity"]["name"], "Maija Meikäläinen");
    let (status, patched) = staff
        .write(Method::PATCH, &format!("/api/v1/shelter/stays/{id}"))
        .header("If-Match", "1")
        .json(&json!({"notes": "Siirtyy ensikotiin maanantaina."}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(patched.json::<Value>().await.unwrap()["version"], 2);
    let text: String = match &app.shelter_schema {
        Some(schema) => crate::helpers::schema_text(&schema.0).await,
        None => ["shelter.db", "shelter.db-wal"]
            .iter()
            .map(|f| std::fs::read(app.db.dir.path().join(f)).unwrap_or_default())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .collect(),
    };
    assert!(text.contains("Peippo"), "the scan reads the register");
    for secret in [
        "älä soita kotiin",
        "ensikotiin",
        "Meikäläinen",
        "010190-123A",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the register file in plain text"
        );
    }
    let stale = staff
        .write(Method::PATCH, &format!("/api/v1/shelter/stays/{id}"))
        .header("If-Match", "1")
        .json(&json!({"notes": "vanha"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
}

async fn the_yearly_statistics_count_days_across_the_new_year(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.clock.set(helsinki(2027, 1, 15, 12));
    let staff = app.user("hanna", Role::Shelter, None).await;
    let arrive = |alias: &str, at: DateTime<Utc>, sexes: Value| {
        let mut body = arrival(alias, None);
        body["arrived_at"] = json!(at);
        body["sexes"] = sexes;
        body
    };
    // Evening of 30.12.2025 to the morning of 2.1.2026: two days in 2025, one in 2026.
    let first = arrive(
        "Joulu",
        helsinki(2025, 12, 30, 21),
        json!({"female": 1, "male": 1, "unknown": 1}),
    );
    let summer = arrive("Kesä", helsinki(2026, 6, 1, 12), json!({"female": 3}));
    let mut ids = Vec::new();
    for body in [first, summer] {
        let (status, stay) = send(&staff, Method::POST, "/api/v1/shelter/stays", body).await;
        assert_eq!(status, 201, "{stay}");
        ids.push(stay["id"].as_str().unwrap().to_owned());
    }
    for (id, left) in [
        (&ids[0], helsinki(2026, 1, 2, 9)),
        (&ids[1], helsinki(2026, 7, 11, 12)),
    ] {
        let (status, _) = send(
            &staff,
            Method::POST,
            &format!("/api/v1/shelter/stays/{id}/depart"),
            json!({"at": left}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, _) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/turned-away",
        json!({"date": "2026-02-03", "adults": 1, "children": 2}),
    )
    .await;
    assert_eq!(status, 201);

    let (_, y2025) = get(&staff, "/api/v1/shelter/statistics?year=2025").await;
    assert_eq!(
        (y2025["stays"].as_i64(), y2025["days_of_stay"].as_i64()),
        (Some(1), Some(2))
    );
    let (_, y2026) = get(&staff, "/api/v1/shelter/statistics?year=2026").await;
    assert_eq!(y2026["stays"], 2);
    assert_eq!(y2026["days_of_stay"], 1 + 40);
    assert_eq!(
        y2026["clients"]["by_sex"],
        json!({"female": 4, "male": 1, "other": 0, "unknown": 1})
    );
    assert_eq!(y2026["stays_by_length"]["1_7"], 1);
    assert_eq!(y2026["stays_by_length"]["31_90"], 1);
    assert_eq!(y2026["turned_away"], json!({"adults": 1, "children": 2}));
    let text = y2026.to_string();
    assert!(
        !text.contains("Joulu") && !text.contains("Kesä"),
        "aggregates only"
    );
    let csv = staff
        .get("/api/v1/shelter/statistics?year=2026&format=csv")
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("measure,value\n"), "{csv}");
    assert!(csv.contains("days_of_stay,41\n"), "{csv}");
    assert_eq!(
        get(&staff, "/api/v1/shelter/statistics?year=1900").await.0,
        422
    );
}

async fn a_shelter_hosted_alone_serves_a_desk_elsewhere(backend: Backend) {
    let secret = "a-long-random-link-secret-shared-by-both";
    let Some(shelter_server) = TestApp::spawn_with(backend, |s| {
        s.shelter_only = true;
        s.shelter.link_secret = Some(SecretString::from(secret));
    })
    .await
    else {
        return;
    };
    let remote = shelter_server.base.clone();
    let Some(desk_server) = TestApp::spawn_with(backend, |s| {
        s.shelter.remote_url = Some(remote);
        s.shelter.link_secret = Some(SecretString::from(secret));
    })
    .await
    else {
        return;
    };
    let desk = desk_server.user("olli", Role::Oncall, None).await;
    let staff = shelter_server.user("hanna", Role::Shelter, None).await;

    let (status, referral) =
        send(&desk, Method::POST, "/api/v1/shelter/referrals", json!({})).await;
    assert_eq!(status, 201, "{referral}");
    let code = referral["code"].as_str().unwrap();
    let (status, _) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Orava", Some(code)),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        get(&desk, &format!("/api/v1/shelter/referrals/{code}"))
            .await
            .1["status"],
        "arrived"
    );
    let (_, capacity) = get(&desk, "/api/v1/shelter/capacity").await;
    assert_eq!(capacity["family_places_free"], 5);
    report_shelter_changes(&desk_server.state, None)
        .await
        .unwrap();
    assert_eq!(
        desk_events(&desk_server, "shelter.referral")
            .await
            .last()
            .unwrap()["status"],
        "arrived"
    );

    // Each side serves only its own part.
    assert_eq!(
        get(&staff, "/api/v1/entries").await.0,
        404,
        "no live log on the shelter server"
    );
    let desk_staff = desk_server.user("hilda", Role::Shelter, None).await;
    assert_eq!(
        get(&desk_staff, "/api/v1/shelter/stays").await.0,
        404,
        "no register on the desk"
    );
    // The link needs the secret.
    let forged = reqwest::Client::new()
        .get(shelter_server.url("/api/v1/shelter-link/capacity"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // The desk's database and folder hold nothing of the shelter.
    let county = desk_server.db.all_text().await;
    assert!(!county.contains("Orava") && !county.contains("huoneessa"));
    assert!(!desk_server.db.dir.path().join("shelter.db").exists());
    assert!(
        !desk_server
            .db
            .dir
            .path()
            .join("paivystys-shelter.key")
            .exists()
    );
}

/// Every shelter input refuses garbage with a clear error and records nothing.
async fn bad_shelter_input_is_refused_clearly(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.user("hanna", Role::Shelter, None).await;
    let desk = app.user("olli", Role::Oncall, None).await;
    let with = |field: &str, value: Value| {
        let mut body = arrival("Tiainen", None);
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("alias", json!("")), "alias"),
        (with("alias", json!("a".repeat(101))), "alias"),
        (with("adults", json!(999)), "adults"),
        (with("adults", json!(-1)), "adults"),
        (with("violence", json!(["fists"])), "violence"),
        (
            with("referral_source", json!("neighbour")),
            "referral_source",
        ),
        (with("notes", json!("x".repeat(20_001))), "notes"),
        (with("sexes", json!({"female": 1})), "sexes"),
        (with("arrived_at", json!("yesterday")), "arrived_at"),
        (with("address", json!("Kotikatu 1")), "address"),
    ] {
        let (status, answer) = send(&staff, Method::POST, "/api/v1/shelter/stays", body).await;
        assert_eq!(status, 422, "{field}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{answer}");
    }
    let not_json = staff
        .write(Method::POST, "/api/v1/shelter/stays")
        .header("content-type", "application/json")
        .body("{\"alias\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    use paivystys::domain::clock::Clock;
    let tomorrow = (app.clock.now() + chrono::Duration::days(2)).date_naive();
    for body in [
        json!({"adults": -1, "children": 0}),
        json!({"adults": 0, "children": 0}),
        json!({"adults": 1, "date": tomorrow}),
        json!({"adults": 1, "date": "2026-13-01"}),
    ] {
        let (status, answer) = send(
            &staff,
            Method::POST,
            "/api/v1/shelter/turned-away",
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
    }
    for (path, expected) in [
        ("/api/v1/shelter/stays?state=gone", 422),
        ("/api/v1/shelter/statistics?year=2026&format=xlsx", 422),
        ("/api/v1/shelter/statistics?year=abc", 400),
        ("/api/v1/shelter/stays/not-a-uuid", 400),
    ] {
        assert_eq!(get(&staff, path).await.0, expected, "{path}");
    }
    let (status, answer) = send(
        &desk,
        Method::POST,
        "/api/v1/shelter/referrals",
        json!({"entry_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (422, Some("entry_id"))
    );
    assert_eq!(
        send(
            &desk,
            Method::POST,
            "/api/v1/shelter/referrals",
            json!({"entry_id": "x"})
        )
        .await
        .0,
        422
    );
    assert_eq!(get(&desk, "/api/v1/shelter/referrals/abc").await.0, 404);
    // Edits need the version they were made on.
    let (_, stay) = send(
        &staff,
        Method::POST,
        "/api/v1/shelter/stays",
        arrival("Tiainen", None),
    )
    .await;
    let path = format!("/api/v1/shelter/stays/{}", stay["id"].as_str().unwrap());
    let (status, _) = send(&staff, Method::PATCH, &path, json!({"alias": "Uusi"})).await;
    assert_eq!(status, 428);
    let bad_version = staff
        .write(Method::PATCH, &path)
        .header("If-Match", "latest")
        .json(&json!({"alias": "Uusi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_version.status(), 400);
    // Nothing of the refused input was recorded.
    let (_, stays) = get(&staff, "/api/v1/shelter/stays?state=all").await;
    assert_eq!(stays.as_array().unwrap().len(), 1);
    assert_eq!(stays[0]["alias"], "Tiainen");
    assert_eq!(
        get(&staff, "/api/v1/shelter/turned-away").await.1,
        json!([])
    );
}
