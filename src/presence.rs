//! Who is on shift right now: the desk users with at least one open console socket.
//!
//! Presence is not client data and not history, so it is not an event in the log: it lives
//! in memory, is pushed to consoles as `presence` frames, and is rebuilt by reconnecting
//! sockets after a restart. With several instances on PostgreSQL each tells the others of
//! its own users (`store::pg_fanout`), repeating it every few seconds; an instance not
//! heard of for a while is taken to be gone with its users.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::domain::account::User;
use crate::domain::roles::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    inner: Arc<Mutex<Members>>,
    /// Everyone on shift, on this instance and the others.
    changes: watch::Sender<Arc<Vec<OnlineUser>>>,
    /// Only this instance's users: what it tells the other instances.
    local_changes: watch::Sender<Arc<Vec<OnlineUser>>>,
}

#[derive(Default)]
struct Members {
    /// This instance's users and their open consoles.
    local: HashMap<i64, (OnlineUser, usize)>,
    /// Other instances' users (by instance), each with when it was last heard of.
    remote: HashMap<String, HashMap<i64, (OnlineUser, Instant)>>,
}

impl Presence {
    pub fn new() -> Self {
        Presence {
            inner: Arc::new(Mutex::new(Members::default())),
            changes: watch::Sender::new(Arc::new(Vec::new())),
            local_changes: watch::Sender::new(Arc::new(Vec::new())),
        }
    }

    /// Marks the user online until the returned guard is dropped (the socket closes).
    pub fn join(&self, user: &User, now: DateTime<Utc>) -> PresenceGuard {
        let mut members = self.inner.lock().expect("presence lock");
        let slot = members.local.entry(user.id).or_insert_with(|| {
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
        self.publish(&members);
        PresenceGuard {
            presence: self.clone(),
            user_id: user.id,
        }
    }

    /// Everyone on shift, whichever instance their console is on.
    pub fn online(&self) -> Arc<Vec<OnlineUser>> {
        self.changes.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<Arc<Vec<OnlineUser>>> {
        self.changes.subscribe()
    }

    /// This instance's own users, for telling the other instances.
    pub fn watch_local(&self) -> watch::Receiver<Arc<Vec<OnlineUser>>> {
        self.local_changes.subscribe()
    }

    /// What another instance said of its users: the whole list when `complete`, else a
    /// part of it (a list too long for one message), added to what it said before.
    pub fn heard(&self, instance: &str, users: Vec<OnlineUser>, complete: bool, now: Instant) {
        let mut members = self.inner.lock().expect("presence lock");
        let known = members.remote.entry(instance.to_owned()).or_default();
        if complete {
            known.clear();
        }
        known.extend(users.into_iter().map(|u| (u.id, (u, now))));
        self.publish(&members);
    }

    /// Forgets other instances' users not heard of since `before` (an instance that died
    /// cannot say goodbye).
    pub fn forget_unheard(&self, before: Instant) {
        let mut members = self.inner.lock().expect("presence lock");
        for known in members.remote.values_mut() {
            known.retain(|_, (_, heard)| *heard >= before);
        }
        members.remote.retain(|_, known| !known.is_empty());
        self.publish(&members);
    }

    fn publish(&self, members: &Members) {
        let local: Vec<OnlineUser> = members.local.values().map(|(u, _)| u.clone()).collect();
        // A user with consoles on two instances is one person on shift, since the first.
        let mut everyone: HashMap<i64, OnlineUser> = HashMap::new();
        let remote = members
            .remote
            .values()
            .flat_map(|m| m.values().map(|(u, _)| u));
        for user in local.iter().chain(remote) {
            everyone
                .entry(user.id)
                .and_modify(|seen| seen.since = seen.since.min(user.since))
                .or_insert_with(|| user.clone());
        }
        send_sorted(&self.local_changes, local);
        send_sorted(&self.changes, everyone.into_values().collect());
    }
}

/// Sends the list, sorted by name, when it differs from the current one.
fn send_sorted(to: &watch::Sender<Arc<Vec<OnlineUser>>>, mut list: Vec<OnlineUser>) {
    list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    to.send_if_modified(|current| {
        if current.as_slice() == list.as_slice() {
            false
        } else {
            *current = Arc::new(list);
            true
        }
    });
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
        let mut members = self.presence.inner.lock().expect("presence lock");
        if let Some(slot) = members.local.get_mut(&self.user_id) {
            slot.1 -= 1;
            if slot.1 == 0 {
                members.local.remove(&self.user_id);
            }
        }
        self.presence.publish(&members);
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

    fn online(id: i64, since: DateTime<Utc>) -> OnlineUser {
        OnlineUser {
            id,
            username: format!("u{id}"),
            name: format!("Worker {id}"),
            role: Role::Oncall,
            since,
        }
    }

    #[test]
    fn other_instances_users_are_shown_once_until_their_instance_goes_quiet() {
        let presence = Presence::new();
        let early = Utc::now() - chrono::Duration::hours(2);
        let _here = presence.join(&user(1), Utc::now());
        let heard_at = Instant::now();
        // User 1 also has a console on instance B, opened earlier; user 3 only there.
        presence.heard(
            "b",
            vec![online(1, early), online(3, early)],
            true,
            heard_at,
        );
        let shown = presence.online();
        assert_eq!(shown.iter().map(|u| u.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(shown[0].since, early, "on shift since their first console");
        assert_eq!(
            presence
                .watch_local()
                .borrow()
                .iter()
                .map(|u| u.id)
                .collect::<Vec<_>>(),
            [1],
            "only this instance's users are told to the others"
        );
        // B says user 3 left; later B goes quiet altogether.
        presence.heard("b", vec![online(1, early)], true, heard_at);
        assert_eq!(presence.online().len(), 1);
        presence.forget_unheard(heard_at + std::time::Duration::from_secs(1));
        assert_eq!(
            presence.online().iter().map(|u| u.id).collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(
            presence.online()[0].since,
            presence.watch_local().borrow()[0].since
        );
    }
}
