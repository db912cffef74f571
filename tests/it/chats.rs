//! The anonymous client chat on both databases: its whole life over HTTP and websockets,
//! idempotent messages, token isolation, the risk-ranked queue, rate limits, the idle
//! timer, the retention purge, and that nothing of the client's address is stored.

use chrono::Duration;
use futures_util::SinkExt;
use paivystys::domain::roles::Role;
use paivystys::jobs::run_chat_timers;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Backend, Client, TestApp, Ws};
use crate::on_both_backends;

on_both_backends!(
    a_chat_lives_from_the_waiting_room_to_its_end,
    a_resent_message_is_stored_once,
    a_token_opens_only_its_own_chat,
    a_risky_later_chat_is_answered_before_a_calm_earlier_one,
    opening_and_writing_are_rate_limited_with_a_retry_time,
    an_idle_chat_ends_with_a_notice_and_an_abandoned_one_expires,
    the_purge_removes_the_words_and_keeps_the_statistics,
    nothing_stored_holds_the_clients_address,
    a_transferred_chat_takes_its_entry_along,
    bad_chat_input_is_refused_clearly,
    bad_desk_chat_input_is_refused_clearly,
    the_chat_page_speaks_as_the_client_even_beside_a_console_login,
);

/// An anonymous chat client: its chat id and token, nothing else.
pub(crate) struct Anon {
    http: reqwest::Client,
    base: String,
    pub(crate) chat_id: String,
    token: String,
}

