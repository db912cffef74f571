//! In-process fan-out of committed events, one broadcast channel per stream.
//!
//! Broadcast senders never wait for receivers: a slow receiver lags and later catches up
//! from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::broadcast;

use super::Event;

/// Named broadcast channels that exist while someone listens: a channel is made by its
/// first subscriber and removed with its last, so the map never grows with every chat that
/// ever existed. Used for committed events (`Hub`) and for typing notices (`Typing`).
pub struct Channels<T> {
    inner: Arc<ChannelsInner<T>>,
}

impl<T> Clone for Channels<T> {
    fn clone(&self) -> Self {
        Channels {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct ChannelsInner<T> {
    senders: Mutex<HashMap<String, broadcast::Sender<T>>>,
    capacity: usize,
}

impl<T: Clone> Channels<T> {
    /// `capacity` is the number of messages a receiver may fall behind before it lags.
    pub fn new(capacity: usize) -> Self {
        Channels {
            inner: Arc::new(ChannelsInner {
                senders: Mutex::new(HashMap::new()),
                capacity: capacity.max(1),
            }),
        }
    }

    /// Starts receiving what is sent on `name` from now on.
    pub fn subscribe(&self, name: &str) -> Subscription<T> {
        let mut senders = self.inner.senders.lock().expect("channels lock");
        let sender = senders
            .entry(name.to_owned())
            .or_insert_with(|| broadcast::channel(self.inner.capacity).0);
        Subscription {
            receiver: Some(sender.subscribe()),
            name: name.to_owned(),
            channels: self.clone(),
        }
    }

    /// Sends each message to its channel's current receivers, in the order given; a
    /// channel nobody listens to drops it.
    pub fn send_all<'a>(&self, messages: impl IntoIterator<Item = (&'a str, T)>) {
        let senders = self.inner.senders.lock().expect("channels lock");
        for (name, message) in messages {
            if let Some(sender) = senders.get(name) {
                // An error only means nobody listens right now, which is fine.
                let _ = sender.send(message);
            }
        }
    }

    /// Channels with at least one receiver.
    pub fn active(&self) -> Vec<String> {
        let senders = self.inner.senders.lock().expect("channels lock");
        senders
            .iter()
            .filter(|(_, s)| s.receiver_count() > 0)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// A receiver that removes its channel when the last receiver leaves.
pub struct Subscription<T> {
    receiver: Option<broadcast::Receiver<T>>,
    name: String,
    channels: Channels<T>,
}

impl<T: Clone> Subscription<T> {
    pub async fn recv(&mut self) -> Result<T, broadcast::error::RecvError> {
        self.receiver
            .as_mut()
            .expect("receiver lives until drop")
            .recv()
            .await
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        let mut senders = self.channels.inner.senders.lock().expect("channels lock");
        drop(self.receiver.take());
        if senders
            .get(&self.name)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            senders.remove(&self.name);
        }
    }
}

/// Committed events, one channel per stream. A channel per stream (rather than one for
/// everything) means a message in one chat wakes only that chat's subscribers.
#[derive(Clone)]
pub struct Hub {
    channels: Channels<Arc<Event>>,
    counters: HubCounters,
}

/// What the hub counts into the metrics.
#[derive(Clone, Default)]
pub struct HubCounters {
    /// Events committed by this process (`events_appended`).
    pub appended: Counter,
    /// Events committed by another instance and read from the table here
    /// (`events_relayed`).
    pub relayed: Counter,
}

pub type HubSubscription = Subscription<Arc<Event>>;

impl Hub {
    /// `capacity` is the number of events a receiver may fall behind before it lags.
    pub fn new(capacity: usize, counters: HubCounters) -> Self {
        Hub {
            channels: Channels::new(capacity),
            counters,
        }
    }

    /// Starts receiving every event published to `stream` from now on.
    pub fn subscribe(&self, stream: &str) -> HubSubscription {
        self.channels.subscribe(stream)
    }

    /// Hands events this process committed to the stream's current subscribers, in the
    /// order given.
    pub fn publish(&self, events: &[Event]) {
        self.counters.appended.inc_by(events.len() as u64);
        self.send(events);
    }

    /// Hands events another instance committed (read back from the table) to this
    /// process's subscribers.
    pub fn relay(&self, events: &[Event]) {
        self.counters.relayed.inc_by(events.len() as u64);
        self.send(events);
    }

    fn send(&self, events: &[Event]) {
        self.channels.send_all(
            events
                .iter()
                .map(|e| (e.stream.as_str(), Arc::new(e.clone()))),
        );
    }

    /// Streams with at least one live subscriber in this process.
    pub fn active_streams(&self) -> Vec<String> {
        self.channels.active()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn event(stream: &str, seq: i64) -> Event {
        Event {
            stream: stream.into(),
            seq,
            kind: "test".into(),
            at: Utc::now(),
            data: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn subscribers_receive_only_their_stream() {
        let hub = Hub::new(8, HubCounters::default());
        let mut desk = hub.subscribe("desk");
        let mut team = hub.subscribe("team:adults");
        hub.publish(&[event("desk", 1), event("team:adults", 1), event("desk", 2)]);
        assert_eq!(desk.recv().await.unwrap().seq, 1);
        assert_eq!(desk.recv().await.unwrap().seq, 2);
        let t = team.recv().await.unwrap();
        assert_eq!((t.stream.as_str(), t.seq), ("team:adults", 1));
    }

    #[tokio::test]
    async fn channels_are_dropped_with_their_last_subscriber() {
        let hub = Hub::new(8, HubCounters::default());
        let a = hub.subscribe("chat:1");
        let b = hub.subscribe("chat:1");
        drop(a);
        assert_eq!(hub.active_streams(), vec!["chat:1".to_owned()]);
        drop(b);
        assert!(hub.channels.inner.senders.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_slow_receiver_lags_instead_of_blocking_the_publisher() {
        let hub = Hub::new(2, HubCounters::default());
        let mut slow = hub.subscribe("desk");
        hub.publish(&(1..=5).map(|s| event("desk", s)).collect::<Vec<_>>());
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(3))
        ));
        assert_eq!(slow.recv().await.unwrap().seq, 4);
    }
}
