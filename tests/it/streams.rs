//! Realtime streams over real websockets and HTTP: live delivery, resume with `since`,
//! concurrency, lag, access by role and shutdown.

use std::collections::BTreeSet;

use paivystys::domain::roles::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_subscriber_sees_a_write_live,
    a_reconnecting_subscriber_gets_exactly_what_it_missed,
    four_concurrent_writers_reach_subscribers_gap_free,
    a_slow_socket_neither_slows_others_nor_loses_events,
    roles_read_only_their_streams,
    http_paging_matches_the_socket,
    shutdown_tells_sockets_to_reconnect,
);

async fn a_subscriber_sees_a_write_live(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(
        ws.next().await,
        json!({"type": "subscribed", "stream": "desk", "head": 0})
    );
    app.append("desk", 1).await;
    let event = ws.next().await;
    assert_eq!(event["type"], "event");
    assert_eq!(event["stream"], "desk");
    assert_eq!(event["seq"], 1);
    assert_eq!(event["kind"], "test.written");
    assert_eq!(event["data"], json!({"n": 0}));
    assert!(event["at"].as_str().unwrap().ends_with('Z'));
}

async fn a_reconnecting_subscriber_gets_exactly_what_it_missed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    app.append("desk", 2).await;
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next_event_seq().await, 1);
    assert_eq!(ws.next_event_seq().await, 2);
    assert_eq!(ws.next().await["head"], 2);
    drop(ws); // wifi drops at 03:12

    app.append("desk", 3).await;
    app.append("team:adults", 1).await;

    let mut ws = worker.ws().await;
    ws.subscribe("desk", 2).await;
    assert_eq!(ws.next_event_seq().await, 3);
    assert_eq!(ws.next_event_seq().await, 4);
    assert_eq!(ws.next_event_seq().await, 5);
    assert_eq!(
        ws.next().await,
        json!({"type": "subscribed", "stream": "desk", "head": 5})
    );
    // Live again: the next write arrives once, right after the replay.
    app.append("desk", 1).await;
    assert_eq!(ws.next_event_seq().await, 6);
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(
        ws.next().await,
        json!({"type": "pong"}),
        "no duplicate in between"
    );

    // A client that claims to be ahead of the stream is told to start over.
    let mut ahead = worker.ws().await;
    ahead.subscribe("desk", 99).await;
    let error = ahead.next().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], "validation_failed");
    assert_eq!(error["stream"], "desk");
}

async fn four_concurrent_writers_reach_subscribers_gap_free(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next().await["type"], "subscribed");

    let mut writers = Vec::new();
    for _ in 0..4 {
        let store = app.db.store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..50 {
                let event = paivystys::events::NewEvent::new("desk", "w", json!({ "i": i }));
                store
                    .append_events(&[event], chrono::Utc::now())
                    .await
                    .unwrap();
            }
        }));
    }
    let mut seqs = Vec::new();
    for _ in 0..200 {
        seqs.push(ws.next_event_seq().await);
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let stored = app.db.store.events_since("desk", 0, 1000).await.unwrap();
    assert_eq!(stored.len(), 200);
}

async fn a_slow_socket_neither_slows_others_nor_loses_events(backend: Backend) {
    // Small buffers, so the lag happens with a test-sized load.
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.ws.live_buffer_events = 16;
        s.ws.outbound_queue = 8;
    })
    .await
    else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut slow = worker.ws().await;
    let mut fast = worker.ws().await;
    for ws in [&mut slow, &mut fast] {
        ws.subscribe("desk", 0).await;
        assert_eq!(ws.next().await["type"], "subscribed");
    }
    // Far more than the live buffer, the socket queue and the kernel's socket buffers hold
    // (events of ~2 KiB): the slow socket, which reads nothing meanwhile, must fall behind
    // and resync from the table.
    let total = 3000;
    let reader = tokio::spawn(async move {
        let mut seqs = Vec::with_capacity(total);
        for _ in 0..total {
            seqs.push(fast.next_event_seq().await);
        }
        seqs
    });
    let padding = "x".repeat(2000);
    for _ in 0..(total / 100) {
        let events: Vec<_> = (0..100)
            .map(|_| paivystys::events::NewEvent::new("desk", "w", json!({ "pad": padding })))
            .collect();
        app.db
            .store
            .append_events(&events, chrono::Utc::now())
            .await
            .unwrap();
    }
    let fast_seqs = reader.await.unwrap();
    assert_eq!(fast_seqs, (1..=total as i64).collect::<Vec<_>>());

    let mut slow_seqs = Vec::with_capacity(total);
    for _ in 0..total {
        slow_seqs.push(slow.next_event_seq().await);
    }
    assert_eq!(slow_seqs, (1..=total as i64).collect::<Vec<_>>());
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resyncs = metric(&metrics, "paivystys_stream_resyncs_total");
    assert!(
        resyncs >= 1.0,
        "the slow socket should have resynced:\n{metrics}"
    );
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("{name} missing"))
}

async fn roles_read_only_their_streams(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let team = app.user("tiina", Role::Team, Some("child_welfare")).await;
    let shelter = app.user("saara", Role::Shelter, None).await;
    let admin = app.user("aatu", Role::Admin, None).await;
    app.append("desk", 1).await;
    app.append("team:child_welfare", 1).await;
    app.append("team:adults", 1).await;

    let mut ws = team.ws().await;
    for stream in ["desk", "team:adults", "shelter"] {
        ws.subscribe(stream, 0).await;
        let frame = ws.next().await;
        assert_eq!(frame["type"], "error", "{stream}: {frame}");
        assert_eq!(frame["code"], "forbidden");
        assert_eq!(frame["stream"], stream);
    }
    ws.subscribe("team:child_welfare", 0).await;
    assert_eq!(ws.next_event_seq().await, 1);

    for (client, stream, expected) in [
        (&team, "desk", 403),
        (&team, "team:adults", 403),
        (&team, "team:child_welfare", 200),
        (&shelter, "desk", 403),
        (&shelter, "shelter", 200),
        (&admin, "desk", 403),
        (&admin, "shelter", 403),
    ] {
        let response = client
            .get(&format!("/api/v1/streams/{stream}/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{stream}");
    }
    let anonymous = reqwest::get(app.url("/api/v1/streams/desk/events"))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn http_paging_matches_the_socket(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    app.append("desk", 7).await;
    let mut seen = BTreeSet::new();
    let mut since = 0;
    loop {
        let response = worker
            .get(&format!(
                "/api/v1/streams/desk/events?since={since}&limit=3"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-stream-head"], "7");
        let page: Vec<Value> = response.json().await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        for event in &page {
            let seq = event["seq"].as_i64().unwrap();
            assert_eq!(seq, since + 1, "in order, no gap");
            assert!(seen.insert(seq));
            since = seq;
        }
    }
    assert_eq!(seen.len(), 7);
    for bad in ["since=-1", "limit=0", "limit=1001", "since=abc", "from=2"] {
        let response = worker
            .get(&format!("/api/v1/streams/desk/events?{bad}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == 400 || response.status() == 422,
            "{bad}: {}",
            response.status()
        );
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string());
    }
    let unknown = worker
        .get("/api/v1/streams/everything/events")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
}

async fn shutdown_tells_sockets_to_reconnect(backend: Backend) {
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next().await["type"], "subscribed");
    app.shutdown().await;
    assert_eq!(
        ws.closed_with().await,
        Some(1012),
        "service restart: reconnect"
    );
}
