//! Login throttling: after too many failed logins for one account, or from one source, in
//! a sliding window, further attempts get 429 with the time to wait. The window slides, so
//! the real user is never locked out for longer than that: an attacker cannot lock a worker
//! out of the night shift for good, and guessing stays slow.
//!
//! Failures are kept in memory only (a source as the keyed hash `limits` makes of its
//! address), and forgotten once they leave the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::error::{AppError, Result};

/// Failed logins allowed per account within the window.
pub const PER_ACCOUNT: usize = 5;
/// Failed logins allowed per source within the window (a desk shares one address).
pub const PER_SOURCE: usize = 30;
pub const WINDOW_MINUTES: i64 = 15;
/// Accounts and sources remembered at most; beyond this the oldest failures are dropped
/// first (a spray over many usernames must not exhaust memory).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Source(u64),
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, VecDeque<DateTime<Utc>>>>,
}

fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

impl LoginThrottle {
    /// May this account be tried from this source now?
    pub fn check(&self, username: &str, source: u64, now: DateTime<Utc>) -> Result<()> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = Duration::zero();
        for (key, limit) in [
            (Key::Account(username.to_lowercase()), PER_ACCOUNT),
            (Key::Source(source), PER_SOURCE),
        ] {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|t| *t > now - window());
                if times.len() >= limit {
                    let oldest = *times.front().expect("at least `limit` entries");
                    wait = wait.max(oldest + window() - now);
                }
            }
        }
        if wait > Duration::zero() {
            return Err(AppError::RateLimited {
                retry_after_secs: wait.num_seconds().max(1) as u64,
            });
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, source: u64, now: DateTime<Utc>) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| times.back().is_some_and(|t| *t > now - window()));
        }
        for key in [Key::Account(username.to_lowercase()), Key::Source(source)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful login clears the account's failures (not the source's: one desk PC's
    /// worker logging in must not reset a guesser's count on the same address).
    pub fn succeeded(&self, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&Key::Account(username.to_lowercase()));
        }
    }

    /// Drops everything that has left the window.
    pub fn forget_stale(&self, now: DateTime<Utc>) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.retain(|_, times| {
                times.retain(|t| *t > now - window());
                !times.is_empty()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_held_back_for_the_window_and_then_let_in() {
        let throttle = LoginThrottle::default();
        let t0 = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        for i in 0..PER_ACCOUNT {
            throttle.check("Anna", 1, t0).unwrap();
            throttle.failed("anna", 1 + i as u64, t0);
        }
        match throttle.check("anna", 99, t0 + Duration::minutes(1)) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert_eq!(retry_after_secs, 14 * 60)
            }
            other => panic!("{other:?}"),
        }
        assert!(
            throttle.check("ville", 99, t0).is_ok(),
            "other accounts are not affected"
        );
        assert!(
            throttle.check("anna", 99, t0 + window()).is_ok(),
            "never for good"
        );
        throttle.forget_stale(t0 + window());
        assert!(throttle.failures.lock().unwrap().is_empty());
    }

    #[test]
    fn a_source_spraying_many_accounts_is_held_back() {
        let throttle = LoginThrottle::default();
        let t0 = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        for i in 0..PER_SOURCE {
            throttle.failed(&format!("user{i}"), 7, t0);
        }
        assert!(throttle.check("someone", 7, t0).is_err());
        assert!(throttle.check("someone", 8, t0).is_ok());
    }
}
