//! Who is on shift right now: the desk users with at least one open console socket.
//!
//! Presence is not client data and not history, so it is not an event in the log: it lives
//! in memory, is pushed to consoles as `presence` frames, and is rebuilt by reconnecting
//! sockets after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::domain::account::User;
use crate::domain::roles::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OnlineUser {
    pub id: i64,
    /// For handing a chat over (`POST /api/v1/chats/{id}/transfer`).
    pub username: String,
    pub name: String,
    pub role: Role,
    /// When the user's first open console connected.
    pub since: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Presence {
    inner: Arc<Mutex<HashMap<i64, (OnlineUser, usize)>>>,
    changes: watch::Sender<Arc<Vec<OnlineUser>>>,
}

impl Presence {
    pub fn new() -> Self {
        Presence {
            inner: Arc::new(Mutex::new(HashMap::new())),
            changes: watch::Sender::new(Arc::new(Vec::new())),
        }
    }

    /// Marks the user online until the returned guard is dropped (the socket closes).
    pub fn join(&self, user: &User, now: DateTime<Utc>) -> PresenceGuard {
        let mut online = self.inner.lock().expect("presence lock");
        let slot = online.entry(user.id).or_insert_with(|| {
            (
                OnlineUser {
                    id: user.id,
                    username: user.username.clone(),
                    name: user.display_name.clone(),
                    role: user.role,
                    since: now,
                },
                0,
            )
        });
        slot.1 += 1;
        self.publish(&online);
        PresenceGuard {
            presence: self.clone(),
            user_id: user.id,
        }
    }

    pub fn online(&self) -> Arc<Vec<OnlineUser>> {
        self.changes.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<Arc<Vec<OnlineUser>>> {
        self.changes.subscribe()
    }

    fn publish(&self, online: &HashMap<i64, (OnlineUser, usize)>) {
        let mut list: Vec<OnlineUser> = online.values().map(|(u, _)| u.clone()).collect();
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        self.changes.send_if_modified(|current| {
            if current.as_slice() == list.as_slice() {
                false
            } else {
                *current = Arc::new(list);
                true
            }
        });
    }
}

impl Default for Presence {
    fn default() -> Self {
        Self::new()
    }
}

pub struct PresenceGuard {
    presence: Presence,
    user_id: i64,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let mut online = self.presence.inner.lock().expect("presence lock");
        if let Some(slot) = online.get_mut(&self.user_id) {
            slot.1 -= 1;
            if slot.1 == 0 {
                online.remove(&self.user_id);
            }
        }
        self.presence.publish(&online);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> User {
        User {
            id,
            username: format!("u{id}"),
            display_name: format!("Worker {id}"),
            role: Role::Oncall,
            team: None,
        }
    }

    #[test]
    fn a_user_stays_online_until_their_last_console_closes() {
        let presence = Presence::new();
        let mut watch = presence.watch();
        let laptop = presence.join(&user(1), Utc::now());
        let phone = presence.join(&user(1), Utc::now());
        let other = presence.join(&user(2), Utc::now());
        assert!(watch.has_changed().unwrap());
        assert_eq!(presence.online().len(), 2);
        drop(laptop);
        assert_eq!(presence.online().len(), 2);
        drop(phone);
        assert_eq!(
            presence.online().iter().map(|u| u.id).collect::<Vec<_>>(),
            [2]
        );
        drop(other);
        assert!(presence.online().is_empty());
        watch.mark_unchanged();
    }
}
