//! Cross-instance fan-out on PostgreSQL: several instances share one database and nothing
//! else, and every console sees every committed event once, in order, whichever instance
//! it is connected to.
//!
//! The table is the truth and a notification only a wake-up:
//!
//! - **Sending.** After a commit the writing instance records a pointer (stream, first and
//!   last sequence number) in its [`Relay`]. One task per instance sends the pending
//!   pointers as `NOTIFY` payloads. While one notification is in flight the next commits'
//!   pointers merge per stream, so under load many transactions share one notification:
//!   PostgreSQL's commit-time notify lock is taken by one small transaction at a time,
//!   never by the writers themselves, and a writer's acknowledgement never waits for it.
//! - **Receiving.** Each instance keeps one `LISTEN` connection of its own. For a pointer
//!   on a stream it has subscribers on, it reads from the table the events it has not yet
//!   relayed and hands them to its hub; followers already drop duplicates and go back to
//!   the table on a gap (`events::subscription`).
//! - **Catching up.** Notifications are lost while the listener is disconnected, and when
//!   an instance dies between its commit and its NOTIFY. So after every (re)connect, and
//!   every `ws.catch_up_secs`, the instance compares the heads of its subscribed streams
//!   with what it has relayed and reads the difference.
//!
//! - **Moments.** The same channel carries what is not stored at all: "is typing" notices
//!   and each instance's list of the users on shift (sent on every change and every
//!   `ws.catch_up_secs`; an instance not heard of for three rounds is taken to be gone).
//!
//! The channel name carries the schema, so instances of one deployment (or one test) hear
//! only each other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::events::typing::TypingNotice;
use crate::events::{Event, Hub, Signals};
use crate::presence::OnlineUser;
use crate::store::sql::{EVENTS_SINCE, EventRow};

/// PostgreSQL refuses a payload of 8,000 bytes or more; stay clear of it.
const MAX_PAYLOAD: usize = 7_000;
/// Events read from the table per query while relaying.
const PAGE: i64 = 500;
/// Notifications taken together into one read of the table.
const MAX_TAKEN: usize = 256;
/// The listener's longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The sequence numbers one or more transactions added to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    first: i64,
    last: i64,
}

/// One notification. Short keys, because the payload limit decides how much fits.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Payload {
    /// The sending instance.
    o: String,
    /// `[stream, first, last]` per stream that has new events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    p: Vec<(String, i64, i64)>,
    /// Typing notices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    t: Vec<TypingNotice>,
    /// The sender's users on shift, when it tells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<Vec<OnlineUser>>,
    /// Whether `w` is the whole list (else one part of a list too long for one payload).
    #[serde(default)]
    wc: bool,
}

/// The pointers this instance has committed and not yet announced.
pub struct Relay {
    pending: Mutex<BTreeMap<String, Span>>,
    wake: Notify,
    /// Nothing is collected until the sending task runs (a `migrate` or `user add` never
    /// starts one).
    sending: AtomicBool,
}

impl Relay {
    pub fn new() -> Self {
        Relay {
            pending: Mutex::new(BTreeMap::new()),
            wake: Notify::new(),
            sending: AtomicBool::new(false),
        }
    }

    /// Records what a transaction committed; called after the commit.
    pub fn committed(&self, events: &[Event]) {
        if events.is_empty() || !self.sending.load(Ordering::Relaxed) {
            return;
        }
        let mut pending = self.pending.lock().expect("relay lock");
        for event in events {
            pending
                .entry(event.stream.clone())
                .and_modify(|span| {
                    span.first = span.first.min(event.seq);
                    span.last = span.last.max(event.seq);
                })
                .or_insert(Span {
                    first: event.seq,
                    last: event.seq,
                });
        }
        drop(pending);
        // Stores a permit when the sender is busy, so no wake-up is lost.
        self.wake.notify_one();
    }

    fn take(&self) -> BTreeMap<String, Span> {
        std::mem::take(&mut *self.pending.lock().expect("relay lock"))
    }
}

