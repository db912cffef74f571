//! Crash safety (issue 9): `kill -9` the server while workers log calls and clients chat,
//! start it again on the same database, and check that every acknowledged write is there,
//! whole and once, and that the streams run 1..=head without a gap or a repeat.
//!
//! Rounds: `PAIVYSTYS_CRASH_ROUNDS` (default 3, a few seconds in CI); the long run is e.g.
//! `PAIVYSTYS_CRASH_ROUNDS=30 cargo test --test it crash -- --nocapture`, which prints the
//! figures of every round.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use paivystys::domain::roles::Role;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::helpers::{Backend, Client, login_at as login};
use crate::on_both_backends;
use crate::process::{ProcessDb, START_WAIT, ServerProcess, rebase};

const ENTRY_WRITERS: usize = 4;
const CHAT_WRITERS: usize = 4;
/// Messages a chat writer sends before it opens another chat.
const MESSAGES_PER_CHAT: usize = 8;
/// The server is killed once the writers together hold this many acknowledgements (a
/// fresh number in the range each round), with the writers still sending.
const KILL_AFTER_ACKS: std::ops::RangeInclusive<usize> = 20..=80;
/// Up to this long after the K-th acknowledgement.
const KILL_JITTER_MICROS: u64 = 3000;
/// Each page of a stream read (the endpoint's largest).
const PAGE: usize = 1000;

/// Chat limits would refuse the test's clients, all from 127.0.0.1.
const SETTINGS: [(&str, &str); 3] = [
    ("PAIVYSTYS_CHAT__OPENS_PER_HOUR_PER_SOURCE", "1000000"),
    ("PAIVYSTYS_CHAT__OPENS_PER_MINUTE_TOTAL", "1000000"),
    ("PAIVYSTYS_CHAT__MESSAGES_PER_MINUTE", "1000000"),
];

on_both_backends!(acknowledged_writes_survive_kill_9);

fn rounds() -> usize {
    std::env::var("PAIVYSTYS_CRASH_ROUNDS")
        .ok()
        .map(|n| n.parse().expect("PAIVYSTYS_CRASH_ROUNDS is a number"))
        .unwrap_or(3)
}

#[derive(Clone)]
struct Chat {
    id: Uuid,
    token: String,
}

struct Message {
    chat: Uuid,
    client_id: Uuid,
    /// The sequence number the acknowledgement named.
    seq: i64,
}

/// What the writers were told. Acknowledged writes must survive; writes in flight when the
/// server died may or may not be there, but never half.
#[derive(Default)]
struct Ledger {
    entries: Vec<Uuid>,
    messages: Vec<Message>,
    chats: Vec<Chat>,
    entries_in_flight: Vec<Uuid>,
    messages_in_flight: Vec<(Chat, Uuid)>,
    opens_in_flight: usize,
}

impl Ledger {
    fn absorb(&mut self, round: Ledger) {
        self.entries.extend(round.entries);
        self.messages.extend(round.messages);
        self.chats.extend(round.chats);
        self.entries_in_flight.extend(round.entries_in_flight);
        self.messages_in_flight.extend(round.messages_in_flight);
        self.opens_in_flight += round.opens_in_flight;
    }
}

/// One round's figures, summed for the whole run.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    acked_entries: usize,
    acked_messages: usize,
    acked_opens: usize,
    in_flight_found: usize,
    in_flight_absent: usize,
    opens_in_flight: usize,
    opens_in_flight_found: usize,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Figures) {
        self.acked_entries += o.acked_entries;
        self.acked_messages += o.acked_messages;
        self.acked_opens += o.acked_opens;
        self.in_flight_found += o.in_flight_found;
        self.in_flight_absent += o.in_flight_absent;
        self.opens_in_flight += o.opens_in_flight;
        self.opens_in_flight_found += o.opens_in_flight_found;
    }
}

