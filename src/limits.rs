//! Rate limits on the public chat and the public reports, without keeping who the client is.
//!
//! A client's source (its address, as the proxy or the socket tells it) is reduced at once
//! to a keyed hash under a random key that lives only in this process's memory, so neither
//! memory nor any log can be turned back into an address; the hash itself is forgotten once
//! its limit has refilled (`forget_refilled`, run by the chat timers). `governor` does the
//! counting (GCRA), which is well-tested arithmetic we would rather not write ourselves.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{NotUntil, Quota, RateLimiter};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{ChatSettings, ReportSettings};
use crate::error::{AppError, Result};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

pub struct Limits {
    opens_by_source: Keyed<u64>,
    opens_total: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    messages_by_chat: Keyed<Uuid>,
    reports_by_source: Keyed<u64>,
    reports_total: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    additions_by_source: Keyed<u64>,
    clock: DefaultClock,
    salt: [u8; 32],
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// `n` at once, refilling evenly over `period`.
fn quota(n: u32, period: Duration) -> Quota {
    Quota::with_period(period / n.max(1))
        .expect("a positive period")
        .allow_burst(nonzero(n))
}

impl Limits {
    pub fn new(settings: &ChatSettings, reports: &ReportSettings) -> Limits {
        let mut salt = [0u8; 32];
        rand::rng().fill_bytes(&mut salt);
        Limits {
            opens_by_source: RateLimiter::keyed(quota(
                settings.opens_per_hour_per_source,
                Duration::from_secs(3600),
            )),
            opens_total: RateLimiter::direct(quota(
                settings.opens_per_minute_total,
                Duration::from_secs(60),
            )),
            messages_by_chat: RateLimiter::keyed(quota(
                settings.messages_per_minute,
                Duration::from_secs(60),
            )),
            reports_by_source: RateLimiter::keyed(quota(
                reports.per_hour_per_source,
                Duration::from_secs(3600),
            )),
            reports_total: RateLimiter::direct(quota(
                reports.per_minute_total,
                Duration::from_secs(60),
            )),
            additions_by_source: RateLimiter::keyed(quota(
                reports.additions_per_hour_per_source,
                Duration::from_secs(3600),
            )),
            clock: DefaultClock::default(),
            salt,
        }
    }

    /// The keyed hash standing for a client's address.
    pub fn source_key(&self, address: &str) -> u64 {
        let digest = Sha256::new()
            .chain_update(self.salt)
            .chain_update(address.as_bytes())
            .finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    /// May this source open another chat?
    pub fn check_open(&self, source: u64) -> Result<()> {
        self.opens_total.check().map_err(|n| self.refused(n))?;
        self.opens_by_source
            .check_key(&source)
            .map_err(|n| self.refused(n))
    }

    /// May this chat send another message?
    pub fn check_message(&self, chat: Uuid) -> Result<()> {
        self.messages_by_chat
            .check_key(&chat)
            .map_err(|n| self.refused(n))
    }

    /// May this source send another report?
    pub fn check_report(&self, source: u64) -> Result<()> {
        self.reports_total.check().map_err(|n| self.refused(n))?;
        self.reports_by_source
            .check_key(&source)
            .map_err(|n| self.refused(n))
    }

    /// May this source try to add information to a report (again)? Every attempt counts,
    /// so a wrong secret cannot be guessed at speed.
    pub fn check_addition(&self, source: u64) -> Result<()> {
        self.additions_by_source
            .check_key(&source)
            .map_err(|n| self.refused(n))
    }

    fn refused(&self, not_until: NotUntil<<DefaultClock as Clock>::Instant>) -> AppError {
        let wait = not_until.wait_time_from(self.clock.now());
        AppError::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    /// Drops the state of every source and chat whose limit has refilled completely: after
    /// that nothing remembers them.
    pub fn forget_refilled(&self) {
        self.opens_by_source.retain_recent();
        self.opens_by_source.shrink_to_fit();
        self.messages_by_chat.retain_recent();
        self.messages_by_chat.shrink_to_fit();
        self.reports_by_source.retain_recent();
        self.reports_by_source.shrink_to_fit();
        self.additions_by_source.retain_recent();
        self.additions_by_source.shrink_to_fit();
    }

    /// How many sources are remembered right now (for tests and metrics).
    pub fn remembered_sources(&self) -> usize {
        self.opens_by_source.len() + self.reports_by_source.len() + self.additions_by_source.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(opens: u32, messages: u32) -> Limits {
        Limits::new(
            &ChatSettings {
                opens_per_hour_per_source: opens,
                messages_per_minute: messages,
                ..ChatSettings::default()
            },
            &ReportSettings {
                per_hour_per_source: opens,
                ..ReportSettings::default()
            },
        )
    }

    #[test]
    fn each_source_has_its_own_allowance_with_a_retry_time() {
        let l = limits(2, 5);
        let a = l.source_key("192.0.2.1");
        let b = l.source_key("192.0.2.2");
        assert_ne!(a, b);
        assert!(l.check_open(a).is_ok());
        assert!(l.check_open(a).is_ok());
        match l.check_open(a) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=1800).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(l.check_open(b).is_ok(), "another source is not affected");
    }

    #[test]
    fn the_source_key_is_not_the_address_and_differs_between_processes() {
        let one = limits(1, 1);
        let two = limits(1, 1);
        assert_eq!(
            one.source_key("198.51.100.7"),
            one.source_key("198.51.100.7")
        );
        assert_ne!(
            one.source_key("198.51.100.7"),
            two.source_key("198.51.100.7")
        );
    }

    #[test]
    fn reports_are_limited_per_source_apart_from_chats() {
        let l = limits(2, 5);
        let a = l.source_key("192.0.2.1");
        l.check_open(a).unwrap();
        l.check_open(a).unwrap();
        l.check_report(a).unwrap();
        l.check_report(a).unwrap();
        assert_eq!(l.check_report(a).unwrap_err().code(), "rate_limited");
        assert!(l.check_report(l.source_key("192.0.2.2")).is_ok());
    }

    #[test]
    fn messages_are_limited_per_chat() {
        let l = limits(1, 3);
        let chat = Uuid::new_v4();
        for _ in 0..3 {
            l.check_message(chat).unwrap();
        }
        assert_eq!(l.check_message(chat).unwrap_err().code(), "rate_limited");
        assert!(l.check_message(Uuid::new_v4()).is_ok());
    }
}