/// The notification channel of the database's current schema.
pub async fn channel_name(pool: &PgPool) -> Result<String> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    let mut name = format!("paivystys_events:{schema}");
    // Identifiers are at most 63 bytes; LISTEN would silently truncate a longer one while
    // pg_notify would not, and the two would never meet.
    while name.len() > 63 {
        name.pop();
    }
    Ok(name)
}

/// Packs `items` into as few payloads as stay under the size limit; `fill` puts one
/// chunk into a payload.
fn pack<T: Serialize>(
    origin: &str,
    items: Vec<T>,
    fill: impl Fn(&mut Payload, Vec<T>),
) -> Vec<Payload> {
    let base = origin.len() + 32;
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut size = base;
    for item in items {
        let item_size = serde_json::to_string(&item).map_or(0, |text| text.len()) + 1;
        match chunks.last_mut() {
            Some(chunk) if size + item_size <= MAX_PAYLOAD => chunk.push(item),
            _ => {
                chunks.push(vec![item]);
                size = base;
            }
        }
        size += item_size;
    }
    chunks
        .into_iter()
        .map(|chunk| {
            let mut payload = Payload {
                o: origin.to_owned(),
                ..Payload::default()
            };
            fill(&mut payload, chunk);
            payload
        })
        .collect()
}

fn pointer_payloads(origin: &str, pending: BTreeMap<String, Span>) -> Vec<Payload> {
    let items = pending
        .into_iter()
        .map(|(stream, span)| (stream, span.first, span.last))
        .collect();
    pack(origin, items, |payload, chunk| payload.p = chunk)
}

fn typing_payloads(origin: &str, notices: Vec<TypingNotice>) -> Vec<Payload> {
    pack(origin, notices, |payload, chunk| payload.t = chunk)
}

fn presence_payloads(origin: &str, users: Vec<OnlineUser>) -> Vec<Payload> {
    let mut payloads = pack(origin, users, |payload, chunk| payload.w = Some(chunk));
    match payloads.len() {
        // Nobody on shift here: say so, so the others drop this instance's users at once.
        0 => vec![Payload {
            o: origin.to_owned(),
            w: Some(Vec::new()),
            wc: true,
            ..Payload::default()
        }],
        1 => {
            payloads[0].wc = true;
            payloads
        }
        _ => payloads,
    }
}

/// What the listening task hears.
enum Heard {
    /// Listening (again): whatever was announced meanwhile is lost, so catch up.
    Listening,
    Payload(String),
}

/// This instance's part in the fan-out: what it commits and its moments go out, what the
/// others commit and their moments come in.
pub struct Fanout {
    pub pool: PgPool,
    pub hub: Hub,
    pub relay: std::sync::Arc<Relay>,
    pub channel: String,
    pub signals: Signals,
    /// How often the table is compared and this instance's users on shift are repeated.
    pub every: Duration,
}

/// Starts this instance's sending, listening and relaying tasks; they end with `shutdown`.
pub fn start(fanout: Fanout, shutdown: CancellationToken) {
    let origin = format!("{:016x}", rand::random::<u64>());
    fanout.relay.sending.store(true, Ordering::Relaxed);
    tokio::spawn(send_notifications(
        Sender {
            pool: fanout.pool.clone(),
            relay: fanout.relay,
            channel: fanout.channel.clone(),
            origin: origin.clone(),
        },
        fanout.signals.clone(),
        fanout.every,
        shutdown.clone(),
    ));
    let (heard_tx, heard_rx) = mpsc::channel(1024);
    tokio::spawn(listen(
        fanout.pool.clone(),
        fanout.channel,
        heard_tx,
        shutdown.clone(),
    ));
    tokio::spawn(
        Relayer {
            pool: fanout.pool,
            hub: fanout.hub,
            signals: fanout.signals,
            origin,
            relayed: HashMap::new(),
        }
        .run(heard_rx, fanout.every, shutdown),
    );
}

struct Sender {
    pool: PgPool,
    relay: std::sync::Arc<Relay>,
    channel: String,
    origin: String,
}

