//! Background timers. Each stops when the server shuts down.

use std::time::Duration;

use crate::AppState;

/// How often expired sessions are removed (they are refused at once either way).
const SESSION_PURGE_EVERY: Duration = Duration::from_secs(600);

pub fn spawn_all(state: &AppState) {
    tokio::spawn(purge_expired_sessions(state.clone()));
}

async fn purge_expired_sessions(state: AppState) {
    let mut tick = tokio::time::interval(SESSION_PURGE_EVERY);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tick.tick() => {
                match state.store.delete_expired_sessions(state.clock.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
                    Err(err) => tracing::warn!(error = %err, "session purge failed"),
                }
            }
        }
    }
}
