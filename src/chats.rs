//! Chat operations shared by the client's endpoints, the desk's endpoints and the timers:
//! each loads the chat, lets the domain decide, and saves with compare-and-swap, deciding
//! again on the newer version when someone else saved first.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::AppState;
use crate::auth::session::{random_token, token_hash};
use crate::domain::account::User;
use crate::domain::chat::{
    self, Author, Chat, ChatMessage, ChatState, EndReason, Language, NewMessage,
};
use crate::domain::entry::{self, Change};
use crate::domain::risk::Detection;
use crate::error::{AppError, Result};
use crate::events::NewEvent;
use crate::store::{ChatFilter, MessageWrite, Updated};

/// How often a save may lose a race before the caller is told to try again.
const ATTEMPTS: usize = 8;

/// A decided change of a chat, ready to save.
pub struct ChatChange {
    pub next: Chat,
    pub events: Vec<NewEvent>,
    /// The chat's live-log entry, made on accept.
    pub new_entry: Option<entry::Entry>,
    pub token_expires_at: Option<DateTime<Utc>>,
}

impl ChatChange {
    pub fn new(next: Chat, events: Vec<NewEvent>) -> ChatChange {
        ChatChange {
            next,
            events,
            new_entry: None,
            token_expires_at: None,
        }
    }
}

