//! Several instances on one PostgreSQL database and nothing else: a write on one is seen
//! live on the others, in order and once; a lost LISTEN connection loses nothing.
//!
//! The catch-up timer is set to an hour in these tests unless a test is about it, so what
//! arrives within the wait came through NOTIFY (or the catch-up after a reconnect), not
//! through the periodic safety net.

use std::collections::BTreeSet;
use std::time::Duration;

use paivystys::domain::roles::Role;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::chats::Anon;
use crate::helpers::{Backend, Client, TestApp, WAIT, Ws, login_at, postgres_url};
use crate::process::{ProcessDb, rebase};

/// Three instances on one schema, with the periodic catch-up out of the way.
async fn three_instances() -> Option<(TestApp, crate::helpers::Peer, crate::helpers::Peer)> {
    let app = TestApp::spawn_with(Backend::Postgres, |s| s.ws.catch_up_secs = 3600).await?;
    let b = app.spawn_peer().await;
    let c = app.spawn_peer().await;
    Some((app, b, c))
}

fn entry(summary: &str) -> Value {
    json!({"id": uuid::Uuid::new_v4(), "channel": "phone_in", "category": "crisis",
           "urgency": "normal", "summary": summary,
           "subject": {"anonymous": true, "alias": "Soittaja"}})
}

async fn log_entry(worker: &Client, summary: &str) -> Value {
    let (status, body) = worker
        .send_json(Method::POST, "/api/v1/entries", entry(summary))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn desk_socket(worker: &Client) -> Ws {
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next().await["type"], "subscribed");
    ws
}