impl Sender {
    /// Sends the payloads in order; stops at the first failure.
    async fn send(&self, payloads: Vec<Payload>) {
        for payload in payloads {
            let text = serde_json::to_string(&payload).expect("plain JSON");
            if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(&text)
                .execute(&self.pool)
                .await
            {
                // Committed events are found on the others' next catch-up; moments are
                // gone, which is what moments may be.
                tracing::warn!(error = %err, "NOTIFY failed; other instances catch up from the table");
                return;
            }
        }
    }
}

async fn send_notifications(
    sender: Sender,
    signals: Signals,
    every: Duration,
    shutdown: CancellationToken,
) {
    // Only one taker exists per instance; should there be a second, it hears nothing.
    let (_unused, idle) = mpsc::channel(1);
    let mut typing = signals.typing.outbound(256).unwrap_or(idle);
    let mut on_shift = signals.presence.watch_local();
    let mut repeat = tokio::time::interval(every);
    repeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut notices = Vec::new();
        let mut tell_shift = false;
        let stopping = tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = sender.relay.wake.notified() => false,
            Some(notice) = typing.recv() => {
                notices.push(notice);
                false
            }
            Ok(()) = on_shift.changed() => {
                tell_shift = true;
                false
            }
            _ = repeat.tick() => {
                tell_shift = true;
                false
            }
        };
        while let Ok(notice) = typing.try_recv() {
            notices.push(notice);
        }
        let mut payloads = pointer_payloads(&sender.origin, sender.relay.take());
        payloads.extend(typing_payloads(&sender.origin, notices));
        if tell_shift || stopping {
            // Going away: nobody is on shift here any more.
            let users = if stopping {
                Vec::new()
            } else {
                on_shift.borrow_and_update().as_ref().clone()
            };
            payloads.extend(presence_payloads(&sender.origin, users));
        }
        sender.send(payloads).await;
        if stopping {
            return;
        }
    }
}