async fn acknowledged_writes_survive_kill_9(backend: Backend) {
    let Some(dbs) = ProcessDb::new(backend).await else {
        return;
    };
    let secret = dbs.add_user("paivystaja", Role::Oncall).await;
    let mut server = dbs.start(&SETTINGS).await;
    let mut worker = login(server.base(), "paivystaja", &secret).await;
    let chat_http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut ledger = Ledger::default();
    let rounds = rounds();
    let started = Instant::now();
    let mut total = Figures::default();
    for round in 1..=rounds {
        let round_started = Instant::now();
        let kill_after = rand::rng().random_range(KILL_AFTER_ACKS);
        let written = write_until_killed(&mut server, &worker, &chat_http, kill_after).await;
        server.restart().await;
        // The session from before the crash still holds: it is in the database too.
        worker = rebase(&worker, server.base());

        let mut figures = Figures {
            acked_entries: written.entries.len(),
            acked_messages: written.messages.len(),
            acked_opens: written.chats.len(),
            opens_in_flight: written.opens_in_flight,
            ..Figures::default()
        };
        ledger.absorb(written);
        let seen = check(&worker, &ledger).await;
        figures.in_flight_found = seen.in_flight_found;
        figures.in_flight_absent = seen.in_flight_absent;
        figures.opens_in_flight_found = seen.unacknowledged_chats.len();
        resend(&worker, &chat_http, &mut ledger, seen).await;
        let again = check(&worker, &ledger).await;
        assert_eq!(again.in_flight_found + again.in_flight_absent, 0);
        println!(
            "{backend:?} round {round}/{rounds}: killed after {kill_after}+ acks; {figures:?}; \
             {:.1}s",
            round_started.elapsed().as_secs_f64()
        );
        total += figures;
    }
    println!(
        "{backend:?} crash run: {rounds} rounds in {:.1}s; in total {total:?}; the database \
         holds {} entries and {} messages in {} chats, all checked; gaps found: 0",
        started.elapsed().as_secs_f64(),
        ledger.entries.len(),
        ledger.messages.len(),
        ledger.chats.len(),
    );
}

/// Runs the writers against `server` and kills it (`kill -9`) once they hold `kill_after`
/// acknowledgements, with every writer still sending. Returns what they were told.
async fn write_until_killed(
    server: &mut ServerProcess,
    worker: &Client,
    chat_http: &reqwest::Client,
    kill_after: usize,
) -> Ledger {
    let written = Arc::new(Mutex::new(Ledger::default()));
    let (acks, mut acked) = watch::channel(0usize);
    let worker = Arc::new(rebase(worker, server.base()));
    let mut writers = Vec::new();
    for _ in 0..ENTRY_WRITERS {
        writers.push(tokio::spawn(write_entries(
            worker.clone(),
            written.clone(),
            acks.clone(),
        )));
    }
    for _ in 0..CHAT_WRITERS {
        writers.push(tokio::spawn(write_chats(
            chat_http.clone(),
            server.base().to_owned(),
            written.clone(),
            acks.clone(),
        )));
    }
    tokio::time::timeout(START_WAIT, acked.wait_for(|n| *n >= kill_after))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the writers did not reach {kill_after} acknowledgements in {START_WAIT:?}\n{}",
                server.log()
            )
        })
        .unwrap();
    // Then a random moment more, so the kill lands anywhere in a commit (right after an
    // acknowledgement, the next write has usually not reached its commit yet).
    tokio::time::sleep(Duration::from_micros(
        rand::rng().random_range(0..=KILL_JITTER_MICROS),
    ))
    .await;
    server.kill9().await;
    for writer in writers {
        tokio::time::timeout(START_WAIT, writer)
            .await
            .expect("a writer notices the dead server")
            .expect("a writer got only acknowledgements or a dead connection");
    }
    Arc::into_inner(written)
        .expect("the writers are done")
        .into_inner()
        .unwrap()
}

fn entry_body(id: Uuid) -> Value {
    json!({"id": id, "channel": "phone_in", "category": "crisis", "urgency": "normal",
           "summary": "Soittaja huolissaan läheisestä", "subject": {"anonymous": true,
           "alias": "Soittaja"}})
}

fn message_body(client_id: Uuid) -> Value {
    json!({"client_id": client_id, "body": "Onko joku paikalla?"})
}

async fn post_entry(worker: &Client, id: Uuid) -> reqwest::Result<(u16, Value)> {
    let response = worker
        .write(Method::POST, "/api/v1/entries")
        .json(&entry_body(id))
        .send()
        .await?;
    Ok((response.status().as_u16(), response.json().await?))
}

