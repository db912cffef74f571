//! The access log on both databases: its hash chain catches an edited or removed row
//! (`paivystys audit verify`), a named client's entry outside one's own work opens only
//! with a reason that the supervisors see, and supervisors read an entry's log and a
//! client's report.

use chrono::Duration;
use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, postgres_url};
use crate::on_both_backends;

on_both_backends!(
    the_chain_verifies_and_catches_an_edited_or_removed_row,
    a_named_clients_entry_outside_ones_own_work_needs_a_reason,
    supervisors_read_an_entrys_log_and_a_clients_report,
);

async fn named_entry(worker: &Client, name: &str) -> String {
    let (status, entry) = worker
        .send_json(
            Method::POST,
            "/api/v1/entries",
            json!({"channel": "phone_in", "category": "adult", "urgency": "normal",
                   "summary": "Toimeentulo", "subject": {"anonymous": false, "name": name,
                   "birth_date": "1980-05-04", "municipality": "Porvoo"}}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

/// `paivystys audit verify` against the test's database: (success, stdout + stderr).
fn verify(app: &TestApp) -> (bool, String) {
    let url = match app.db.backend {
        Backend::Sqlite => format!("sqlite://{}", app.db.location),
        Backend::Postgres => {
            let mut url = url::Url::parse(&postgres_url()).unwrap();
            url.query_pairs_mut()
                .append_pair("options", &format!("-c search_path={}", app.db.location));
            url.to_string()
        }
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args(["audit", "verify"])
        .env("PAIVYSTYS_DATABASE_URL", url)
        .env_remove("PAIVYSTYS_CONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn the_chain_verifies_and_catches_an_edited_or_removed_row(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("anna", Role::Oncall, None).await;
    let id = named_entry(&worker, "Matti Meikäläinen").await;
    for _ in 0..4 {
        let (status, _) = worker.get_json(&format!("/api/v1/entries/{id}")).await;
        assert_eq!(status, 200);
    }
    let (ok, out) = verify(&app);
    assert!(ok, "{out}");
    assert!(out.contains("access log intact: 5 chained rows"), "{out}");

    // Someone with the database's own powers goes around the append-only trigger and
    // rewrites who read the entry.
    let unguard = match backend {
        Backend::Sqlite => "DROP TRIGGER access_log_no_update",
        Backend::Postgres => "ALTER TABLE access_log DISABLE TRIGGER USER",
    };
    app.db.execute_raw(unguard).await.unwrap();
    let third: i64 = {
        let rows = app.db.store.access_chain_page(0, 10).await.unwrap();
        rows[2].id
    };
    app.db
        .execute_raw(&format!(
            "UPDATE access_log SET username = 'someone_else' WHERE id = {third}"
        ))
        .await
        .unwrap();
    let (ok, out) = verify(&app);
    assert!(!ok, "an edited row is caught: {out}");
    assert!(
        out.contains(&format!("broken at row {third}")) && out.contains("changed"),
        "{out}"
    );

    // Put back, then remove a row instead: the next row's link breaks.
    app.db
        .execute_raw(&format!(
            "UPDATE access_log SET username = 'anna' WHERE id = {third}"
        ))
        .await
        .unwrap();
    assert!(verify(&app).0, "restored");
    if backend == Backend::Sqlite {
        app.db
            .execute_raw("DROP TRIGGER access_log_no_delete")
            .await
            .unwrap();
    }
    app.db
        .execute_raw(&format!("DELETE FROM access_log WHERE id = {third}"))
        .await
        .unwrap();
    let (ok, out) = verify(&app);
    assert!(!ok, "a removed row is caught: {out}");
    assert!(
        out.contains(&format!("broken at row {}", third + 1)),
        "{out}"
    );
    assert!(out.contains("removed"), "{out}");
}

async fn a_named_clients_entry_outside_ones_own_work_needs_a_reason(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let named = named_entry(&anna, "Liisa Esimerkki").await;
    let (status, anonymous) = anna
        .send_json(
            Method::POST,
            "/api/v1/entries",
            json!({"channel": "phone_in", "category": "adult", "urgency": "normal",
                   "summary": "Nimetön", "subject": {"anonymous": true, "alias": "Soittaja"}}),
        )
        .await;
    assert_eq!(status, 201);
    // Two days later, another worker on another shift.
    app.clock.advance(Duration::days(2));
    let ville = app.user("ville", Role::Oncall, None).await;
    let supervisor = app.user("sanna", Role::Supervisor, None).await;
    let mut supervision = supervisor.ws().await;
    supervision.subscribe("supervision", 0).await;
    assert_eq!(supervision.next().await["type"], "subscribed");

    let path = format!("/api/v1/entries/{named}");
    let (status, error) = ville.get_json(&path).await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["error"]["code"], "reason_required");
    let (status, _) = ville.get_json(&format!("{path}/history")).await;
    assert_eq!(status, 403, "the history holds the same client");
    let (status, _) = ville.get_json(&format!("{path}?reason=koska")).await;
    assert_eq!(status, 403, "a reason is a sentence, not a word");
    let (status, _) = ville
        .get_json(&format!("{path}?reason={}", "a".repeat(501)))
        .await;
    assert_eq!(status, 403, "nor a whole essay");

    let reason = "Asiakas soitti uudelleen ja viittasi aiempaan puheluun";
    let (status, entry) = ville
        .get_json(&format!("{path}?reason={}", urlencode(reason)))
        .await;
    assert_eq!(status, 200, "{entry}");
    let flag = supervision.next().await;
    assert_eq!(flag["kind"], "access.outside_work");
    assert_eq!(flag["data"]["reason"], reason);
    assert_eq!(flag["data"]["user"]["username"], "ville");

    let log = app.db.store.access_log_for("entry", &named).await.unwrap();
    let ville_rows: Vec<(String, Option<String>)> = log
        .iter()
        .filter(|r| r.username == "ville")
        .map(|r| (format!("{:?}", r.result), r.purpose.clone()))
        .collect();
    assert_eq!(
        ville_rows,
        [
            ("Refused".to_owned(), None),
            ("Refused".to_owned(), None),
            ("Refused".to_owned(), None),
            ("Refused".to_owned(), None),
            (
                "Allowed".to_owned(),
                Some(format!("outside own work: {reason}"))
            ),
        ]
    );

    // Her own entry, a supervisor, and an anonymous entry need no reason.
    let anna = app.login("anna", "anna-password-123").await;
    assert_eq!(anna.get_json(&path).await.0, 200);
    assert_eq!(supervisor.get_json(&path).await.0, 200);
    let anonymous_path = format!("/api/v1/entries/{}", anonymous["id"].as_str().unwrap());
    assert_eq!(ville.get_json(&anonymous_path).await.0, 200);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn supervisors_read_an_entrys_log_and_a_clients_report(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let anna = app.user("anna", Role::Oncall, None).await;
    let named = named_entry(&anna, "Pekka  Puupää").await;
    let other = named_entry(&anna, "Toinen Henkilö").await;
    anna.get_json(&format!("/api/v1/entries/{named}")).await;
    let supervisor = app.user("sanna", Role::Supervisor, None).await;
    let admin = app.user("admin", Role::Admin, None).await;

    let path = format!("/api/v1/access-log?entry={named}");
    let (status, error) = anna.get_json(&path).await;
    assert_eq!(status, 403, "{error}");
    for auditor in [&supervisor, &admin] {
        let (status, rows) = auditor.get_json(&path).await;
        assert_eq!(status, 200, "{rows}");
        let readers: Vec<&Value> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["username"])
            .collect();
        assert!(readers.contains(&&json!("anna")), "{rows}");
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .all(|r| r["record_id"] == named.as_str()),
            "only this entry's rows: {rows}"
        );
    }

    let (status, report) = supervisor
        .get_json("/api/v1/access-log/subject?name=pekka%20puupää&birth_date=1980-05-04")
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["entries"], json!([named]));
    assert!(report["warning"].is_null());
    assert!(
        report["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["record_id"] != other.as_str()),
        "nothing of another client"
    );
    assert!(!report["accesses"].as_array().unwrap().is_empty());
    let (status, old) = supervisor
        .get_json("/api/v1/access-log/subject?name=Pekka%20Puup%C3%A4%C3%A4&from=2020-01-01")
        .await;
    assert_eq!(status, 200);
    assert!(old["warning"].as_str().unwrap().contains("two years"));
    let (status, _) = anna
        .get_json("/api/v1/access-log/subject?name=Pekka%20Puup%C3%A4%C3%A4")
        .await;
    assert_eq!(status, 403);
    // Garbage in the queries is refused clearly.
    for (query, expected) in [
        ("/api/v1/access-log?entry=not-an-id", 400),
        (
            "/api/v1/access-log?entry=00000000-0000-0000-0000-000000000000",
            404,
        ),
        ("/api/v1/access-log?entry={named}&extra=1", 400),
        ("/api/v1/access-log/subject?name=%20", 422),
        ("/api/v1/access-log/subject", 400),
        ("/api/v1/access-log/subject?name=x&from=2026-13-01", 400),
        (
            "/api/v1/access-log/subject?name=x&from=2026-02-01&to=2026-01-01",
            400,
        ),
    ] {
        let path = query.replace("{named}", &named);
        let long = format!("/api/v1/access-log/subject?name={}", "a".repeat(201));
        for path in [path, long] {
            let (status, body) = supervisor.get_json(&path).await;
            let expected = if path.contains("aaaa") { 422 } else { expected };
            assert_eq!(status, expected, "{path}: {body}");
            assert!(body["error"]["code"].is_string(), "{path}: {body}");
        }
    }
    // The report is itself in the log.
    let log = app
        .db
        .store
        .access_log_for("access_log", &named)
        .await
        .unwrap();
    assert!(log.iter().any(|r| format!("{:?}", r.action) == "Export"));
}
