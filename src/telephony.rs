//! The phone system's webhook: signed call events become calls on every console and, once
//! answered, `phone_in`/`phone_out` entries. The caller's number lives only in memory, for
//! the length of the call (so a worker may record it with the client's consent); the store
//! keeps an HMAC of it, to recognise a repeat caller.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use crate::AppState;
use crate::domain::call::{self, Call, CallEvent, Direction, Repeat};
use crate::domain::entry::{self, Change, Entry, Person};
use crate::error::{AppError, Result};
use crate::store::{Inserted, Updated};

type HmacSha256 = Hmac<Sha256>;

/// The header the phone system signs with: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-paivystys-signature";
/// How many times a save may lose a race with another event of the same call.
const ATTEMPTS: usize = 8;
/// How long after a call ends its number may still be recorded by the worker.
const NUMBER_GRACE_MINUTES: i64 = 15;

/// `sha256=<hex>` of `body` under `secret`: what the phone system sends.
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks the signature in constant time.
pub fn verify(secret: &SecretString, body: &[u8], header: Option<&str>) -> Result<()> {
    let given = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| {
            AppError::SignatureRejected(format!(
                "missing or malformed {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body>"
            ))
        })?;
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| AppError::SignatureRejected("the signature does not match".into()))
}

/// The keyed hash standing for a client's number. Keyed, so a copy of the database cannot
/// be searched for a known number, and derived with its own label from the webhook secret.
pub fn number_hash(secret: &SecretString, number: &str) -> Option<String> {
    let normalised = call::normalise_number(number);
    if normalised.trim_start_matches('+').len() < 3 {
        return None; // withheld, or no number at all
    }
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"paivystys caller number\0");
    mac.update(normalised.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// A held number, and when to forget it (set when the call ends).
type Held = (String, Option<DateTime<Utc>>);

/// Numbers of calls in progress, in memory only: forgotten a little after the call ends,
/// and with the process.
#[derive(Default)]
pub struct Numbers {
    live: Mutex<HashMap<Uuid, Held>>,
}

impl Numbers {
    fn remember(&self, call: Uuid, number: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.entry(call)
                .or_insert_with(|| (number.to_owned(), None));
        }
    }

    fn ended(&self, call: Uuid, now: DateTime<Utc>) {
        if let Ok(mut live) = self.live.lock() {
            if let Some((_, forget_at)) = live.get_mut(&call) {
                *forget_at = Some(now + Duration::minutes(NUMBER_GRACE_MINUTES));
            }
        }
    }

    /// The number, while it is still held.
    pub fn get(&self, call: Uuid, now: DateTime<Utc>) -> Option<String> {
        let mut live = self.live.lock().ok()?;
        live.retain(|_, (_, forget_at)| forget_at.is_none_or(|t| t > now));
        live.get(&call).map(|(number, _)| number.clone())
    }
}

/// Handles one signed event. `body` is the raw request body the signature covers.
pub async fn receive(state: &AppState, body: &[u8], signature: Option<&str>) -> Result<Call> {
    let secret = state
        .settings
        .telephony_secret
        .as_ref()
        .ok_or_else(|| AppError::NotFound("telephony is not configured here".into()))?;
    verify(secret, body, signature)?;
    let event: CallEvent = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("not a call event: {e}")))?;
    event
        .validate()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let now = state.clock.now();
    let skew = Duration::seconds(state.settings.telephony.max_skew_secs as i64);
    if (now - event.at).abs() > skew {
        return Err(AppError::SignatureRejected(format!(
            "the event's time {} is more than {} s from this server's clock; refused as a replay",
            event.at,
            skew.num_seconds()
        )));
    }
    let caller_hash = number_hash(secret, event.client_number());
    let worker = worker_at(state, event.extension.as_deref()).await?;
    for _ in 0..ATTEMPTS {
        let saved = match state.store.call_by_call_id(&event.call_id).await? {
            None => first_event(state, &event, caller_hash.clone(), worker.clone(), now).await?,
            Some(current) => next_event(state, &current, &event, worker.clone(), now).await?,
        };
        if let Some(call) = saved {
            if call.state() == call::CallState::Ended {
                state.numbers.ended(call.id, now);
                record_duration(state, &call).await?;
            } else {
                state.numbers.remember(call.id, event.client_number());
            }
            return Ok(call);
        }
    }
    Err(AppError::Conflict(
        "the call changed too often at once; send the event again".into(),
    ))
}

/// The worker at an extension, if the settings say who sits there.
async fn worker_at(state: &AppState, extension: Option<&str>) -> Result<Option<Person>> {
    let Some(username) = extension.and_then(|e| state.settings.telephony.extensions.get(e)) else {
        return Ok(None);
    };
    Ok(state
        .store
        .find_credentials(username)
        .await?
        .map(|(user, _)| Person::from(&user)))
}

fn line_of(state: &AppState, event: &CallEvent) -> Option<String> {
    let wanted = call::normalise_number(event.desk_number());
    state
        .settings
        .telephony
        .lines
        .iter()
        .find(|(number, _)| call::normalise_number(number) == wanted)
        .map(|(_, name)| name.clone())
}

/// The earlier calls of the same client within the window.
async fn repeat_of(state: &AppState, hash: &str, now: DateTime<Utc>) -> Result<Option<Repeat>> {
    let days = i64::from(state.settings.telephony.repeat_days);
    let earlier = state
        .store
        .calls_of_caller(hash, now - Duration::days(days))
        .await?;
    Ok(earlier.first().map(|last| Repeat {
        earlier_calls: earlier.len() as i64,
        last_at: last.ringing_at.or(last.answered_at).unwrap_or(now),
        window_days: days,
    }))
}

