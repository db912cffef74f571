//! The authorization matrix: every operation of the OpenAPI document × every kind of
//! caller (anonymous, a chat client's token, and each staff role), run against the real
//! server with real records behind every path. An operation missing from the table fails
//! the test, so a new endpoint cannot ship without its row.
//!
//! A caller is *refused* when the answer is 401 or 403; anything else (200, 404, 409, 422,
//! …) means the role got past authorization. No answer may be a 5xx.

use std::collections::BTreeSet;

use paivystys::domain::roles::Role;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp};
use crate::on_both_backends;

on_both_backends!(every_operation_answers_each_caller_as_the_table_says);

/// Who may pass: A anonymous, C a chat token, O on-call, S supervisor, T a member of the
/// team the records were handed to, H shelter staff, D administrator. `-`: nobody (a
/// signature or the shelter link's secret, which no caller here has).
struct Row {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    allowed: &'static str,
    body: Option<fn(&Fixture) -> Value>,
}

const fn row(method: &'static str, path: &'static str, allowed: &'static str) -> Row {
    Row {
        method,
        path,
        query: "",
        allowed,
        body: None,
    }
}

const ALL: &str = "ACOSTHD";
const STAFF: &str = "OSTHD";
const DESK: &str = "OS";

fn with_query(mut r: Row, query: &'static str) -> Row {
    r.query = query;
    r
}

fn with_body(mut r: Row, body: fn(&Fixture) -> Value) -> Row {
    r.body = Some(body);
    r
}

fn matrix() -> Vec<Row> {
    vec![
        // The access log: supervisors and administrators only.
        with_query(row("GET", "/api/v1/access-log", "SD"), "entry={entry}"),
        with_query(row("GET", "/api/v1/access-log/subject", "SD"), "name=Matti"),
        // Calls: the desk.
        row("GET", "/api/v1/calls", DESK),
        row("GET", "/api/v1/calls/statistics", DESK),
        row("GET", "/api/v1/calls/{id}", DESK),
        row("POST", "/api/v1/calls/{id}/record-number", DESK),
        // Chats, the desk's side.
        row("GET", "/api/v1/chats", DESK),
        row("POST", "/api/v1/chats/next", DESK),
        row("GET", "/api/v1/chats/{chat_id}", DESK),
        row("POST", "/api/v1/chats/{chat_id}/accept", DESK),
        with_body(
            row("POST", "/api/v1/chats/{chat_id}/delivered", DESK),
            |_| json!({"seq": 1}),
        ),
        row("POST", "/api/v1/chats/{chat_id}/end", DESK),
        row("GET", "/api/v1/chats/{chat_id}/messages", DESK),
        with_body(
            row("POST", "/api/v1/chats/{chat_id}/messages", DESK),
            |_| json!({"client_id": uuid::Uuid::new_v4(), "body": "Hei"}),
        ),
        with_body(
            row("POST", "/api/v1/chats/{chat_id}/risk", DESK),
            |_| json!({"level": "high"}),
        ),
        with_body(
            row("POST", "/api/v1/chats/{chat_id}/transfer", DESK),
            |_| json!({"to": 1, "note": "Jatkatko?"}),
        ),
        // The live log: the desk; a report's text also the team it was handed to.
        row("GET", "/api/v1/entries", DESK),
        with_body(row("POST", "/api/v1/entries", DESK), |_| json!({})),
        row("GET", "/api/v1/entries/{id}", DESK),
        with_body(
            row("PATCH", "/api/v1/entries/{id}", DESK),
            |_| json!({"notes": "x"}),
        ),
        row("POST", "/api/v1/entries/{id}/claim", DESK),
        row("GET", "/api/v1/entries/{id}/handovers", DESK),
        with_body(row("POST", "/api/v1/entries/{id}/handovers", DESK), |_| {
            json!({})
        }),
        row("GET", "/api/v1/entries/{id}/history", DESK),
        row("POST", "/api/v1/entries/{id}/release", DESK),
        row("GET", "/api/v1/entries/{id}/report", "OST"),
        // Handovers: the desk and the receiving team; acting on one, the team and the
        // supervisor; answering a team's question, the desk.
        row("GET", "/api/v1/handovers", DESK),
        row("GET", "/api/v1/handovers/{id}", "OST"),
        row("POST", "/api/v1/handovers/{id}/ack", "ST"),
        with_body(
            row("POST", "/api/v1/handovers/{id}/answer", DESK),
            |_| json!({"note": "Äiti on tavoitettavissa numerosta, joka on kirjauksessa."}),
        ),
        row("POST", "/api/v1/handovers/{id}/done", "ST"),
        with_body(
            row("POST", "/api/v1/handovers/{id}/forward", "ST"),
            |_| json!({"team": "families", "reason": "Kuuluu lapsiperheiden palveluille."}),
        ),
        with_body(
            row("POST", "/api/v1/handovers/{id}/return", "ST"),
            |_| json!({"question": "Kuka soitti?"}),
        ),
        row("GET", "/api/v1/teams", STAFF),
        row("GET", "/api/v1/teams/{key}/digest", "OST"),
        row("GET", "/api/v1/teams/{key}/handovers", "OST"),
        // Accounts and presence.
        row("GET", "/api/v1/me", STAFF),
        row("GET", "/api/v1/presence", DESK),
        row("GET", "/api/v1/session", STAFF),
        with_body(row("POST", "/api/v1/session", ALL), |_| json!({})),
        row("DELETE", "/api/v1/session", STAFF),
        // The public: anyone opens a chat or sends a report; only the token reads its chat.
        row("POST", "/api/v1/public/chats", ALL),
        row("GET", "/api/v1/public/chats/{chat_id}", "C"),
        row("POST", "/api/v1/public/chats/{chat_id}/end", "C"),
        with_body(
            row("POST", "/api/v1/public/chats/{chat_id}/messages", "C"),
            |_| json!({"client_id": uuid::Uuid::new_v4(), "body": "Oletko siellä?"}),
        ),
        row("GET", "/api/v1/public/info", ALL),
        with_body(row("POST", "/api/v1/public/reports", ALL), |_| json!({})),
        with_body(
            row("POST", "/api/v1/public/reports/{reference}/additions", ALL),
            |f| json!({"secret": f.report_secret, "text": "Lisätieto."}),
        ),
        // The shelter: places for the desk and the shelter; codes for the desk; the
        // register for shelter staff only; the link for a desk server with the secret.
        row("GET", "/api/v1/shelter/capacity", "OSH"),
        row("GET", "/api/v1/shelter/referrals", DESK),
        with_body(
            row("POST", "/api/v1/shelter/referrals", DESK),
            |_| json!({}),
        ),
        row("GET", "/api/v1/shelter/referrals/{code}", DESK),
        row("GET", "/api/v1/shelter/statistics", "H"),
        row("GET", "/api/v1/shelter/stays", "H"),
        with_body(row("POST", "/api/v1/shelter/stays", "H"), |_| json!({})),
        row("GET", "/api/v1/shelter/stays/{id}", "H"),
        with_body(row("PATCH", "/api/v1/shelter/stays/{id}", "H"), |_| {
            json!({})
        }),
        with_body(
            row("POST", "/api/v1/shelter/stays/{id}/depart", "H"),
            |_| json!({}),
        ),
        row("GET", "/api/v1/shelter/turned-away", "H"),
        with_body(row("POST", "/api/v1/shelter/turned-away", "H"), |_| {
            json!({})
        }),
        row("GET", "/api/v1/shelter-link/capacity", "-"),
        with_body(row("POST", "/api/v1/shelter-link/referrals", "-"), |_| {
            json!({})
        }),
        row("GET", "/api/v1/shelter-link/referrals/{code}", "-"),
        // Streams: the desk's stream for the desk (a token reads only its own chat's).
        row("GET", "/api/v1/streams/{stream}/events", DESK),
        // The phone system signs; no caller here has its secret.
        with_body(row("POST", "/api/v1/telephony/events", "-"), |_| json!({})),
        // The websocket authorises per frame; without an upgrade every caller gets 400.
        row("GET", "/api/v1/ws", ALL),
        row("GET", "/healthz", ALL),
        row("GET", "/metrics", ALL),
        row("GET", "/readyz", ALL),
    ]
}