/// The next `count` event frames of a socket.
async fn events(ws: &mut Ws, count: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let frame = ws.next().await;
        if frame["type"] == "event" {
            out.push(frame);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_is_seen_live_on_the_others() {
    let Some((app, b, c)) = three_instances().await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let on_a = app.login("olli", &secret).await;
    let on_b = b.login("olli", &secret).await;
    let on_c = c.login("olli", &secret).await;
    let mut watch_b = desk_socket(&on_b).await;
    let mut watch_c = desk_socket(&on_c).await;

    let written = log_entry(&on_a, "Soitto instanssilta A").await;
    for ws in [&mut watch_b, &mut watch_c] {
        let seen = &events(ws, 1).await[0];
        assert_eq!(seen["kind"], "entry.created");
        assert_eq!(seen["seq"], 1);
        assert_eq!(seen["data"]["entry"]["id"], written["id"], "{seen}");
    }

    // Writers on all three at once: every console gets 1..=N, each once, in order.
    let mut writers = Vec::new();
    for (worker, name) in [(on_a, "a"), (on_b, "b"), (on_c, "c")] {
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                log_entry(&worker, &format!("Soitto {name}{i}")).await;
            }
        }));
    }
    let on_a_again = app.login("olli", &secret).await;
    let mut watch_a = on_a_again.ws().await;
    watch_a.subscribe("desk", 1).await;
    for ws in [&mut watch_a, &mut watch_b, &mut watch_c] {
        let seqs: Vec<i64> = events(ws, 45)
            .await
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (2..=46).collect::<Vec<_>>(), "gap-free and once");
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let metrics = reqwest::get(format!("{}/metrics", b.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("paivystys_events_relayed_total ") && !l.ends_with(" 0")),
        "instance B counts what it relayed:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_on_one_instance_talks_with_a_worker_on_another() {
    let Some((app, b, _c)) = three_instances().await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let worker = b.login("olli", &secret).await;

    // The client's page reached instance A; the worker's console is on B.
    let anon = Anon::open(&app, "fi").await;
    let (chat_id, stream) = (anon.chat_id.clone(), anon.stream());
    let mut client = anon.ws(0).await;

    let (status, _) = worker
        .send_json(
            Method::POST,
            &format!("/api/v1/chats/{chat_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, ack) = worker
        .send_json(
            Method::POST,
            &format!("/api/v1/chats/{chat_id}/messages"),
            json!({"client_id": uuid::Uuid::new_v4(), "body": "Hei, olen täällä."}),
        )
        .await;
    assert_eq!(status, 201, "{ack}");
    let reply = loop {
        let frame = client.next().await;
        if frame["kind"] == "chat.message" {
            break frame;
        }
    };
    assert_eq!(reply["seq"], ack["seq"]);
    assert_eq!(reply["data"]["body"], "Hei, olen täällä.");

    // "Is typing…" crosses instances both ways (never stored, so only the moment).
    let mut worker_chat = worker.ws().await;
    worker_chat
        .subscribe(&stream, ack["seq"].as_i64().unwrap())
        .await;
    assert_eq!(worker_chat.next().await["type"], "subscribed");
    worker_chat
        .send(json!({"type": "typing", "stream": stream}))
        .await;
    typing_from(&mut client, "worker").await;
    client
        .send(json!({"type": "typing", "stream": stream}))
        .await;
    typing_from(&mut worker_chat, "client").await;
}

/// Waits for the other side's typing notice (a socket also hears its own).
async fn typing_from(ws: &mut Ws, from: &str) {
    loop {
        let frame = ws.next().await;
        if frame["type"] == "typing" && frame["from"] == from {
            return;
        }
    }
}

fn names_on_shift(frame: &Value) -> Vec<String> {
    frame["online"]
        .as_array()
        .unwrap_or_else(|| panic!("a presence frame: {frame}"))
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_is_on_shift_is_the_same_on_every_instance() {
    let Some((app, b, c)) = three_instances().await else {
        return;
    };
    let anna_secret = app.db.add_user("anna", Role::Oncall, None).await;
    let bert_secret = app.db.add_user("bert", Role::Supervisor, None).await;
    let mut anna = app.login("anna", &anna_secret).await.ws().await;
    assert_eq!(names_on_shift(&anna.next_presence().await), ["anna"]);

    // Bert's console is on another instance: Anna's list grows, and a third instance
    // with no console of either knows both.
    let bert_ws = b.login("bert", &bert_secret).await.ws().await;
    while names_on_shift(&anna.next_presence().await) != ["anna", "bert"] {}
    let watcher = c.login("bert", &bert_secret).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, listed) = watcher.get_json("/api/v1/presence").await;
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap())
            .collect();
        if names == ["anna", "bert"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "instance C shows {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Bert logs off: gone from Anna's list at once, not after a timeout.
    drop(bert_ws);
    while names_on_shift(&anna.next_presence().await) != ["anna"] {}
}

/// The backend pids of the LISTEN connections of one schema's instances.
async fn listener_pids(conn: &mut sqlx::PgConnection, schema: &str) -> BTreeSet<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity \
         WHERE application_name = 'paivystys-listener' AND query LIKE '%' || $1 || '%'",
    )
    .bind(schema)
    .fetch_all(conn)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_listener_connection_loses_nothing() {
    let Some((app, b, _c)) = three_instances().await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let writer = app.login("olli", &secret).await;
    let watcher = b.login("olli", &secret).await;
    let mut watch = desk_socket(&watcher).await;
    log_entry(&writer, "Ennen katkosta").await;
    assert_eq!(events(&mut watch, 1).await[0]["seq"], 1);

    let mut admin = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
    let before = listener_pids(&mut admin, &app.db.location).await;
    assert_eq!(before.len(), 3, "one LISTEN connection per instance");
    // A database restart or a network cut, as the listeners see it: every instance's
    // LISTEN connection is killed, and writes go on meanwhile.
    let terminating = sqlx::query("SELECT pg_terminate_backend(pid) FROM unnest($1) AS pid")
        .bind(before.iter().copied().collect::<Vec<_>>())
        .execute(&mut admin);
    let (terminated, _) = tokio::join!(terminating, async {
        for i in 0..10 {
            log_entry(&writer, &format!("Katkon aikana {i}")).await;
        }
    });
    terminated.unwrap();

    let seqs: Vec<i64> = events(&mut watch, 10)
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (2..=11).collect::<Vec<_>>(),
        "nothing missed, nothing twice"
    );

    // The listeners are back (new connections), and live delivery goes on through them.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = listener_pids(&mut admin, &app.db.location).await;
        if now.len() == 3 && now.is_disjoint(&before) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "listeners did not reconnect: before {before:?}, now {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    log_entry(&writer, "Katkon jälkeen").await;
    assert_eq!(events(&mut watch, 1).await[0]["seq"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notification_is_caught_up_by_the_timer() {
    // An instance that dies between its commit and its NOTIFY: simulated by a commit
    // that no instance announces (written straight to the tables, as that instance did).
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.ws.catch_up_secs = 1).await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let watcher = app.login("olli", &secret).await;
    let mut watch = desk_socket(&watcher).await;
    app.db
        .execute_raw(
            "WITH head AS (INSERT INTO streams (name, head) VALUES ('desk', 1) \
             ON CONFLICT (name) DO UPDATE SET head = streams.head + 1 RETURNING head) \
             INSERT INTO events (stream, seq, kind, at, data) \
             SELECT 'desk', head, 'test.unannounced', now(), '{}' FROM head",
        )
        .await
        .unwrap();
    let seen = &events(&mut watch, 1).await[0];
    assert_eq!(
        (seen["seq"].as_i64(), seen["kind"].as_str()),
        (Some(1), Some("test.unannounced"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consoles_of_an_instance_that_goes_away_resume_on_another() {
    let Some((app, mut b, c)) = three_instances().await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let writer = app.login("olli", &secret).await;
    let mut on_b = desk_socket(&b.login("olli", &secret).await).await;
    for i in 0..3 {
        log_entry(&writer, &format!("Ennen {i}")).await;
    }
    let last = events(&mut on_b, 3).await[2]["seq"].as_i64().unwrap();

    // B goes away (a deploy, a lost node): its consoles are told to reconnect, and the
    // desk goes on writing meanwhile on A.
    let (_, closed) = tokio::join!(b.shutdown(), on_b.closed_with());
    assert_eq!(closed, Some(1012), "told to reconnect elsewhere");
    for i in 0..4 {
        log_entry(&writer, &format!("Välissä {i}")).await;
    }

    // The console reconnects to C with what it had, and gets exactly what it missed.
    let mut on_c = c.login("olli", &secret).await.ws().await;
    on_c.subscribe("desk", last).await;
    let missed: Vec<i64> = events(&mut on_c, 4)
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(missed, vec![4, 5, 6, 7]);
    assert_eq!(
        on_c.next().await,
        json!({"type": "subscribed", "stream": "desk", "head": 7})
    );
    log_entry(&writer, "Jälkeen").await;
    assert_eq!(events(&mut on_c, 1).await[0]["seq"], 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_as_the_server_sees_it_loses_no_acknowledged_write() {
    let Some((app, b, _c)) = three_instances().await else {
        return;
    };
    let secret = app.db.add_user("olli", Role::Oncall, None).await;
    let writer = app.login("olli", &secret).await;
    let mut watch = desk_socket(&b.login("olli", &secret).await).await;
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        acknowledged.push(log_entry(&writer, &format!("Ennen {i}")).await);
    }
    assert_eq!(events(&mut watch, 5).await.len(), 5);

    // Every connection of every instance (pools and listeners) is cut, as a PostgreSQL
    // restart cuts them.
    let mut admin = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
    let schema = &app.db.location;
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 OR (application_name = 'paivystys-listener' \
         AND query LIKE '%' || $1 || '%')",
    )
    .bind(schema)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        cut.len() >= 4,
        "the instances' connections were found: {}",
        cut.len()
    );

    // The pools reconnect: what was acknowledged reads back, and new writes reach the
    // console on the other instance.
    for entry in &acknowledged {
        let (status, read) = writer
            .get_json(&format!(
                "/api/v1/entries/{}",
                entry["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!((status, &read["summary"]), (200, &entry["summary"]));
    }
    log_entry(&writer, "Jälkeen").await;
    assert_eq!(events(&mut watch, 1).await[0]["seq"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_consoles_resume_on_another_and_miss_nothing() {
    let Some(dbs) = ProcessDb::new(Backend::Postgres).await else {
        return;
    };
    let secret = dbs.add_user("olli", Role::Oncall).await;
    let mut a = dbs.start(&[]).await;
    let b = dbs.start(&[]).await;
    let on_b = login_at(b.base(), "olli", &secret).await;
    let on_a = login_at(a.base(), "olli", &secret).await;
    let mut console = desk_socket(&on_a).await;
    for i in 0..3 {
        log_entry(&on_b, &format!("Ennen {i}")).await;
    }
    let last = events(&mut console, 3).await[2]["seq"].as_i64().unwrap();

    // kill -9: no close frame, no goodbye; the desk writes on meanwhile.
    a.kill9().await;
    assert_ne!(
        console.closed_with().await,
        Some(1012),
        "no goodbye from a killed server"
    );
    for i in 0..4 {
        log_entry(&on_b, &format!("Välissä {i}")).await;
    }

    // The console's session lives in the database, so it reconnects to B as it is.
    let mut console = rebase(&on_a, b.base()).ws().await;
    console.subscribe("desk", last).await;
    let resumed: Vec<i64> = events(&mut console, 4)
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        resumed,
        vec![4, 5, 6, 7],
        "exactly what it missed, in order, once"
    );
    assert_eq!(
        console.next().await,
        json!({"type": "subscribed", "stream": "desk", "head": 7})
    );
    log_entry(&on_b, "Jälkeen").await;
    assert_eq!(events(&mut console, 1).await[0]["seq"], 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_tells_its_consoles_to_reconnect() {
    // SIGTERM (a deploy): the process must not end before its sockets have sent the
    // 1012 "reconnect" close, or consoles see an abnormal close instead.
    let Some(dbs) = ProcessDb::new(Backend::Sqlite).await else {
        return;
    };
    let secret = dbs.add_user("olli", Role::Oncall).await;
    let mut server = dbs.start(&[]).await;
    let worker = login_at(server.base(), "olli", &secret).await;
    let mut consoles = Vec::new();
    for _ in 0..400 {
        consoles.push(desk_socket(&worker).await);
    }
    server.terminate().await;
    for console in &mut consoles {
        assert_eq!(console.closed_with().await, Some(1012), "told to reconnect");
    }
}
