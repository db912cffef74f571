//! In-process fan-out of committed events, one broadcast channel per stream.
//!
//! A channel per stream (rather than one for everything) means a message in one chat wakes
//! only that chat's subscribers, not every socket on the server. Broadcast senders never
//! wait for receivers: a slow receiver lags and later catches up from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::broadcast;

use super::Event;

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
    capacity: usize,
    /// Counts events committed by this process (the `events_appended` metric).
    appended: Counter,
}

impl Hub {
    /// `capacity` is the number of events a receiver may fall behind before it lags.
    pub fn new(capacity: usize, appended: Counter) -> Self {
        Hub {
            inner: Arc::new(HubInner {
                channels: Mutex::new(HashMap::new()),
                capacity: capacity.max(1),
                appended,
            }),
        }
    }

    /// Starts receiving every event published to `stream` from now on.
    pub fn subscribe(&self, stream: &str) -> HubSubscription {
        let mut channels = self.inner.channels.lock().expect("hub lock");
        let sender = channels
            .entry(stream.to_owned())
            .or_insert_with(|| broadcast::channel(self.inner.capacity).0);
        HubSubscription {
            receiver: Some(sender.subscribe()),
            stream: stream.to_owned(),
            hub: self.clone(),
        }
    }

    /// Hands committed events to the stream's current subscribers, in the order given.
    pub fn publish(&self, events: &[Event]) {
        self.inner.appended.inc_by(events.len() as u64);
        let channels = self.inner.channels.lock().expect("hub lock");
        for event in events {
            if let Some(sender) = channels.get(&event.stream) {
                // An error only means nobody listens right now, which is fine.
                let _ = sender.send(Arc::new(event.clone()));
            }
        }
    }

    /// Streams with at least one live subscriber in this process.
    pub fn active_streams(&self) -> Vec<String> {
        let channels = self.inner.channels.lock().expect("hub lock");
        channels
            .iter()
            .filter(|(_, s)| s.receiver_count() > 0)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

/// A receiver that removes its stream's channel when the last subscriber leaves, so the
/// hub does not grow with every chat that ever existed.
pub struct HubSubscription {
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    stream: String,
    hub: Hub,
}

impl HubSubscription {
    pub async fn recv(&mut self) -> Result<Arc<Event>, broadcast::error::RecvError> {
        self.receiver
            .as_mut()
            .expect("receiver lives until drop")
            .recv()
            .await
    }
}

impl Drop for HubSubscription {
    fn drop(&mut self) {
        let mut channels = self.hub.inner.channels.lock().expect("hub lock");
        drop(self.receiver.take());
        if channels
            .get(&self.stream)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            channels.remove(&self.stream);
        }
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
        let hub = Hub::new(8, Counter::default());
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
        let hub = Hub::new(8, Counter::default());
        let a = hub.subscribe("chat:1");
        let b = hub.subscribe("chat:1");
        drop(a);
        assert_eq!(hub.active_streams(), vec!["chat:1".to_owned()]);
        drop(b);
        assert!(hub.inner.channels.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_slow_receiver_lags_instead_of_blocking_the_publisher() {
        let hub = Hub::new(2, Counter::default());
        let mut slow = hub.subscribe("desk");
        hub.publish(&(1..=5).map(|s| event("desk", s)).collect::<Vec<_>>());
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(3))
        ));
        assert_eq!(slow.recv().await.unwrap().seq, 4);
    }
}