/// The entry an answer makes, if this change is the answer.
async fn entry_for(state: &AppState, next: &mut Call, now: DateTime<Utc>) -> Result<Option<Entry>> {
    if next.entry_id.is_some() || next.answered_at.is_none() {
        return Ok(None);
    }
    let author = state.store.system_account("phone-system").await?;
    // A line named after a team reads as the team's name in both official languages.
    let line_name = match &next.line {
        Some(line) => Some(match state.store.get_team(line).await? {
            Some(team) => format!("{} / {}", team.name_fi, team.name_sv),
            None => line.clone(),
        }),
        None => None,
    };
    let made = call::entry(next, line_name.as_deref(), &author, now);
    next.entry_id = Some(made.id);
    Ok(Some(made))
}

/// `Ok(None)`: another event of the call was saved first; decide again.
async fn first_event(
    state: &AppState,
    event: &CallEvent,
    caller_hash: Option<String>,
    worker: Option<Person>,
    now: DateTime<Utc>,
) -> Result<Option<Call>> {
    let mut fresh = Call::new(event, caller_hash, line_of(state, event));
    if let (Some(hash), Direction::In) = (&fresh.caller_hash, fresh.direction) {
        fresh.repeat = repeat_of(state, hash, now).await?;
    }
    let mut next = call::apply(&fresh, event, worker).expect("a new call takes any event");
    let new_entry = entry_for(state, &mut next, now).await?;
    let events = events_of(&next, new_entry.as_ref(), now);
    match state
        .store
        .insert_call(&next, new_entry.as_ref(), &events, now)
        .await?
    {
        Inserted::Created => Ok(Some(next)),
        Inserted::Existing(_) => Ok(None),
    }
}

async fn next_event(
    state: &AppState,
    current: &Call,
    event: &CallEvent,
    worker: Option<Person>,
    now: DateTime<Utc>,
) -> Result<Option<Call>> {
    let Some(mut next) = call::apply(current, event, worker) else {
        return Err(AppError::Conflict(format!(
            "{} of call {} was already received",
            event.event.as_str(),
            event.call_id
        )));
    };
    let new_entry = entry_for(state, &mut next, now).await?;
    let events = events_of(&next, new_entry.as_ref(), now);
    match state
        .store
        .update_call(&next, new_entry.as_ref(), &events, now)
        .await?
    {
        Updated::Saved => Ok(Some(next)),
        Updated::Stale(_) => Ok(None),
    }
}

fn events_of(
    call: &Call,
    new_entry: Option<&Entry>,
    now: DateTime<Utc>,
) -> Vec<crate::events::NewEvent> {
    let mut events = vec![call::desk_event(call, now)];
    if let Some(made) = new_entry {
        events.push(entry::desk_event(made, Change::Created));
    }
    events
}

/// Writes the call's length into its entry once it has ended (a colleague editing the
/// entry meanwhile only means trying again on the newer version).
async fn record_duration(state: &AppState, ended: &Call) -> Result<()> {
    let (Some(entry_id), Some(talk)) = (ended.entry_id, ended.talk_time()) else {
        return Ok(());
    };
    let author = state.store.system_account("phone-system").await?;
    for _ in 0..ATTEMPTS {
        let Some(current) = state.store.get_entry(entry_id).await? else {
            return Ok(());
        };
        let Some(link) = &current.call else {
            return Ok(());
        };
        if link.duration_secs == Some(talk.num_seconds()) {
            return Ok(());
        }
        let mut next = current.clone();
        next.call = Some(entry::CallLink {
            duration_secs: Some(talk.num_seconds()),
            started_at: ended.answered_at,
            ..link.clone()
        });
        next.version += 1;
        next.updated_at = state.clock.now();
        let events = [entry::desk_event(&next, Change::Edited)];
        if let Updated::Saved = state
            .store
            .update_entry(&next, Change::Edited, &author, &events)
            .await?
        {
            return Ok(());
        }
    }
    Err(AppError::Conflict("the call's entry kept changing".into()))
}

/// One simulated call, for trying the desk without a phone system.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    pub from: String,
    pub to: String,
    pub extension: Option<String>,
    pub direction: Direction,
    /// Seconds between ringing and the answer (or the caller giving up).
    pub ring_secs: u64,
    /// Seconds of talk; `None`: nobody answers.
    pub talk_secs: Option<u64>,
}

/// Posts the call's events, signed as the phone system would, pausing between them as a
/// real call would, and prints one line per event as it goes: its kind and the answer.
pub async fn simulate(secret: &SecretString, plan: &Simulation) -> Result<()> {
    let client = reqwest::Client::new();
    let endpoint = format!("{}/api/v1/telephony/events", plan.url.trim_end_matches('/'));
    let call_id = format!("sim-{}", Uuid::new_v4());
    let mut steps = vec![("call.ringing", plan.ring_secs, None)];
    match plan.talk_secs {
        Some(talk) => {
            steps.push(("call.answered", talk, None));
            steps.push(("call.ended", 0, Some("completed")));
        }
        None => steps.push(("call.ended", 0, Some("caller_hangup"))),
    }
    for (kind, pause, reason) in steps {
        let body = serde_json::json!({
            "event": kind,
            "call_id": call_id,
            "from": plan.from,
            "to": plan.to,
            "at": Utc::now(),
            "direction": plan.direction,
            "extension": plan.extension,
            "reason": reason,
        })
        .to_string();
        let response = client
            .post(&endpoint)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| AppError::Unavailable(format!("{endpoint}: {e}")))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(AppError::BadRequest(format!(
                "{kind}: the server answered {status}: {text}"
            )));
        }
        println!("{kind}\t{status}");
        tokio::time::sleep(std::time::Duration::from_secs(pause)).await;
    }
    Ok(())
}