/// Real records behind every path parameter.
struct Fixture {
    entry: String,
    report_entry: String,
    handover: String,
    chat: String,
    chat_token: String,
    call: String,
    stay: String,
    code: String,
    report_reference: String,
    report_secret: String,
}

impl Fixture {
    fn fill(&self, path: &str, template: &str) -> String {
        let id = if path.starts_with("/api/v1/handovers/") {
            &self.handover
        } else if path.starts_with("/api/v1/calls/") {
            &self.call
        } else if path.starts_with("/api/v1/shelter/stays/") {
            &self.stay
        } else if path.ends_with("/report") {
            &self.report_entry
        } else {
            &self.entry
        };
        template
            .replace("{id}", id)
            .replace("{entry}", &self.entry)
            .replace("{chat_id}", &self.chat)
            .replace("{code}", &self.code)
            .replace("{key}", "child_welfare")
            .replace("{stream}", "desk")
            .replace("{reference}", &self.report_reference)
    }
}

struct Caller<'a> {
    mark: char,
    client: Option<&'a Client>,
    bearer: Option<&'a str>,
}

async fn fixture(app: &TestApp, oncall: &Client, shelter: &Client) -> Fixture {
    let (_, entry) = oncall
        .send_json(
            Method::POST,
            "/api/v1/entries",
            json!({"channel": "phone_in", "category": "child_welfare", "urgency": "normal",
                   "summary": "Huoli", "subject": {"anonymous": true, "alias": "Soittaja"}}),
        )
        .await;
    let entry = entry["id"].as_str().unwrap().to_owned();
    let (_, handover) = oncall
        .send_json(
            Method::POST,
            &format!("/api/v1/entries/{entry}/handovers"),
            json!({"team": "child_welfare", "note": "Aamulla soitto äidille."}),
        )
        .await;
    let http = reqwest::Client::new();
    let chat: Value = http
        .post(app.url("/api/v1/public/chats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let report: Value = http
        .post(app.url("/api/v1/public/reports"))
        .json(
            &json!({"kind": "child_welfare", "description": "Lapset yksin.",
                      "reporter": {"professional": false}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = report["reference"].as_str().unwrap().to_owned();
    let (stored, _) = app
        .db
        .store
        .report_by_reference(&reference)
        .await
        .unwrap()
        .unwrap();
    let call_event = json!({"event": "call.answered", "call_id": "matrix-1", "from": "040 1",
                            "to": "0800", "at": app.clock.now_utc()});
    let body = call_event.to_string();
    let call: Value = http
        .post(app.url("/api/v1/telephony/events"))
        .header("content-type", "application/json")
        .header(
            "X-Paivystys-Signature",
            paivystys::telephony::sign(&SecretString::from(SECRET), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, stay) = shelter
        .send_json(
            Method::POST,
            "/api/v1/shelter/stays",
            json!({"alias": "Lumikki", "adults": 1, "sexes": {"female": 1},
                   "referral_source": "self"}),
        )
        .await;
    let (_, code) = oncall
        .send_json(Method::POST, "/api/v1/shelter/referrals", json!({}))
        .await;
    Fixture {
        entry,
        report_entry: stored.entry_id.to_string(),
        handover: handover["id"].as_str().unwrap().to_owned(),
        chat: chat["chat_id"].as_str().unwrap().to_owned(),
        chat_token: chat["token"].as_str().unwrap().to_owned(),
        call: call["call"]["id"].as_str().unwrap().to_owned(),
        stay: stay["id"].as_str().unwrap().to_owned(),
        code: code["code"].as_str().unwrap().to_owned(),
        report_reference: reference,
        report_secret: report["secret"].as_str().unwrap().to_owned(),
    }
}

const SECRET: &str = "matrix-telephony-secret-0123456789abcdef";

trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}

impl NowUtc for std::sync::Arc<paivystys::domain::clock::ManualClock> {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        use paivystys::domain::clock::Clock;
        self.now()
    }
}

async fn every_operation_answers_each_caller_as_the_table_says(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.telephony_secret = Some(SecretString::from(SECRET));
        // This server also hosts the link a desk elsewhere would call with this secret.
        s.shelter.link_secret = Some(SecretString::from(SECRET));
    })
    .await
    else {
        return;
    };
    let oncall = app.user("olli", Role::Oncall, None).await;
    let supervisor = app.user("sanna", Role::Supervisor, None).await;
    let team = app.user("lasu", Role::Team, Some("child_welfare")).await;
    let shelter = app.user("turva", Role::Shelter, None).await;
    let admin = app.user("admin", Role::Admin, None).await;
    let f = fixture(&app, &oncall, &shelter).await;
    let anonymous = reqwest::Client::new();

    // Every operation the document names has exactly one row, and every row an operation.
    let document: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let rows = matrix();
    let tabled: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(tabled.len(), rows.len(), "an operation has two rows");
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "add a row for every new operation: missing {missing:?}; no longer documented {stale:?}"
    );

    // Logout last: it ends the caller's session.
    let mut ordered: Vec<&Row> = rows.iter().filter(|r| r.method != "DELETE").collect();
    ordered.extend(rows.iter().filter(|r| r.method == "DELETE"));
    let callers = [
        Caller {
            mark: 'A',
            client: None,
            bearer: None,
        },
        Caller {
            mark: 'C',
            client: None,
            bearer: Some(&f.chat_token),
        },
        Caller {
            mark: 'O',
            client: Some(&oncall),
            bearer: None,
        },
        Caller {
            mark: 'S',
            client: Some(&supervisor),
            bearer: None,
        },
        Caller {
            mark: 'T',
            client: Some(&team),
            bearer: None,
        },
        Caller {
            mark: 'H',
            client: Some(&shelter),
            bearer: None,
        },
        Caller {
            mark: 'D',
            client: Some(&admin),
            bearer: None,
        },
    ];
    let mut wrong = Vec::new();
    for r in ordered {
        let mut url = f.fill(r.path, r.path);
        if !r.query.is_empty() {
            url = format!("{url}?{}", f.fill(r.path, r.query));
        }
        for caller in &callers {
            let method = Method::from_bytes(r.method.as_bytes()).unwrap();
            let mut request = match caller.client {
                Some(client) => client.write(method, &url),
                None => anonymous.request(method, app.url(&url)),
            };
            if let Some(token) = caller.bearer {
                request = request.bearer_auth(token);
            }
            if let Some(body) = r.body {
                request = request.json(&body(&f));
            }
            let status = request.send().await.unwrap().status().as_u16();
            let refused = matches!(status, 401 | 403);
            let expected = r.allowed.contains(caller.mark);
            if status >= 500 || refused == expected {
                wrong.push(format!(
                    "{} {} as {}: {status} (expected {})",
                    r.method,
                    r.path,
                    caller.mark,
                    if expected { "to pass" } else { "401/403" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