async fn post_message(
    http: &reqwest::Client,
    base: &str,
    chat: &Chat,
    client_id: Uuid,
) -> reqwest::Result<(u16, Value)> {
    let response = http
        .post(format!("{base}/api/v1/public/chats/{}/messages", chat.id))
        .bearer_auth(&chat.token)
        .json(&message_body(client_id))
        .send()
        .await?;
    Ok((response.status().as_u16(), response.json().await?))
}

/// Logs calls until the server stops answering; the call it was sending then is in flight.
async fn write_entries(
    worker: Arc<Client>,
    ledger: Arc<Mutex<Ledger>>,
    acks: watch::Sender<usize>,
) {
    loop {
        let id = Uuid::new_v4();
        match post_entry(&worker, id).await {
            Ok((201, entry)) => {
                assert_eq!(entry["id"], id.to_string(), "the ack names the entry sent");
                ledger.lock().unwrap().entries.push(id);
                acks.send_modify(|n| *n += 1);
            }
            Ok((status, body)) => panic!("logging a call answered {status}: {body}"),
            Err(_) => {
                ledger.lock().unwrap().entries_in_flight.push(id);
                return;
            }
        }
    }
}

/// Opens chats and writes in them until the server stops answering.
async fn write_chats(
    http: reqwest::Client,
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    acks: watch::Sender<usize>,
) {
    loop {
        let opened = async {
            let response = http
                .post(format!("{base}/api/v1/public/chats"))
                .send()
                .await?;
            Ok::<_, reqwest::Error>((response.status().as_u16(), response.json::<Value>().await?))
        };
        let chat = match opened.await {
            Ok((201, body)) => Chat {
                id: body["chat_id"].as_str().unwrap().parse().unwrap(),
                token: body["token"].as_str().unwrap().to_owned(),
            },
            Ok((status, body)) => panic!("opening a chat answered {status}: {body}"),
            Err(_) => {
                ledger.lock().unwrap().opens_in_flight += 1;
                return;
            }
        };
        ledger.lock().unwrap().chats.push(chat.clone());
        acks.send_modify(|n| *n += 1);
        for _ in 0..MESSAGES_PER_CHAT {
            let client_id = Uuid::new_v4();
            match post_message(&http, &base, &chat, client_id).await {
                Ok((201, ack)) => {
                    assert_eq!(ack["client_id"], client_id.to_string());
                    let seq = ack["seq"]
                        .as_i64()
                        .expect("the ack names the message's seq");
                    ledger.lock().unwrap().messages.push(Message {
                        chat: chat.id,
                        client_id,
                        seq,
                    });
                    acks.send_modify(|n| *n += 1);
                }
                Ok((status, body)) => panic!("a chat message answered {status}: {body}"),
                Err(_) => {
                    ledger
                        .lock()
                        .unwrap()
                        .messages_in_flight
                        .push((chat.clone(), client_id));
                    return;
                }
            }
        }
    }
}

