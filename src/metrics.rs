//! Prometheus metrics, one registry per server (so tests that run several servers in one
//! process do not share counters). Rendered as text at `GET /metrics`.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route template (`/api/v1/streams/{stream}/events`), never the raw path,
    /// so client data in paths never becomes a label.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RoleLabels {
    pub role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TeamLabels {
    pub team: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `main` (PostgreSQL), or SQLite's `writer` and `reader`.
    pub pool: String,
    /// `idle` or `busy`.
    pub state: String,
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: DurationFamily,
    pub ws_connections: Family<RoleLabels, Gauge>,
    /// Events committed by this instance.
    pub events_appended: Counter,
    /// Events committed by other instances on the same PostgreSQL, read back here.
    pub events_relayed: Counter,
    /// Events written to websockets.
    pub events_delivered: Counter,
    /// Subscriptions that replayed from the table (every subscribe does).
    pub replays: Counter,
    /// Live followers sent back to the table by lag or an out-of-order publish.
    pub resyncs: Counter,
    /// Chats waiting for a worker (set by the chat timer).
    pub chat_queue_length: Gauge,
    /// How long clients waited before a worker accepted their chat.
    pub chat_wait: Histogram,
    pub chats_opened: Counter,
    pub chat_messages: Counter,
    pub reports_received: Counter,
    /// Handovers no one in the team has taken yet, by team (set at each scrape).
    pub handovers_pending: Family<TeamLabels, Gauge>,
    /// Of those, the ones past their due time.
    pub handovers_overdue: Family<TeamLabels, Gauge>,
    /// Database connections open, idle or busy (set at each scrape).
    pub db_connections: Family<PoolLabels, Gauge>,
}

fn duration_histogram() -> Histogram {
    // 1 ms … ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("paivystys");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration: DurationFamily = Family::new_with_constructor(duration_histogram);
        let ws_connections = Family::<RoleLabels, Gauge>::default();
        let events_appended = Counter::default();
        let events_relayed = Counter::default();
        let events_delivered = Counter::default();
        let replays = Counter::default();
        let resyncs = Counter::default();
        let chat_queue_length = Gauge::default();
        // 5 s … ~85 min
        let chat_wait = Histogram::new(exponential_buckets(5.0, 2.0, 11));
        let chats_opened = Counter::default();
        let chat_messages = Counter::default();
        let reports_received = Counter::default();
        let handovers_pending = Family::<TeamLabels, Gauge>::default();
        let handovers_overdue = Family::<TeamLabels, Gauge>::default();
        let db_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "handovers_pending",
            "Handovers waiting for their team to take them, by team",
            handovers_pending.clone(),
        );
        registry.register(
            "handovers_overdue",
            "Pending handovers past their due time, by team",
            handovers_overdue.clone(),
        );
        registry.register(
            "db_connections",
            "Database pool connections by pool and state (idle or busy)",
            db_connections.clone(),
        );
        registry.register(
            "reports_received",
            "Online reports received from the public",
            reports_received.clone(),
        );
        registry.register(
            "chat_queue_length",
            "Client chats waiting for a worker",
            chat_queue_length.clone(),
        );
        registry.register(
            "chat_wait_seconds",
            "Time from opening a chat to a worker accepting it",
            chat_wait.clone(),
        );
        registry.register("chats_opened", "Client chats opened", chats_opened.clone());
        registry.register(
            "chat_messages",
            "Chat messages written (both sides)",
            chat_messages.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        registry.register(
            "websocket_connections",
            "Open websocket connections by role",
            ws_connections.clone(),
        );
        registry.register(
            "events_appended",
            "Events committed by this instance",
            events_appended.clone(),
        );
        registry.register(
            "events_relayed",
            "Events committed by another instance and read back by this one",
            events_relayed.clone(),
        );
        registry.register(
            "events_delivered",
            "Events written to websocket subscribers",
            events_delivered.clone(),
        );
        registry.register(
            "stream_replays",
            "Stream subscriptions served a replay from the event table",
            replays.clone(),
        );
        registry.register(
            "stream_resyncs",
            "Live subscribers resynchronised from the table after lag or a gap",
            resyncs.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            http_requests,
            http_duration,
            ws_connections,
            events_appended,
            events_relayed,
            events_delivered,
            replays,
            resyncs,
            chat_queue_length,
            chat_wait,
            chats_opened,
            chat_messages,
            reports_received,
            handovers_pending,
            handovers_overdue,
            db_connections,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
