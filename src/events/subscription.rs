//! Following one stream: replay from the table after `since`, then live from the hub, with
//! no gap and no duplicate at the seam.
//!
//! The hub receiver is opened *before* the table is read, so an event committed during the
//! replay is either in the replay or in the receiver (or both; duplicates are dropped by
//! sequence number). A live event that does not follow the last delivered one — published
//! out of order by two committing tasks, or lost to lag — sends the follower back to the
//! table, which holds every committed event in order.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::{Event, Hub};
use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use crate::store::Store;

/// Events read from the table per query while catching up.
pub const REPLAY_PAGE: i64 = 500;

#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Event(Arc<Event>),
    /// Replay is done; `head` is the last sequence number delivered (or `since`).
    CaughtUp {
        stream: String,
        head: i64,
    },
}

/// Where a follower puts what it delivers; `false` means the receiver is gone.
pub trait Deliver: Send {
    fn deliver(&mut self, delivery: Delivery) -> impl Future<Output = bool> + Send;
}

/// Delivers `stream` after `since` until the receiver goes away or the hub closes.
pub async fn follow<D: Deliver>(
    store: &dyn Store,
    hub: &Hub,
    metrics: &Metrics,
    stream: &str,
    since: i64,
    out: &mut D,
) -> Result<()> {
    let mut live = hub.subscribe(stream);
    let head = store.stream_head(stream).await?;
    if since > head {
        return Err(AppError::validation(
            "since",
            format!("since={since} is beyond the stream head {head}; resubscribe from 0"),
        ));
    }
    metrics.replays.inc();
    let Some(mut last) = catch_up(store, stream, since, out).await? else {
        return Ok(());
    };
    if !out
        .deliver(Delivery::CaughtUp {
            stream: stream.to_owned(),
            head: last,
        })
        .await
    {
        return Ok(());
    }
    loop {
        let next = match live.recv().await {
            Ok(event) if event.seq <= last => continue,
            Ok(event) if event.seq == last + 1 => {
                if !out.deliver(Delivery::Event(event)).await {
                    return Ok(());
                }
                last += 1;
                continue;
            }
            // A gap (out-of-order publish) or lag: the table has it all, in order.
            Ok(_) | Err(RecvError::Lagged(_)) => {
                metrics.resyncs.inc();
                catch_up(store, stream, last, out).await?
            }
            Err(RecvError::Closed) => return Ok(()),
        };
        match next {
            Some(seq) => last = seq,
            None => return Ok(()),
        }
    }
}

/// Delivers every stored event after `since`; returns the last delivered sequence number,
/// or `None` when the receiver went away.
async fn catch_up<D: Deliver>(
    store: &dyn Store,
    stream: &str,
    mut since: i64,
    out: &mut D,
) -> Result<Option<i64>> {
    loop {
        let page = store.events_since(stream, since, REPLAY_PAGE).await?;
        let full = page.len() as i64 == REPLAY_PAGE;
        for event in page {
            since = event.seq;
            if !out.deliver(Delivery::Event(Arc::new(event))).await {
                return Ok(None);
            }
        }
        if !full {
            return Ok(Some(since));
        }
    }
}