pub async fn load(state: &AppState, id: Uuid) -> Result<Chat> {
    state
        .store
        .get_chat(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no chat {id}")))
}

/// A newly opened chat and the client's token (shown once; only its hash is kept).
pub struct Opened {
    pub chat: Chat,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn open(state: &AppState, language: Language) -> Result<Opened> {
    let now = state.clock.now();
    let chat = Chat::open(Uuid::new_v4(), language, now);
    let token = random_token();
    let expires_at = now + Duration::minutes(i64::from(state.settings.chat.token_ttl_minutes));
    let events = [
        chat::client_event(&chat, "chat.opened"),
        chat::desk_event("chat.queued", &chat),
    ];
    state
        .store
        .insert_chat(&chat, &token_hash(&token), expires_at, &events)
        .await?;
    state.metrics.chats_opened.inc();
    Ok(Opened {
        chat,
        token,
        expires_at,
    })
}

/// Loads the chat, asks `decide` for the change (`None`: nothing to do) and saves it,
/// deciding again when a concurrent save got there first.
pub async fn change<F>(state: &AppState, id: Uuid, decide: F) -> Result<Chat>
where
    F: Fn(&Chat) -> Result<Option<ChatChange>>,
{
    for _ in 0..ATTEMPTS {
        let current = load(state, id).await?;
        let Some(change) = decide(&current)? else {
            return Ok(current);
        };
        match state
            .store
            .update_chat(
                &change.next,
                change.new_entry.as_ref(),
                change.token_expires_at,
                &change.events,
                state.clock.now(),
            )
            .await?
        {
            Updated::Saved => return Ok(change.next),
            Updated::Stale(_) => continue,
        }
    }
    Err(AppError::Conflict(
        "the chat keeps changing; try again".into(),
    ))
}

/// Writes a message from the client (`by: None`) or from the desk. Returns whether it was
/// new; a resent `client_id` returns the first message unchanged.
pub async fn post_message(
    state: &AppState,
    id: Uuid,
    by: Option<&User>,
    client_id: Uuid,
    body: String,
) -> Result<(bool, ChatMessage)> {
    let author = if by.is_some() {
        Author::Worker
    } else {
        Author::Client
    };
    let detection = match author {
        Author::Client => state.lexicon.detect(&body),
        Author::Worker => Detection::default(),
    };
    for _ in 0..ATTEMPTS {
        let current = load(state, id).await?;
        if current.state == ChatState::Ended {
            return resent(state, id, client_id).await;
        }
        if let Some(user) = by {
            current.require_worker(user)?;
        }
        let message = NewMessage {
            client_id,
            from: author,
            user_id: by.map(|u| u.id),
            body: body.clone(),
            at: state.clock.now(),
        };
        let next = current.after_message(author, &detection, message.at)?;
        let events = chat::message_events(&current, &next, &message);
        match state
            .store
            .insert_chat_message(&next, &message, &events)
            .await?
        {
            MessageWrite::Created(m) => {
                state.metrics.chat_messages.inc();
                return Ok((true, m));
            }
            MessageWrite::Existing(m) => return Ok((false, m)),
            MessageWrite::Stale(_) => continue,
        }
    }
    Err(AppError::Conflict(
        "the chat keeps changing; try again".into(),
    ))
}

/// A message resent after the chat ended is answered with the original; a new one is
/// refused.
async fn resent(state: &AppState, id: Uuid, client_id: Uuid) -> Result<(bool, ChatMessage)> {
    state
        .store
        .chat_messages(id)
        .await?
        .into_iter()
        .find(|m| m.client_id == client_id)
        .map(|m| (false, m))
        .ok_or_else(|| AppError::Conflict("the chat has ended".into()))
}

/// Ends a chat; the client may read it for a little while after (unless it ended because
/// the token ran out).
pub async fn end(state: &AppState, id: Uuid, reason: EndReason) -> Result<Chat> {
    let now = state.clock.now();
    let read_after = Duration::minutes(i64::from(state.settings.chat.read_after_end_minutes));
    change(state, id, |chat| {
        if chat.state == ChatState::Ended {
            return Ok(None);
        }
        let next = chat.ended(reason, now)?;
        let events = vec![
            chat::client_event(&next, "chat.ended"),
            chat::desk_event("chat.ended", &next),
        ];
        Ok(Some(ChatChange {
            token_expires_at: (reason != EndReason::Expired).then_some(now + read_after),
            ..ChatChange::new(next, events)
        }))
    })
    .await
}

/// `by` answers the chat: it becomes active, with its live-log entry claimed by `by`.
pub async fn accept(state: &AppState, id: Uuid, by: &User) -> Result<Chat> {
    let now = state.clock.now();
    let accepted = change(state, id, |chat| {
        let entry_id = Uuid::new_v4();
        let next = chat.accepted(by, entry_id, now)?;
        let entry = next.entry(entry_id, by, now);
        let events = vec![
            chat::client_event(&next, "chat.accepted"),
            chat::desk_event("chat.accepted", &next),
            entry::desk_event(&entry, Change::Created),
        ];
        Ok(Some(ChatChange {
            new_entry: Some(entry),
            ..ChatChange::new(next, events)
        }))
    })
    .await?;
    state
        .metrics
        .chat_wait
        .observe(accepted.waited(now).num_milliseconds() as f64 / 1000.0);
    Ok(accepted)
}

/// Accepts the most urgent waiting chat; `None` when nobody is waiting. A chat a colleague
/// took a moment earlier is skipped.
pub async fn accept_next(state: &AppState, by: &User) -> Result<Option<Chat>> {
    let filter = ChatFilter {
        states: vec![ChatState::Queued],
        limit: 20,
        ..ChatFilter::default()
    };
    for candidate in state.store.list_chats(&filter).await? {
        match accept(state, candidate.id, by).await {
            Ok(chat) => return Ok(Some(chat)),
            Err(AppError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// Hands the chat to a colleague; the live-log entry (with its notes) goes along.
pub async fn transfer(
    state: &AppState,
    id: Uuid,
    by: &User,
    to: &User,
    note: String,
) -> Result<Chat> {
    let now = state.clock.now();
    let moved = change(state, id, |chat| {
        let next = chat.transferred(by, to, note.clone(), now)?;
        let events = vec![
            chat::client_event(&next, "chat.transferred"),
            chat::desk_event("chat.transferred", &next),
        ];
        Ok(Some(ChatChange::new(next, events)))
    })
    .await?;
    if let Some(entry_id) = moved.entry_id {
        reassign_entry(state, entry_id, to, by).await?;
    }
    Ok(moved)
}

async fn reassign_entry(state: &AppState, entry_id: Uuid, to: &User, by: &User) -> Result<()> {
    for _ in 0..ATTEMPTS {
        let current = state
            .store
            .get_entry(entry_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("chat entry {entry_id} is missing")))?;
        let Some(next) = entry::reassign(&current, to, state.clock.now()) else {
            return Ok(());
        };
        let events = [entry::desk_event(&next, Change::Claimed)];
        match state
            .store
            .update_entry(&next, Change::Claimed, &entry::Person::from(by), &events)
            .await?
        {
            Updated::Saved => return Ok(()),
            Updated::Stale(_) => continue,
        }
    }
    Err(AppError::Conflict(
        "the chat's entry keeps changing; try again".into(),
    ))
}
