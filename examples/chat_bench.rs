//! Chat message benchmark (not a test): opens N concurrent anonymous chats against a real
//! server on loopback and has each write M messages, one after another as a person would,
//! each waiting for its durable acknowledgement. Prints the acknowledgement latency
//! percentiles and the messages per second, with the machine it ran on.
//!
//!     cargo run --release --example chat_bench -- --chats 200 --messages 25
//!     cargo run --release --example chat_bench -- --database postgres://postgres@127.0.0.1/bench
//!
//! SQLite runs in a fresh temporary file; a PostgreSQL database should be empty (the
//! benchmark migrates it and leaves its chats behind).

use std::sync::Arc;
use std::time::{Duration, Instant};

use paivystys::AppState;
use paivystys::config::Settings;
use paivystys::domain::clock::SystemClock;
use serde_json::{Value, json};

struct Args {
    chats: usize,
    messages: usize,
    database: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        chats: 200,
        messages: 25,
        database: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--chats" => args.chats = value.parse().expect("--chats N"),
            "--messages" => args.messages = value.parse().expect("--messages M"),
            "--database" => args.database = Some(value),
            other => panic!("unknown flag {other}; use --chats, --messages, --database"),
        }
    }
    args
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        database_url: args
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display())),
        shelter_database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("shelter.db").display()
        )),
        ..Settings::default()
    };
    // The benchmark is one loopback source writing far faster than a person: lift the
    // limits that protect the public service.
    settings.chat.opens_per_hour_per_source = u32::MAX / 2;
    settings.chat.opens_per_minute_total = u32::MAX / 2;
    settings.chat.messages_per_minute = u32::MAX / 2;
    let backend = if settings.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite (WAL, synchronous=FULL)"
    };
    let state = AppState::open(settings, Arc::new(SystemClock))
        .await
        .expect("open the databases");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(paivystys::serve_with_listener(state, listener, async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let mut chats = Vec::with_capacity(args.chats);
    for _ in 0..args.chats {
        let opened: Value = http
            .post(format!("{base}/api/v1/public/chats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        chats.push((
            opened["chat_id"].as_str().unwrap().to_owned(),
            opened["token"].as_str().unwrap().to_owned(),
        ));
    }

    let started = Instant::now();
    let writers = chats.into_iter().map(|(chat_id, token)| {
        let http = http.clone();
        let url = format!("{base}/api/v1/public/chats/{chat_id}/messages");
        let messages = args.messages;
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(messages);
            let mut errors = 0usize;
            for n in 0..messages {
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({
                        "client_id": uuid::Uuid::new_v4(),
                        "body": format!("Viesti {n}: en saa unta, voinko jutella jonkun kanssa?"),
                    }))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 201 => latencies.push(sent.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        })
    });
    let mut latencies = Vec::new();
    let mut errors = 0;
    for writer in futures_util::future::join_all(writers).await {
        let (mut l, e) = writer.unwrap();
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();

    println!("chat_bench on {}", machine());
    println!(
        "backend {backend}; {} concurrent chats x {} messages, each awaiting its ack",
        args.chats, args.messages
    );
    if latencies.is_empty() {
        println!("no message was acknowledged ({errors} errors)");
    } else {
        println!(
            "acknowledged {} messages in {:.2} s: {:.0} messages/s; errors {errors}",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64()
        );
        println!(
            "ack latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.95).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0,
        );
    }
    let _ = stop.send(());
    let _ = server.await;
}