/// Every event of a stream, read as a resuming console would (`since`, pages), checked to
/// run 1..=head with no gap and no repeat.
async fn read_stream(worker: &Client, stream: &str) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    let head: i64 = loop {
        let since = events.len();
        let response = worker
            .get(&format!(
                "/api/v1/streams/{stream}/events?since={since}&limit={PAGE}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "reading {stream}");
        let head = response.headers()["x-stream-head"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let page: Vec<Value> = response.json().await.unwrap();
        let done = page.len() < PAGE;
        for event in page {
            let expected = events.len() as i64 + 1;
            let seq = event["seq"].as_i64().unwrap();
            assert_eq!(
                seq,
                expected,
                "{stream}: after seq {} comes {seq}: a console resuming with since={} \
                 would silently miss or repeat events",
                expected - 1,
                expected - 1
            );
            events.push(event);
        }
        if done {
            break head;
        }
    };
    // The head is read just before the last page, so a commit in between may add to it.
    assert!(
        events.len() as i64 >= head,
        "{stream}: X-Stream-Head says {head} but the events end at {}: consoles are told \
         of events nobody can read",
        events.len()
    );
    events
}

/// What a check saw of the writes in flight.
#[derive(Default)]
struct Seen {
    in_flight_found: usize,
    in_flight_absent: usize,
    /// Found, so a resend must answer 200; absent ones 201.
    found: HashSet<Uuid>,
    /// Chats whose opening was never acknowledged but which exist (whole).
    unacknowledged_chats: Vec<Chat>,
}

/// Every acknowledged write readable and announced exactly once; every write in flight
/// either whole or absent; every stream without a gap.
async fn check(worker: &Client, ledger: &Ledger) -> Seen {
    let mut seen = Seen::default();
    let desk = read_stream(worker, "desk").await;
    let mut entry_events: HashMap<Uuid, usize> = HashMap::new();
    let mut queued_chats: Vec<Uuid> = Vec::new();
    for event in &desk {
        match event["kind"].as_str().unwrap() {
            "entry.created" => {
                let id = event["data"]["entry"]["id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                *entry_events.entry(id).or_default() += 1;
            }
            "chat.queued" => {
                queued_chats.push(
                    event["data"]["chat"]["id"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                );
            }
            _ => {}
        }
    }

    let statuses: Vec<(Uuid, u16)> =
        futures_util::stream::iter(ledger.entries.iter().chain(&ledger.entries_in_flight))
            .map(|id| async move {
                let response = worker
                    .get(&format!("/api/v1/entries/{id}"))
                    .send()
                    .await
                    .unwrap();
                (*id, response.status().as_u16())
            })
            .buffer_unordered(8)
            .collect()
            .await;
    let status_of: HashMap<Uuid, u16> = statuses.into_iter().collect();
    for id in &ledger.entries {
        assert_eq!(
            status_of[id], 200,
            "entry {id} was acknowledged to the worker (201) but is gone after kill -9: \
             a logged call is lost"
        );
        assert_eq!(
            entry_events.get(id).copied().unwrap_or(0),
            1,
            "entry {id} is saved but announced on the desk stream that many times: \
             consoles would miss it or show it twice"
        );
    }
    for id in &ledger.entries_in_flight {
        let announced = entry_events.get(id).copied().unwrap_or(0);
        match status_of[id] {
            200 => {
                assert_eq!(
                    announced, 1,
                    "entry {id} (in flight at the kill) was saved but announced {announced} \
                     times: a half-written call no console shows"
                );
                seen.found.insert(*id);
                seen.in_flight_found += 1;
            }
            404 => {
                assert_eq!(
                    announced, 0,
                    "entry {id} (in flight at the kill) is announced on the desk but not \
                     saved: consoles show a call that does not exist"
                );
                seen.in_flight_absent += 1;
            }
            other => panic!("reading entry {id} answered {other}"),
        }
    }

    let acked_chats: HashSet<Uuid> = ledger.chats.iter().map(|c| c.id).collect();
    let acked_messages: HashSet<Uuid> = ledger.messages.iter().map(|m| m.client_id).collect();
    for chat in &ledger.chats {
        let (stream, transcript) = read_chat(worker, chat.id).await;
        for message in ledger.messages.iter().filter(|m| m.chat == chat.id) {
            let client_id = message.client_id;
            let event = usize::try_from(message.seq - 1)
                .ok()
                .and_then(|i| stream.get(i))
                .unwrap_or_else(|| {
                    panic!(
                        "chat {}: message {client_id} was acknowledged with seq {} but the \
                         stream ends at {}: the client's words are lost",
                        chat.id,
                        message.seq,
                        stream.len()
                    )
                });
            assert!(
                event["kind"] == "chat.message" && event["data"]["client_id"] == json!(client_id),
                "chat {}: seq {} was acknowledged for message {client_id} but holds {event}",
                chat.id,
                message.seq
            );
            assert_eq!(
                transcript.get(&client_id).map(|m| m.1),
                Some(message.seq),
                "chat {}: acknowledged message {client_id} is missing from the transcript \
                 the worker reads",
                chat.id
            );
            assert_eq!(
                transcript[&client_id].0, 1,
                "chat {}: message {client_id} is in the transcript more than once",
                chat.id
            );
        }
        for (_, client_id) in ledger
            .messages_in_flight
            .iter()
            .filter(|(c, _)| c.id == chat.id)
        {
            let announced = stream
                .iter()
                .filter(|e| {
                    e["kind"] == "chat.message" && e["data"]["client_id"] == json!(client_id)
                })
                .count();
            match transcript.get(client_id) {
                Some(&(1, _)) if announced == 1 => {
                    seen.found.insert(*client_id);
                    seen.in_flight_found += 1;
                }
                None if announced == 0 => seen.in_flight_absent += 1,
                other => panic!(
                    "chat {}: message {client_id} (in flight at the kill) is half there: \
                     transcript {other:?}, announced {announced} times",
                    chat.id
                ),
            }
        }
        assert!(
            transcript.keys().all(|id| acked_messages.contains(id)
                || ledger.messages_in_flight.iter().any(|(_, m)| m == id)),
            "chat {}: the transcript holds a message nobody sent",
            chat.id
        );
    }
    // Chats whose opening was in flight: nobody knows their id but the desk; they must be
    // whole too (a queued chat nobody can read would wait forever).
    for id in queued_chats
        .into_iter()
        .filter(|id| !acked_chats.contains(id))
    {
        assert!(
            ledger.opens_in_flight > seen.unacknowledged_chats.len(),
            "chat {id} is queued on the desk but nobody opened it"
        );
        let (stream, transcript) = read_chat(worker, id).await;
        assert!(
            stream.len() == 1 && transcript.is_empty(),
            "chat {id} was opened as the server died: only its opening is expected"
        );
        seen.unacknowledged_chats.push(Chat {
            id,
            token: String::new(),
        });
    }
    seen
}

/// A chat's stream (checked: starts with its opening, no gap) and its transcript as the
/// worker reads it: client id → (copies, seq).
async fn read_chat(worker: &Client, id: Uuid) -> (Vec<Value>, HashMap<Uuid, (usize, i64)>) {
    let stream = read_stream(worker, &format!("chat:{id}")).await;
    assert_eq!(
        stream.first().map(|e| e["kind"].clone()),
        Some(json!("chat.opened")),
        "chat {id}'s stream begins with its opening"
    );
    let (status, messages) = worker
        .get_json(&format!("/api/v1/chats/{id}/messages"))
        .await;
    assert_eq!(status, 200, "chat {id}: the transcript is readable");
    let mut transcript: HashMap<Uuid, (usize, i64)> = HashMap::new();
    for message in messages.as_array().unwrap() {
        let client_id = message["client_id"].as_str().unwrap().parse().unwrap();
        let slot = transcript.entry(client_id).or_insert((0, 0));
        slot.0 += 1;
        slot.1 = message["seq"].as_i64().unwrap();
    }
    (stream, transcript)
}

/// Sends every write in flight again, and one acknowledged write of each kind, with the
/// same client ids, as a client does when an answer is lost (the two look the same to it):
/// a found one answers 200 with the first copy, an absent one is written now (201), and
/// none makes a second copy. Afterwards the ledger counts them all as acknowledged.
async fn resend(worker: &Client, http: &reqwest::Client, ledger: &mut Ledger, seen: Seen) {
    if let Some(&id) = ledger.entries.last() {
        let (status, entry) = post_entry(worker, id).await.unwrap();
        assert_eq!(
            (status, &entry["id"]),
            (200, &json!(id)),
            "an acknowledged call logged again with its id is the same call, not a second"
        );
    }
    if let Some(message) = ledger.messages.last() {
        let chat = ledger.chats.iter().find(|c| c.id == message.chat).unwrap();
        let (status, ack) = post_message(http, &worker.base, chat, message.client_id)
            .await
            .unwrap();
        assert_eq!(
            (status, ack["seq"].as_i64()),
            (200, Some(message.seq)),
            "an acknowledged chat message sent again is the same message, not a second"
        );
    }
    for id in std::mem::take(&mut ledger.entries_in_flight) {
        let (status, _) = post_entry(worker, id).await.unwrap();
        let expected = if seen.found.contains(&id) { 200 } else { 201 };
        assert_eq!(status, expected, "entry {id} sent again after the crash");
        ledger.entries.push(id);
    }
    for (chat, client_id) in std::mem::take(&mut ledger.messages_in_flight) {
        let (status, ack) = post_message(http, &worker.base, &chat, client_id)
            .await
            .unwrap();
        let expected = if seen.found.contains(&client_id) {
            200
        } else {
            201
        };
        assert_eq!(status, expected, "message {client_id} sent again: {ack}");
        ledger.messages.push(Message {
            chat: chat.id,
            client_id,
            seq: ack["seq"].as_i64().unwrap(),
        });
    }
    // Chats opened as the server died: nobody can write in them (the token never arrived),
    // but they exist and are checked from now on.
    ledger.chats.extend(seen.unacknowledged_chats);
    ledger.opens_in_flight = 0;
}