/// Keeps one LISTEN connection open (a pool of its own, named in `pg_stat_activity`),
/// reconnecting with backoff, and passes on what it hears.
async fn listen(
    pool: PgPool,
    channel: String,
    heard: mpsc::Sender<Heard>,
    shutdown: CancellationToken,
) {
    let options = (*pool.connect_options())
        .clone()
        .application_name("paivystys-listener");
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    let mut backoff = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&own).await?;
            listener.listen(&channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            _ = shutdown.cancelled() => return,
            connected = connected => match connected {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, ?backoff, "LISTEN connection failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(100);
        if heard.send(Heard::Listening).await.is_err() {
            return;
        }
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = listener.try_recv() => next,
            };
            let message = match next {
                Ok(Some(notification)) => Heard::Payload(notification.payload().to_owned()),
                // The connection dropped and was re-established (and LISTEN re-issued).
                Ok(None) => Heard::Listening,
                Err(err) => {
                    tracing::warn!(error = %err, "LISTEN connection lost; reconnecting");
                    break;
                }
            };
            if heard.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// The ranges of events notifications announced: per stream, after which sequence number
/// and up to which.
#[derive(Default)]
struct Wanted {
    ranges: BTreeMap<String, (i64, i64)>,
}

/// Reads other instances' events from the table and hands them to this instance's hub;
/// passes on their moments.
struct Relayer {
    pool: PgPool,
    hub: Hub,
    signals: Signals,
    origin: String,
    /// Per subscribed stream, the last sequence number handed to the hub (or known to
    /// have been, for this instance's own commits).
    relayed: HashMap<String, i64>,
}

impl Relayer {
    async fn run(
        mut self,
        mut heard: mpsc::Receiver<Heard>,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let done = tokio::select! {
                _ = shutdown.cancelled() => return,
                message = heard.recv() => match message {
                    None => return,
                    Some(first) => self.take_heard(first, &mut heard).await,
                },
                _ = tick.tick() => {
                    // Three missed rounds: that instance is gone, and its users with it.
                    if let Some(before) = Instant::now().checked_sub(every * 3) {
                        self.signals.presence.forget_unheard(before);
                    }
                    self.catch_up().await
                }
            };
            if let Err(err) = done {
                // The next pointer or tick tries again; followers are unharmed meanwhile.
                tracing::warn!(error = %err, "relaying events from other instances failed");
            }
        }
    }

    /// The streams this instance has subscribers on; forgets the rest.
    fn subscribed(&mut self) -> HashSet<String> {
        let active: HashSet<String> = self.hub.active_streams().into_iter().collect();
        self.relayed.retain(|stream, _| active.contains(stream));
        active
    }

    /// Takes `first` and every notification already waiting behind it, and reads what
    /// they announce in one query: under load the notifications come faster than one
    /// query each could follow.
    async fn take_heard(&mut self, first: Heard, heard: &mut mpsc::Receiver<Heard>) -> Result<()> {
        let active = self.subscribed();
        let mut wanted = Wanted::default();
        let mut reconnected = false;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next {
            match message {
                Heard::Listening => reconnected = true,
                Heard::Payload(payload) => self.take_payload(&payload, &active, &mut wanted),
            }
            taken += 1;
            next = if taken < MAX_TAKEN {
                heard.try_recv().ok()
            } else {
                None
            };
        }
        self.relay_ranges(wanted).await?;
        if reconnected {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// Passes on a notification's moments and adds its pointers to `wanted`.
    fn take_payload(&mut self, payload: &str, active: &HashSet<String>, wanted: &mut Wanted) {
        let payload: Payload = match serde_json::from_str(payload) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::warn!(error = %err, "ignoring a malformed event notification");
                return;
            }
        };
        let theirs = payload.o != self.origin;
        if theirs {
            for notice in payload.t {
                self.signals.typing.deliver(notice);
            }
            if let Some(users) = payload.w {
                self.signals
                    .presence
                    .heard(&payload.o, users, payload.wc, Instant::now());
            }
        }
        for (stream, first, last) in payload.p {
            if !active.contains(&stream) {
                continue;
            }
            if !theirs {
                // Already published by this instance at its commit.
                let seen = self.relayed.entry(stream).or_insert(last);
                *seen = (*seen).max(last);
                continue;
            }
            let from = self.relayed.get(&stream).copied().unwrap_or(first - 1);
            if from < last {
                let range = wanted.ranges.entry(stream).or_insert((from, last));
                range.0 = range.0.min(from);
                range.1 = range.1.max(last);
            }
        }
    }

    /// Reads the announced ranges of every stream in one query (with
    /// every chat its own stream, one query per stream would be a round trip per message)
    /// and hands them to the hub, each stream in order.
    async fn relay_ranges(&mut self, wanted: Wanted) -> Result<()> {
        if wanted.ranges.is_empty() {
            return Ok(());
        }
        let mut streams = Vec::with_capacity(wanted.ranges.len());
        let mut after = Vec::with_capacity(wanted.ranges.len());
        let mut up_to = Vec::with_capacity(wanted.ranges.len());
        for (stream, (from, last)) in wanted.ranges {
            streams.push(stream);
            after.push(from);
            up_to.push(last);
        }
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.stream, e.seq, e.kind, e.at, e.data \
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(stream, after, up_to) \
             JOIN events e ON e.stream = w.stream AND e.seq > w.after AND e.seq <= w.up_to \
             ORDER BY e.stream, e.seq",
        )
        .bind(&streams)
        .bind(&after)
        .bind(&up_to)
        .fetch_all(&self.pool)
        .await?;
        let events = rows
            .into_iter()
            .map(Event::try_from)
            .collect::<Result<Vec<_>>>()?;
        for event in &events {
            self.relayed.insert(event.stream.clone(), event.seq);
        }
        self.hub.relay(&events);
        Ok(())
    }

    /// Compares every subscribed stream's head with what was relayed.
    async fn catch_up(&mut self) -> Result<()> {
        let active: Vec<String> = self.subscribed().into_iter().collect();
        if active.is_empty() {
            return Ok(());
        }
        let heads: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, head FROM streams WHERE name = ANY($1)")
                .bind(&active)
                .fetch_all(&self.pool)
                .await?;
        for (stream, head) in heads {
            // A stream never relayed: its followers replayed the table when they
            // subscribed; offering the newest event again is enough for one that
            // missed it, and a duplicate for the rest.
            let from = self.relayed.get(&stream).copied().unwrap_or(head - 1);
            if from < head {
                self.relay_after(&stream, from).await?;
            }
        }
        Ok(())
    }

    async fn relay_after(&mut self, stream: &str, mut since: i64) -> Result<()> {
        loop {
            let rows: Vec<EventRow> = sqlx::query_as(EVENTS_SINCE)
                .bind(stream)
                .bind(since)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            let full = rows.len() as i64 == PAGE;
            let events = rows
                .into_iter()
                .map(Event::try_from)
                .collect::<Result<Vec<_>>>()?;
            if let Some(last) = events.last() {
                since = last.seq;
                self.hub.relay(&events);
                self.relayed.insert(stream.to_owned(), since);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: i64, last: i64) -> Span {
        Span { first, last }
    }

    #[test]
    fn pointers_fit_under_the_payload_limit_and_lose_no_stream() {
        let pending: BTreeMap<String, Span> = (0..2_000)
            .map(|i| (format!("chat:{:036}", i), span(i, i + 1)))
            .collect();
        let payloads = pointer_payloads("abc", pending);
        assert!(
            payloads.len() > 1,
            "2,000 chat streams need several payloads"
        );
        let mut seen = 0;
        for payload in &payloads {
            let text = serde_json::to_string(payload).unwrap();
            assert!(
                text.len() < 8_000,
                "PostgreSQL refuses {} bytes",
                text.len()
            );
            let decoded: Payload = serde_json::from_str(&text).unwrap();
            assert_eq!(decoded.o, "abc");
            seen += decoded.p.len();
        }
        assert_eq!(seen, 2_000);
    }

    #[test]
    fn the_users_on_shift_are_told_whole_when_they_fit_and_in_parts_when_not() {
        let user = |id: i64| OnlineUser {
            id,
            username: format!("paivystaja{id}"),
            name: format!("Päivystäjä Numero {id}"),
            role: crate::domain::roles::Role::Oncall,
            since: chrono::Utc::now(),
        };
        let few = presence_payloads("abc", (1..=3).map(user).collect());
        assert_eq!(few.len(), 1);
        assert!(few[0].wc, "three users fit: the whole list");
        let nobody = presence_payloads("abc", Vec::new());
        assert_eq!(
            (nobody[0].w.as_deref(), nobody[0].wc),
            (Some(&[][..]), true)
        );
        let many = presence_payloads("abc", (1..=400).map(user).collect());
        assert!(many.len() > 1 && many.iter().all(|p| !p.wc));
        let told: usize = many.iter().map(|p| p.w.as_ref().unwrap().len()).sum();
        assert_eq!(told, 400);
        for payload in many {
            assert!(serde_json::to_string(&payload).unwrap().len() < 8_000);
        }
    }

    #[test]
    fn commits_merge_per_stream_while_a_notification_is_in_flight() {
        let relay = Relay::new();
        let event = |stream: &str, seq| Event {
            stream: stream.into(),
            seq,
            kind: "test".into(),
            at: chrono::Utc::now(),
            data: serde_json::json!({}),
        };
        relay.committed(&[event("desk", 1)]);
        assert!(
            relay.take().is_empty(),
            "nothing is collected before sending starts"
        );
        relay.sending.store(true, Ordering::Relaxed);
        relay.committed(&[event("desk", 4), event("team:adults", 2)]);
        relay.committed(&[event("desk", 5)]);
        relay.committed(&[event("desk", 3)]);
        let pending = relay.take();
        assert_eq!(pending["desk"], span(3, 5));
        assert_eq!(pending["team:adults"], span(2, 2));
        assert!(relay.take().is_empty());
    }
}
