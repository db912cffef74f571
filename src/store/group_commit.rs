//! Group commit: concurrent writes of one kind share a transaction, so many
//! acknowledgements wait for one durable commit (one fsync on SQLite) instead of one each.
//!
//! There is no background task. A writer queues its request and then tries to become its
//! lane's leader; the leader takes everything queued, runs it as one batch, answers every
//! writer in it, and steps down. Writers that queued while a batch ran are taken together
//! by the next leader. Under light load a batch holds one write and costs what a plain
//! transaction costs; under heavy load batches grow by themselves.
//!
//! A lane is one leader at a time. SQLite has one writer connection, so one lane; on
//! PostgreSQL several lanes keep several connections busy, since there the commits of
//! different connections already overlap.

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::error::{AppError, Result};

/// One queued write and where its answer goes.
pub struct Pending<Req, Out> {
    pub request: Req,
    reply: oneshot::Sender<Result<Out>>,
}

impl<Req, Out> Pending<Req, Out> {
    /// Answers the writer; a writer that went away (its request was dropped) is fine.
    pub fn answer(self, outcome: Result<Out>) {
        let _ = self.reply.send(outcome);
    }
}

struct Lane<Req, Out> {
    queue: Mutex<Vec<Pending<Req, Out>>>,
    leader: tokio::sync::Mutex<()>,
}

pub struct GroupCommit<Req, Out> {
    lanes: Vec<Lane<Req, Out>>,
}

/// Most writes in one batch: a bound on how long the first writer of a batch waits.
pub const MAX_BATCH: usize = 256;

impl<Req, Out> GroupCommit<Req, Out> {
    pub fn new(lanes: usize) -> Self {
        GroupCommit {
            lanes: (0..lanes.max(1))
                .map(|_| Lane {
                    queue: Mutex::new(Vec::new()),
                    leader: tokio::sync::Mutex::new(()),
                })
                .collect(),
        }
    }

    /// Queues `request` on the lane `key` picks (writes that contend for one row, e.g.
    /// to one chat, should share a key: one lane never waits on another) and waits for
    /// its outcome.
    /// `run` must answer every `Pending` it is given, after its commit.
    pub async fn submit<F, Fut>(&self, key: u64, request: Req, run: F) -> Result<Out>
    where
        F: Fn(Vec<Pending<Req, Out>>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let lane = &self.lanes[(key % self.lanes.len() as u64) as usize];
        let (reply, mut answer) = oneshot::channel();
        lane.queue
            .lock()
            .expect("group commit queue")
            .push(Pending { request, reply });
        loop {
            let leading = lane.leader.lock().await;
            // A leader answers its whole batch before stepping down, so either this
            // write was answered or it is still queued.
            if let Ok(outcome) = answer.try_recv() {
                return outcome;
            }
            let batch = {
                let mut queue = lane.queue.lock().expect("group commit queue");
                let take = queue.len().min(MAX_BATCH);
                queue.drain(..take).collect::<Vec<_>>()
            };
            run(batch).await;
            drop(leading);
            match answer.try_recv() {
                Ok(outcome) => return outcome,
                // Queued beyond MAX_BATCH: lead (or wait for) the next batch.
                Err(oneshot::error::TryRecvError::Empty) => continue,
                Err(oneshot::error::TryRecvError::Closed) => {
                    return Err(AppError::Internal(
                        "a group commit batch ended without answering a write".into(),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_batches_and_each_gets_its_own_answer() {
        let commits = Arc::new(AtomicUsize::new(0));
        let group = Arc::new(GroupCommit::<u32, u32>::new(1));
        let mut writers = Vec::new();
        for n in 0..200u32 {
            let group = Arc::clone(&group);
            let commits = Arc::clone(&commits);
            writers.push(tokio::spawn(async move {
                group
                    .submit(0, n, |batch| {
                        let commits = Arc::clone(&commits);
                        async move {
                            // One "commit" per batch, slow enough for others to queue.
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                            commits.fetch_add(1, Ordering::SeqCst);
                            for pending in batch {
                                let n = pending.request;
                                pending.answer(Ok(n * 10));
                            }
                        }
                    })
                    .await
            }));
        }
        for (n, writer) in writers.into_iter().enumerate() {
            assert_eq!(writer.await.unwrap().unwrap(), n as u32 * 10);
        }
        let commits = commits.load(Ordering::SeqCst);
        assert!(
            commits < 200,
            "200 writes took {commits} commits: nothing was grouped"
        );
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_writes() {
        let group = GroupCommit::<u32, u32>::new(2);
        let outcome = group
            .submit(7, 1, |batch| async move {
                for pending in batch {
                    pending.answer(Err(AppError::Unavailable("database gone".into())));
                }
            })
            .await;
        assert!(matches!(outcome, Err(AppError::Unavailable(_))));
    }
}