impl Anon {
    pub(crate) async fn open(app: &TestApp, language: &str) -> Anon {
        let http = reqwest::Client::new();
        let response = http
            .post(app.url("/api/v1/public/chats"))
            .json(&json!({ "language": language }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["stream"],
            format!("chat:{}", body["chat_id"].as_str().unwrap())
        );
        Anon {
            http,
            base: app.base.clone(),
            chat_id: body["chat_id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub(crate) fn stream(&self) -> String {
        format!("chat:{}", self.chat_id)
    }

    /// Sends a request without a body with the chat token.
    async fn call(&self, method: Method, path: &str) -> reqwest::Response {
        self.request(method, path).send().await.unwrap()
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn say_as(&self, client_id: &str, body: &str) -> (u16, Value) {
        let response = self
            .request(
                Method::POST,
                &format!("/api/v1/public/chats/{}/messages", self.chat_id),
            )
            .json(&json!({ "client_id": client_id, "body": body }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Writes a new message; returns its sequence number.
    async fn say(&self, body: &str) -> i64 {
        let (status, ack) = self.say_as(&uuid::Uuid::new_v4().to_string(), body).await;
        assert_eq!(status, 201, "{ack}");
        ack["seq"].as_i64().unwrap()
    }

    async fn status(&self) -> Value {
        let response = self
            .call(
                Method::GET,
                &format!("/api/v1/public/chats/{}", self.chat_id),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A websocket authenticated with the chat token, following the chat from `since`.
    pub(crate) async fn ws(&self, since: i64) -> Ws {
        let url = format!("{}/api/v1/ws", self.base.replacen("http", "ws", 1));
        let (socket, _) = tokio_tungstenite::connect_async(url.into_client_request().unwrap())
            .await
            .expect("websocket connects");
        let mut ws = Ws { socket };
        ws.send(json!({"type": "auth", "token": self.token})).await;
        let frame = ws.next().await;
        assert_eq!(frame["type"], "authenticated", "{frame}");
        assert_eq!(frame["chat_id"], self.chat_id.as_str());
        ws.subscribe(&self.stream(), since).await;
        ws
    }
}

/// The next event frame, skipping `subscribed` and typing frames.
async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("event") => return frame,
            Some("subscribed") | Some("typing") => continue,
            _ => panic!("unexpected frame {frame}"),
        }
    }
}

/// Reads events until one of `kind` arrives.
async fn event_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let frame = next_event(ws).await;
        if frame["kind"] == kind {
            return frame;
        }
    }
}

async fn post(worker: &Client, path: &str, body: Value) -> (u16, Value) {
    worker.send_json(Method::POST, path, body).await
}

async fn get(worker: &Client, path: &str) -> Value {
    let (status, body) = worker.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn queue_ids(queue: &Value) -> Vec<String> {
    queue
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_chat_lives_from_the_waiting_room_to_its_end(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut desk = worker.ws().await;
    desk.subscribe("desk", 0).await;
    assert_eq!(desk.next().await["type"], "subscribed");

    // The client opens the chat and writes while waiting.
    let client = Anon::open(&app, "sv").await;
    let queued = event_of(&mut desk, "chat.queued").await;
    assert_eq!(queued["data"]["chat"]["id"], client.chat_id.as_str());
    assert_eq!(queued["data"]["chat"]["language"], "sv");
    let mut client_ws = client.ws(0).await;
    assert_eq!(next_event(&mut client_ws).await["kind"], "chat.opened");
    let first = client.say("Hej, jag behöver prata med någon").await;
    let echoed = event_of(&mut client_ws, "chat.message").await;
    assert_eq!(
        (echoed["seq"].as_i64(), &echoed["data"]["from"]),
        (Some(first), &json!("client"))
    );
    let status = client.status().await;
    assert_eq!(
        (status["state"].as_str(), status["position"].as_i64()),
        (Some("queued"), Some(1))
    );

    // The worker sees the queue and accepts; the client is told; an entry appears.
    let queue = get(&worker, "/api/v1/chats?state=queued").await;
    assert_eq!(queue_ids(&queue), vec![client.chat_id.clone()]);
    let (status_code, accepted) = post(
        &worker,
        &format!("/api/v1/chats/{}/accept", client.chat_id),
        json!({}),
    )
    .await;
    assert_eq!(status_code, 200, "{accepted}");
    assert_eq!(accepted["state"], "active");
    let joined = event_of(&mut client_ws, "chat.accepted").await;
    assert!(
        !joined.to_string().contains("olli"),
        "the client never learns the worker's name: {joined}"
    );
    let entry_id = accepted["entry_id"].as_str().unwrap();
    let entry = get(&worker, &format!("/api/v1/entries/{entry_id}")).await;
    assert_eq!(entry["channel"], "chat");
    assert_eq!(entry["chat"], client.chat_id.as_str());
    assert_eq!(entry["claimed_by"]["id"], accepted["worker"]["id"]);
    assert!(queue_ids(&get(&worker, "/api/v1/chats").await).is_empty());

    // Two-way conversation, live, with the delivered mark.
    let mut worker_chat = worker.ws().await;
    worker_chat.subscribe(&client.stream(), 0).await;
    let (code, ack) = post(
        &worker,
        &format!("/api/v1/chats/{}/messages", client.chat_id),
        json!({"client_id": uuid::Uuid::new_v4(), "body": "Hej, jag heter Olli. Jag lyssnar."}),
    )
    .await;
    assert_eq!(code, 201, "{ack}");
    let reply = event_of(&mut client_ws, "chat.message").await;
    assert_eq!(reply["data"]["from"], "worker");
    assert_eq!(reply["seq"], ack["seq"]);
    let second = client.say("Tack.").await;
    let (code, _) = post(
        &worker,
        &format!("/api/v1/chats/{}/delivered", client.chat_id),
        json!({"seq": second}),
    )
    .await;
    assert_eq!(code, 204);
    let delivered = event_of(&mut client_ws, "chat.delivered").await;
    assert_eq!(delivered["data"]["up_to"], second);

    // Typing reaches the other side and is never stored.
    worker_chat
        .send(json!({"type": "typing", "stream": client.stream()}))
        .await;
    loop {
        let frame = client_ws.next().await;
        if frame["type"] == "typing" {
            assert_eq!(frame["from"], "worker");
            break;
        }
    }
    let stored = app
        .db
        .store
        .events_since(&client.stream(), 0, 100)
        .await
        .unwrap();
    assert!(stored.iter().all(|e| e.kind != "typing"));

    // The client ends; the desk sees it; writing afterwards is refused.
    let end = client
        .call(
            Method::POST,
            &format!("/api/v1/public/chats/{}/end", client.chat_id),
        )
        .await;
    assert_eq!(end.status(), 204);
    let ended = event_of(&mut client_ws, "chat.ended").await;
    assert_eq!(ended["data"]["reason"], "client");
    let (code, refused) = client
        .say_as(&uuid::Uuid::new_v4().to_string(), "vänta")
        .await;
    assert_eq!(
        (code, refused["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let transcript = get(
        &worker,
        &format!("/api/v1/chats/{}/messages", client.chat_id),
    )
    .await;
    let bodies: Vec<&str> = transcript
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "Hej, jag behöver prata med någon",
            "Hej, jag heter Olli. Jag lyssnar.",
            "Tack."
        ]
    );
    let log = app
        .db
        .store
        .access_log_for("chat", &client.chat_id)
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "reading the transcript is logged");
    // The entry stays open for the worker to complete.
    let entry = get(&worker, &format!("/api/v1/entries/{entry_id}")).await;
    assert_eq!(entry["status"], "in_progress");
}

async fn a_resent_message_is_stored_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let client = Anon::open(&app, "fi").await;
    let id = uuid::Uuid::new_v4().to_string();
    let (first, ack) = client.say_as(&id, "Onko siellä ketään?").await;
    assert_eq!(first, 201);
    // The same id again, sequentially and four at once (a flaky phone resending).
    let (again, same) = client.say_as(&id, "Onko siellä ketään?").await;
    assert_eq!((again, &same["seq"]), (200, &ack["seq"]));
    let resends = (0..4).map(|_| client.say_as(&id, "Onko siellä ketään?"));
    for (status, body) in futures_util::future::join_all(resends).await {
        assert_eq!((status, &body["seq"]), (200, &ack["seq"]));
    }
    // The worker's side follows the same rule.
    post(
        &worker,
        &format!("/api/v1/chats/{}/accept", client.chat_id),
        json!({}),
    )
    .await;
    let worker_id = uuid::Uuid::new_v4();
    let path = format!("/api/v1/chats/{}/messages", client.chat_id);
    let body = json!({"client_id": worker_id, "body": "Täällä ollaan."});
    let (a, first_reply) = post(&worker, &path, body.clone()).await;
    let (b, second_reply) = post(&worker, &path, body).await;
    assert_eq!((a, b), (201, 200));
    assert_eq!(first_reply["seq"], second_reply["seq"]);
    // A resend after the end still gets its original answer.
    post(
        &worker,
        &format!("/api/v1/chats/{}/end", client.chat_id),
        json!({}),
    )
    .await;
    let (late, late_ack) = client.say_as(&id, "Onko siellä ketään?").await;
    assert_eq!((late, &late_ack["seq"]), (200, &ack["seq"]));

    let messages = app
        .db
        .store
        .chat_messages(client.chat_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let events = app
        .db
        .store
        .events_since(&client.stream(), 0, 100)
        .await
        .unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "chat.message").count(),
        2
    );
}

async fn a_token_opens_only_its_own_chat(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = Anon::open(&app, "fi").await;
    first.say("Minun asiani on yksityinen").await;
    let second = Anon::open(&app, "fi").await;
    // The second client's token on the first chat: every door is shut.
    let intruder = Anon {
        chat_id: first.chat_id.clone(),
        ..Anon {
            http: reqwest::Client::new(),
            base: app.base.clone(),
            chat_id: String::new(),
            token: second.token.clone(),
        }
    };
    let status = intruder
        .call(
            Method::GET,
            &format!("/api/v1/public/chats/{}", first.chat_id),
        )
        .await;
    assert_eq!(status.status(), 403);
    let (code, _) = intruder
        .say_as(&uuid::Uuid::new_v4().to_string(), "hei")
        .await;
    assert_eq!(code, 403);
    for stream in [first.stream(), "desk".to_owned(), "team:adults".to_owned()] {
        let events = intruder
            .call(Method::GET, &format!("/api/v1/streams/{stream}/events"))
            .await;
        assert_eq!(events.status(), 403, "{stream}");
    }
    let end = intruder
        .call(
            Method::POST,
            &format!("/api/v1/public/chats/{}/end", first.chat_id),
        )
        .await;
    assert_eq!(end.status(), 403);
    let mut ws = second.ws(0).await;
    ws.subscribe(&first.stream(), 0).await;
    loop {
        let frame = ws.next().await;
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "forbidden");
            assert_eq!(frame["stream"], first.stream().as_str());
            break;
        }
        assert_ne!(frame["stream"], first.stream().as_str(), "{frame}");
    }
    // A token never opens the staff API, and a made-up token opens nothing.
    let staff = intruder.call(Method::GET, "/api/v1/chats").await;
    assert_eq!(staff.status(), 401);
    let forged = Anon {
        token: "x".repeat(43),
        ..intruder
    };
    let refused = forged
        .call(
            Method::GET,
            &format!("/api/v1/public/chats/{}", first.chat_id),
        )
        .await;
    assert_eq!(refused.status(), 401);
    // The first chat is untouched.
    assert_eq!(first.status().await["state"], "queued");
    let messages = app
        .db
        .store
        .chat_messages(first.chat_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
}

async fn a_risky_later_chat_is_answered_before_a_calm_earlier_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let supervisor = app.user("sanna", Role::Supervisor, None).await;
    let mut alerts = supervisor.ws().await;
    alerts.subscribe("desk", 0).await;
    let calm = Anon::open(&app, "fi").await;
    calm.say("Hei, kysyisin toimeentulotuesta").await;
    app.clock.advance(Duration::minutes(10));
    let risky = Anon::open(&app, "fi").await;
    risky.say("Ajattelen itsemurhaa").await;
    app.clock.advance(Duration::minutes(1));
    let also_calm = Anon::open(&app, "en").await;

    let queue = get(&worker, "/api/v1/chats").await;
    assert_eq!(
        queue_ids(&queue),
        vec![
            risky.chat_id.clone(),
            calm.chat_id.clone(),
            also_calm.chat_id.clone()
        ]
    );
    assert_eq!(queue[0]["risk"]["level"], "high");
    assert_eq!(queue[0]["risk"]["signals"], json!(["suicide"]));
    assert_eq!(risky.status().await["position"], 1);
    assert_eq!(calm.status().await["position"], 2);

    // The worker's own assessment raises the calm one above: imminent alerts the desk.
    let (code, assessed) = post(
        &worker,
        &format!("/api/v1/chats/{}/risk", also_calm.chat_id),
        json!({"level": "imminent"}),
    )
    .await;
    assert_eq!(code, 200, "{assessed}");
    assert_eq!(assessed["risk"]["assessed_by"]["name"], "olli");
    let alert = event_of(&mut alerts, "chat.alert").await;
    assert_eq!(alert["data"]["chat_id"], also_calm.chat_id.as_str());
    let (_, lowered) = post(
        &worker,
        &format!("/api/v1/chats/{}/risk", also_calm.chat_id),
        json!({"level": "elevated"}),
    )
    .await;
    assert_eq!(
        lowered["risk"]["level"], "imminent",
        "an assessment only raises"
    );

    // "Take next" gives the most urgent, then the next, then nothing.
    let (code, next) = post(&worker, "/api/v1/chats/next", json!({})).await;
    assert_eq!(
        (code, next["id"].as_str()),
        (200, Some(also_calm.chat_id.as_str()))
    );
    let (_, next) = post(&worker, "/api/v1/chats/next", json!({})).await;
    assert_eq!(next["id"], risky.chat_id.as_str());
    let entry = get(
        &worker,
        &format!("/api/v1/entries/{}", next["entry_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        entry["urgency"], "urgent",
        "a high-risk chat's entry starts urgent"
    );
    let (_, next) = post(&worker, "/api/v1/chats/next", json!({})).await;
    assert_eq!(next["id"], calm.chat_id.as_str());
    let (code, _) = post(&worker, "/api/v1/chats/next", json!({})).await;
    assert_eq!(code, 204);
    // A colleague cannot take an answered chat.
    let (code, conflict) = post(
        &supervisor,
        &format!("/api/v1/chats/{}/accept", calm.chat_id),
        json!({}),
    )
    .await;
    assert_eq!(
        (code, conflict["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
}

async fn opening_and_writing_are_rate_limited_with_a_retry_time(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.chat.opens_per_hour_per_source = 2;
        s.chat.messages_per_minute = 3;
    })
    .await
    else {
        return;
    };
    let client = Anon::open(&app, "fi").await;
    Anon::open(&app, "fi").await;
    let refused = reqwest::Client::new()
        .post(app.url("/api/v1/public/chats"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["retry_after"], retry);

    for n in 0..3 {
        client.say(&format!("viesti {n}")).await;
    }
    let (code, body) = client
        .say_as(&uuid::Uuid::new_v4().to_string(), "liikaa")
        .await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    let messages = app
        .db
        .store
        .chat_messages(client.chat_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(messages.len(), 3, "the refused message was not stored");
}

async fn an_idle_chat_ends_with_a_notice_and_an_abandoned_one_expires(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.chat.idle_minutes = 30;
        s.chat.token_ttl_minutes = 120;
    })
    .await
    else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let talking = Anon::open(&app, "fi").await;
    let waiting = Anon::open(&app, "fi").await;
    post(
        &worker,
        &format!("/api/v1/chats/{}/accept", talking.chat_id),
        json!({}),
    )
    .await;
    let mut client_ws = talking.ws(0).await;

    app.clock.advance(Duration::minutes(29));
    talking.say("Olen vielä täällä").await;
    app.clock.advance(Duration::minutes(29));
    let timers = run_chat_timers(&app.state).await.unwrap();
    assert_eq!(
        (timers.idle, timers.expired),
        (0, 0),
        "a message restarts the idle time"
    );

    app.clock.advance(Duration::minutes(2));
    let timers = run_chat_timers(&app.state).await.unwrap();
    assert_eq!(timers.idle, 1);
    let ended = event_of(&mut client_ws, "chat.ended").await;
    assert_eq!(ended["data"]["reason"], "idle");
    assert_eq!(
        waiting.status().await["state"],
        "queued",
        "nobody answered: not idle"
    );

    app.clock.advance(Duration::minutes(61));
    let timers = run_chat_timers(&app.state).await.unwrap();
    assert_eq!(timers.expired, 1);
    let chat = app
        .db
        .store
        .get_chat(waiting.chat_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chat.end_reason.map(|r| r.as_str()), Some("expired"));
    let gone = waiting
        .call(
            Method::GET,
            &format!("/api/v1/public/chats/{}", waiting.chat_id),
        )
        .await;
    assert_eq!(gone.status(), 401, "an expired token opens nothing");
}

async fn the_purge_removes_the_words_and_keeps_the_statistics(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.chat.retention_days = 30).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let old = Anon::open(&app, "fi").await;
    old.say("Mieheni lyö minua").await;
    let (_, accepted) = post(
        &worker,
        &format!("/api/v1/chats/{}/accept", old.chat_id),
        json!({}),
    )
    .await;
    post(
        &worker,
        &format!("/api/v1/chats/{}/messages", old.chat_id),
        json!({"client_id": uuid::Uuid::new_v4(), "body": "Oletko nyt turvassa?"}),
    )
    .await;
    post(
        &worker,
        &format!("/api/v1/chats/{}/end", old.chat_id),
        json!({}),
    )
    .await;
    app.clock.advance(Duration::days(20));
    let recent = Anon::open(&app, "fi").await;
    recent.say("Tuoreempi keskustelu").await;
    post(
        &worker,
        &format!("/api/v1/chats/{}/end", recent.chat_id),
        json!({}),
    )
    .await;

    app.clock.advance(Duration::days(11));
    let timers = run_chat_timers(&app.state).await.unwrap();
    assert_eq!(timers.purged, 1);
    assert_eq!(
        run_chat_timers(&app.state).await.unwrap().purged,
        0,
        "purged once"
    );
    // A month later the night's session has long expired: the morning's worker reads.
    let worker = app.user("sanna", Role::Supervisor, None).await;

    let transcript = get(&worker, &format!("/api/v1/chats/{}/messages", old.chat_id)).await;
    let messages = transcript.as_array().unwrap();
    assert_eq!(messages.len(), 2, "who wrote and when stays");
    assert!(messages.iter().all(|m| m["body"].is_null()));
    let summary = get(&worker, &format!("/api/v1/chats/{}", old.chat_id)).await;
    assert_eq!(summary["client_messages"], 1);
    assert_eq!(summary["risk"]["level"], "high");
    assert!(summary["accepted_at"].is_string() && summary["ended_at"].is_string());
    let stream = app
        .db
        .store
        .events_since(&old.stream(), 0, 100)
        .await
        .unwrap();
    assert!(
        stream.is_empty(),
        "the stream's copy of the words is gone too"
    );
    let entry = get(
        &worker,
        &format!("/api/v1/entries/{}", accepted["entry_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(entry["channel"], "chat", "the entry stays");
    let kept = get(
        &worker,
        &format!("/api/v1/chats/{}/messages", recent.chat_id),
    )
    .await;
    assert_eq!(
        kept[0]["body"], "Tuoreempi keskustelu",
        "a newer chat keeps its words"
    );
    let text = app.db.all_text().await;
    assert!(
        !text.contains("Mieheni lyö minua"),
        "no copy of the purged words remains"
    );
    assert!(!text.contains("Oletko nyt turvassa?"));
}

async fn nothing_stored_holds_the_clients_address(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.public.client_ip_header = Some("X-Real-IP".into());
    })
    .await
    else {
        return;
    };
    let address = "203.0.113.77";
    let agent = "Mozilla/5.0 (Linux; Android 14) ChatClientUnderTest/9.9";
    let http = reqwest::Client::builder()
        .user_agent(agent)
        .build()
        .unwrap();
    let opened: Value = http
        .post(app.url("/api/v1/public/chats"))
        .header("X-Real-IP", address)
        .header("Forwarded", format!("for={address}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = Anon {
        http,
        base: app.base.clone(),
        chat_id: opened["chat_id"].as_str().unwrap().to_owned(),
        token: opened["token"].as_str().unwrap().to_owned(),
    };
    client.say("Tarvitsen apua").await;
    let text = app.db.all_text().await;
    assert!(
        text.contains("Tarvitsen apua"),
        "the scan sees the stored data"
    );
    for trace in [
        address,
        "127.0.0.1",
        "ChatClientUnderTest",
        client.token.as_str(),
    ] {
        assert!(!text.contains(trace), "{trace} is stored");
    }
    assert_eq!(
        app.state.limits.remembered_sources(),
        1,
        "only as a keyed hash, in memory"
    );
}

async fn a_transferred_chat_takes_its_entry_along(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let first = app.user("olli", Role::Oncall, None).await;
    let second = app.user("sanna", Role::Oncall, None).await;
    let team = app.user("tiina", Role::Team, Some("adults")).await;
    let client = Anon::open(&app, "fi").await;
    let mut client_ws = client.ws(0).await;
    let (_, accepted) = post(
        &first,
        &format!("/api/v1/chats/{}/accept", client.chat_id),
        json!({}),
    )
    .await;
    let note = "Äiti ja kaksi lasta, pelkää miestään. Kysy turvakodista.";
    let (code, moved) = post(
        &first,
        &format!("/api/v1/chats/{}/transfer", client.chat_id),
        json!({"to": "sanna", "note": note}),
    )
    .await;
    assert_eq!(code, 200, "{moved}");
    assert_eq!(moved["worker"]["name"], "sanna");
    assert_eq!(moved["transfers"][0]["note"], note);
    assert_eq!(
        event_of(&mut client_ws, "chat.transferred").await["data"],
        json!({})
    );
    let entry = get(
        &second,
        &format!("/api/v1/entries/{}", accepted["entry_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(entry["claimed_by"]["name"], "sanna");
    // Now only the new worker writes; the first is refused, as is a team member.
    let message = json!({"client_id": uuid::Uuid::new_v4(), "body": "Hei, jatkan tästä."});
    let path = format!("/api/v1/chats/{}/messages", client.chat_id);
    assert_eq!(post(&first, &path, message.clone()).await.0, 403);
    assert_eq!(post(&team, &path, message.clone()).await.0, 403);
    assert_eq!(post(&second, &path, message).await.0, 201);
    let transcript = get(
        &second,
        &format!("/api/v1/chats/{}/messages", client.chat_id),
    )
    .await;
    assert_eq!(transcript[0]["by"], "sanna", "the desk sees who wrote what");
    let (code, _) = post(
        &second,
        &format!("/api/v1/chats/{}/transfer", client.chat_id),
        json!({"to": "tiina"}),
    )
    .await;
    assert_eq!(code, 422, "only to an on-call colleague");
    let listed = team.get("/api/v1/chats").send().await.unwrap();
    assert_eq!(listed.status(), 403);

    // A waiting chat has no entry yet: only a supervisor may end it unanswered.
    let waiting = Anon::open(&app, "fi").await;
    let end = format!("/api/v1/chats/{}/end", waiting.chat_id);
    assert_eq!(post(&first, &end, json!({})).await.0, 403);
    let supervisor = app.user("vuoro", Role::Supervisor, None).await;
    let (code, ended) = post(&supervisor, &end, json!({})).await;
    assert_eq!((code, ended["end_reason"].as_str()), (200, Some("worker")));
}

async fn bad_chat_input_is_refused_clearly(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let client = Anon::open(&app, "fi").await;
    let path = format!("/api/v1/public/chats/{}/messages", client.chat_id);
    let cases: Vec<(&str, String, u16)> = vec![
        ("not json", "{\"client_id\":".to_owned(), 400),
        ("no client id", json!({"body": "hei"}).to_string(), 422),
        (
            "bad client id",
            json!({"client_id": "7", "body": "hei"}).to_string(),
            422,
        ),
        (
            "unknown field",
            json!({"client_id": uuid::Uuid::new_v4(), "body": "hei", "ip": "1.2.3.4"}).to_string(),
            422,
        ),
        (
            "empty",
            json!({"client_id": uuid::Uuid::new_v4(), "body": "   "}).to_string(),
            422,
        ),
        (
            "too long",
            json!({"client_id": uuid::Uuid::new_v4(), "body": "ä".repeat(4001)}).to_string(),
            422,
        ),
    ];
    for (what, body, expected) in cases {
        let response = client
            .request(Method::POST, &path)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{what}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    let bad_language = reqwest::Client::new()
        .post(app.url("/api/v1/public/chats"))
        .json(&json!({"language": "de"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_language.status(), 422);
    let no_token = reqwest::Client::new()
        .post(app.url(&path))
        .json(&json!({"client_id": uuid::Uuid::new_v4(), "body": "hei"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let bad_end = client
        .request(
            Method::POST,
            &format!("/api/v1/public/chats/{}/end", client.chat_id),
        )
        .json(&json!({"reason": "bored"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_end.status(), 422);
    assert_eq!(client.status().await["state"], "queued", "nothing changed");

    // A socket without a session must authenticate first, with a real token.
    let url = format!("{}/api/v1/ws", app.base.replacen("http", "ws", 1));
    for first_frame in [
        json!({"type": "subscribe", "stream": client.stream()}).to_string(),
        json!({"type": "auth", "token": "forged"}).to_string(),
        "garbage".to_owned(),
    ] {
        let (socket, _) =
            tokio_tungstenite::connect_async(url.clone().into_client_request().unwrap())
                .await
                .unwrap();
        let mut ws = Ws { socket };
        ws.socket
            .send(Message::Text(first_frame.clone().into()))
            .await
            .unwrap();
        let frame = ws.next().await;
        assert_eq!(frame["type"], "error", "{first_frame}");
        assert_eq!(ws.closed_with().await, Some(1008), "{first_frame}");
    }
    // The good socket may type only into its own chat.
    let mut ws = client.ws(0).await;
    ws.send(json!({"type": "typing", "stream": "desk"})).await;
    loop {
        let frame = ws.next().await;
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "validation_failed");
            break;
        }
    }
    assert_eq!(client.status().await["state"], "queued");
}

/// A worker's browser with a console session opens the public chat page: the cookie rides
/// along on the page's socket, but its `auth` frame makes the socket the client's.
async fn the_chat_page_speaks_as_the_client_even_beside_a_console_login(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let client = Anon::open(&app, "fi").await;
    let mut page = worker.ws().await;
    page.send(json!({"type": "auth", "token": client.token}))
        .await;
    let frame = page.next().await;
    assert_eq!(frame["type"], "authenticated", "{frame}");
    page.subscribe("desk", 0).await;
    let refused = page.next().await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("forbidden"))
    );
    page.subscribe(&client.stream(), 0).await;
    let mut listener = worker.ws().await;
    listener.subscribe(&client.stream(), 0).await;
    // Typing notices are moments: only a listener already following hears one.
    while listener.next().await["type"] != "subscribed" {}
    page.send(json!({"type": "typing", "stream": client.stream()}))
        .await;
    loop {
        let frame = listener.next().await;
        if frame["type"] == "typing" {
            assert_eq!(frame["from"], "client");
            break;
        }
    }
    // A console that already follows streams never changes identity.
    listener
        .send(json!({"type": "auth", "token": client.token}))
        .await;
    loop {
        let frame = listener.next().await;
        if frame["type"] == "error" {
            assert_eq!(frame["code"], "bad_request");
            break;
        }
    }
}

/// The desk's chat endpoints refuse garbage with a clear error and change nothing.
async fn bad_desk_chat_input_is_refused_clearly(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let client = Anon::open(&app, "fi").await;
    client.say("Hei").await;
    let id = &client.chat_id;
    for (path, expected) in [
        ("/api/v1/chats?state=lost".to_owned(), 422),
        ("/api/v1/chats?limit=0".to_owned(), 422),
        ("/api/v1/chats?limit=501".to_owned(), 422),
        ("/api/v1/chats?ip=1.2.3.4".to_owned(), 400),
        ("/api/v1/chats/not-a-uuid".to_owned(), 400),
        (format!("/api/v1/chats/{}", uuid::Uuid::new_v4()), 404),
    ] {
        let (status, body) = worker.get_json(&path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}");
    }
    let accept = format!("/api/v1/chats/{id}/accept");
    assert_eq!(post(&worker, &accept, json!({})).await.0, 200);
    for (path, body, expected) in [
        (
            format!("/api/v1/chats/{id}/risk"),
            json!({"level": "very"}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/risk"),
            json!({"level": "high", "why": 1}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/delivered"),
            json!({"seq": -1}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/delivered"),
            json!({"seq": 9999}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/delivered"),
            json!({"seq": "2"}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/transfer"),
            json!({"to": "nobody"}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/transfer"),
            json!({"to": "olli", "note": "x".repeat(2001)}),
            422,
        ),
        (
            format!("/api/v1/chats/{id}/messages"),
            json!({"client_id": uuid::Uuid::new_v4(), "body": "ä".repeat(4001)}),
            422,
        ),
        (
            format!("/api/v1/chats/{}/accept", uuid::Uuid::new_v4()),
            json!({}),
            404,
        ),
    ] {
        let (status, answer) = post(&worker, &path, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{path}");
    }
    let chat = get(&worker, &format!("/api/v1/chats/{id}")).await;
    assert_eq!(chat["risk"]["level"], "none", "nothing changed");
    assert_eq!(chat["delivered_up_to"], 0);
    assert!(chat["transfers"].as_array().unwrap().is_empty());
}
