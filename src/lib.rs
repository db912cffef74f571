//! Päivystys: realtime server and web console of a 24/7 social and crisis on-call service.
//!
//! `AppState` holds everything a request needs; `router` builds the HTTP surface;
//! `serve_with_listener` runs it until the shutdown future resolves. Tests drive these
//! directly on a port-0 listener.

pub mod access;
pub mod auth;
pub mod backup;
pub mod chats;
pub mod cli;
pub mod config;
pub mod config_check;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod presence;
pub mod reports;
pub mod shelter;
pub mod store;
pub mod telephony;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::domain::clock::Clock;
use crate::error::Result;
use crate::events::Hub;
use crate::metrics::Metrics;
use crate::store::Store;

pub struct App {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub hub: Hub,
    /// The shelter's register, when it is hosted in this process.
    pub shelter: Option<Arc<shelter::Shelter>>,
    /// The desk's narrow window onto the shelter, wherever it is hosted.
    pub shelter_link: shelter::link::ShelterLink,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub presence: presence::Presence,
    /// The county's working-day calendar (holidays plus configured closed days).
    pub calendar: domain::calendar::Calendar,
    /// The chat's risk phrase lists, compiled.
    pub lexicon: domain::risk::Lexicon,
    /// Rate limits of the public chat.
    pub limits: limits::Limits,
    /// Typing notices in chats: in memory only, never stored.
    pub typing: events::typing::Typing,
    /// Callers' numbers while their calls last: in memory only, never stored.
    pub numbers: telephony::Numbers,
    /// Failed logins per account and per source, in memory only.
    pub login_throttle: auth::throttle::LoginThrottle,
    /// Cancelled when the server begins to shut down; long-lived tasks watch it.
    pub shutdown: CancellationToken,
    /// The open websockets, so shutdown can wait for their "reconnect" goodbyes.
    pub sockets: TaskTracker,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// The parts an `AppState` is built from before the store is opened: the store needs the
/// hub, and the hub counts into the metrics.
pub struct Wiring {
    pub hub: Hub,
    pub metrics: Metrics,
}

impl Wiring {
    /// `live_buffer` is the hub's per-stream buffer (`ws.live_buffer_events`).
    pub fn new(live_buffer: usize) -> Self {
        let metrics = Metrics::new();
        let hub = Hub::new(
            live_buffer,
            events::HubCounters {
                appended: metrics.events_appended.clone(),
                relayed: metrics.events_relayed.clone(),
            },
        );
        Wiring { hub, metrics }
    }

    pub fn into_state(
        self,
        settings: Settings,
        store: Arc<dyn Store>,
        shelter: Option<Arc<shelter::Shelter>>,
        clock: Arc<dyn Clock>,
    ) -> Result<AppState> {
        let shelter_link = match (&settings.shelter.remote_url, &shelter) {
            (Some(url), _) => shelter::link::ShelterLink::Remote(shelter::link::Remote::new(
                url,
                settings.shelter.link_secret.clone().ok_or_else(|| {
                    crate::error::AppError::Config("shelter.remote_url needs link_secret".into())
                })?,
            )?),
            (None, Some(local)) => shelter::link::ShelterLink::Local(Arc::clone(local)),
            (None, None) => {
                return Err(crate::error::AppError::Config(
                    "no shelter register: open one here or set shelter.remote_url".into(),
                ));
            }
        };
        let calendar = settings.calendar.calendar();
        let lexicon = domain::risk::Lexicon::new(&settings.chat.risk_phrases)?;
        let limits = limits::Limits::new(&settings.chat, &settings.reports);
        Ok(AppState(Arc::new(App {
            calendar,
            lexicon,
            limits,
            typing: events::typing::Typing::default(),
            numbers: telephony::Numbers::default(),
            login_throttle: auth::throttle::LoginThrottle::default(),
            settings,
            store,
            hub: self.hub,
            shelter,
            shelter_link,
            clock,
            metrics: self.metrics,
            presence: presence::Presence::new(),
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
        })))
    }
}

impl AppState {
    /// A team's office hours.
    pub fn office_hours(&self, team: &str) -> domain::calendar::OfficeHours {
        self.settings.calendar.office_hours(team)
    }

    /// Opens (and migrates) the databases the settings name.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState> {
        let wiring = Wiring::new(settings.ws.live_buffer_events);
        let store = store::open(&settings.database_url, wiring.hub.clone()).await?;
        // A shelter hosted elsewhere is never opened here: nothing of it touches this disk.
        let shelter = match settings.shelter.remote_url {
            Some(_) => None,
            None => Some(Arc::new(shelter::Shelter::open(&settings).await?)),
        };
        wiring.into_state(settings, store, shelter, clock)
    }
}

pub fn router(state: AppState) -> Router {
    http::router(state)
}

/// How long shutdown waits for open websockets to say goodbye.
const SOCKET_GOODBYES: std::time::Duration = std::time::Duration::from_secs(3);

/// Serves until `shutdown` resolves, then closes websockets (telling clients to reconnect)
/// and finishes the requests in flight.
pub async fn serve_with_listener(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    state.store.start_fanout(
        std::time::Duration::from_secs(state.settings.ws.catch_up_secs),
        events::Signals {
            typing: state.typing.clone(),
            presence: state.presence.clone(),
        },
        state.shutdown.clone(),
    );
    jobs::spawn_all(&state);
    let token = state.shutdown.clone();
    let sockets = state.sockets.clone();
    let app = router(state);
    // The peer address reaches handlers only to be hashed for rate limits (`limits`).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            token.cancel();
        })
        .await?;
    // axum's graceful shutdown does not wait for upgraded connections: without this the
    // process could end while sockets still flush their 1012 "reconnect" close, and
    // consoles would see an abnormal close instead. Each socket gives up on its peer
    // after 2 s (`ws`), so this wait is bounded.
    sockets.close();
    if tokio::time::timeout(SOCKET_GOODBYES, sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!(open = sockets.len(), "websockets still open at exit");
    }
    Ok(())
}
