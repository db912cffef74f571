//! The four runs: idle, fanout, chat and resume.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::args::{Mode, Plan};
use crate::client::{self, Chat, Credentials, Frame, Server, Session, Socket};
use crate::stats::{self, Deliveries, Writes};

/// What every subscriber task shares.
struct Shared {
    servers: Vec<Server>,
    sources: Vec<IpAddr>,
    deliveries: Deliveries,
    /// Events are measured only once writing starts; earlier ones are not ours.
    recording: AtomicBool,
    /// Resume mode: a closed socket reconnects with `since` instead of ending.
    reconnect: bool,
    stop: CancellationToken,
    /// Each subscriber's last delivered seq, for the final check against the head.
    lasts: Vec<AtomicI64>,
    closes: Mutex<BTreeMap<String, u64>>,
    down: AtomicUsize,
    resumed_sockets: AtomicUsize,
    first_close: Mutex<Option<Instant>>,
    last_resume: Mutex<Option<Instant>>,
}

/// One subscriber: which socket it is and what it follows.
#[derive(Clone)]
struct Sub {
    index: usize,
    /// Index into `servers`: connections are spread round-robin.
    target: usize,
    credentials: Credentials,
    /// The stream's number in `Deliveries` (0 for desk, the chat's index otherwise).
    stream_no: u32,
}

impl Shared {
    fn new(plan: &Plan, servers: Vec<Server>, subscribers: usize) -> Self {
        Shared {
            deliveries: Deliveries::new(servers.len()),
            servers,
            sources: plan.source_addrs.clone(),
            recording: AtomicBool::new(false),
            reconnect: plan.mode == Mode::Resume,
            stop: CancellationToken::new(),
            lasts: (0..subscribers).map(|_| AtomicI64::new(0)).collect(),
            closes: Mutex::new(BTreeMap::new()),
            down: AtomicUsize::new(0),
            resumed_sockets: AtomicUsize::new(0),
            first_close: Mutex::new(None),
            last_resume: Mutex::new(None),
        }
    }

    fn source(&self, index: usize) -> IpAddr {
        self.sources[index % self.sources.len()]
    }

    fn on_event(&self, sub: &Sub, frame: &client::EventFrame) {
        let last = self.lasts[sub.index].load(Ordering::Relaxed);
        if self.recording.load(Ordering::Relaxed) {
            self.deliveries.check_order(last, frame.seq);
            self.deliveries
                .arrived(sub.stream_no, frame.seq, frame.at, sub.target);
        }
        self.lasts[sub.index].store(last.max(frame.seq), Ordering::Relaxed);
    }

    fn closed(&self, why: String) {
        *self.closes.lock().unwrap().entry(why).or_default() += 1;
    }

    /// Opens a subscriber's socket after `since`, passing replayed events on.
    async fn open(&self, sub: &Sub, since: i64) -> anyhow::Result<(Socket, i64)> {
        let server = &self.servers[sub.target];
        client::open_socket(
            server,
            Some(self.source(sub.index)),
            &sub.credentials,
            since,
            |frame| self.on_event(sub, frame),
        )
        .await
    }
}

/// Reads a subscriber's socket until the run stops; in resume mode a closed socket
/// reconnects with `since=<last seq>`, and the time until it is following again counts.
async fn follow(shared: Arc<Shared>, sub: Sub, mut socket: Socket) {
    loop {
        let why = loop {
            tokio::select! {
                _ = shared.stop.cancelled() => {
                    let _ = socket.close(None).await;
                    return;
                }
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
                            break format!("unreadable frame {text}");
                        };
                        if frame.kind == "event" {
                            match frame.event() {
                                Ok(event) => shared.on_event(&sub, &event),
                                Err(e) => break e.to_string(),
                            }
                        } else if frame.kind == "error" {
                            break format!("error frame {text}");
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break match frame {
                            Some(f) => format!("closed {}", u16::from(f.code)),
                            None => "closed without a code".into(),
                        };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("socket error: {e}"),
                    None => break "connection ended".into(),
                }
            }
        };
        shared.closed(why);
        if !shared.reconnect {
            return;
        }
        shared.down.fetch_add(1, Ordering::SeqCst);
        shared
            .first_close
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        // Spread the reconnections over a moment, as browsers with jittered backoff
        // would, rather than all in one instant.
        let mut wait = Duration::from_millis(100 + rand::random_range(0..400));
        socket = loop {
            tokio::select! {
                _ = shared.stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let since = shared.lasts[sub.index].load(Ordering::Relaxed);
            match shared.open(&sub, since).await {
                Ok((socket, _)) => break socket,
                Err(_) => wait = Duration::from_millis(250 + rand::random_range(0..250)),
            }
        };
        *shared.last_resume.lock().unwrap() = Some(Instant::now());
        shared.down.fetch_sub(1, Ordering::SeqCst);
        shared.resumed_sockets.fetch_add(1, Ordering::SeqCst);
    }
}

/// Opens every subscriber's socket, `concurrency` at a time, and starts following. Fails
/// when any socket cannot be opened: a benchmark with fewer connections than asked for
/// would report the wrong thing.
async fn connect_all(
    plan: &Plan,
    shared: &Arc<Shared>,
    subs: Vec<(Sub, i64)>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let started = Instant::now();
    let total = subs.len();
    let opened = AtomicUsize::new(0);
    let results: Vec<anyhow::Result<tokio::task::JoinHandle<()>>> =
        futures_util::stream::iter(subs)
            .map(|(sub, since)| {
                let shared = Arc::clone(shared);
                let opened = &opened;
                async move {
                    shared.lasts[sub.index].store(since, Ordering::Relaxed);
                    let (socket, head) = shared
                        .open(&sub, since)
                        .await
                        .with_context(|| format!("socket {}", sub.index + 1))?;
                    shared.lasts[sub.index].fetch_max(head, Ordering::Relaxed);
                    let done = opened.fetch_add(1, Ordering::Relaxed) + 1;
                    if done % 5000 == 0 {
                        eprintln!("  {done} sockets open");
                    }
                    Ok(tokio::spawn(follow(shared, sub, socket)))
                }
            })
            .buffer_unordered(plan.connect_concurrency)
            .collect()
            .await;
    let mut handles = Vec::with_capacity(total);
    let mut errors = BTreeMap::<String, usize>::new();
    for result in results {
        match result {
            Ok(handle) => handles.push(handle),
            Err(e) => *errors.entry(format!("{:#}", e.root_cause())).or_default() += 1,
        }
    }
    if !errors.is_empty() {
        shared.stop.cancel();
        bail!(
            "{} of {total} sockets failed to open: {errors:?}",
            total - handles.len()
        );
    }
    println!(
        "opened {total} websockets in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(handles)
}

/// Writes at `rate` per second (open loop: a slow answer does not slow the next write,
/// up to `max_in_flight` waiting) until `writes` or `until`, then waits for the answers.
async fn open_loop<F, Fut>(plan: &Plan, until: Instant, writes: &Writes, write: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Duration, String>> + Send + 'static,
{
    let started = Instant::now();
    let in_flight = Arc::new(Semaphore::new(plan.max_in_flight));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut n = 0u64;
    while plan.writes.is_none_or(|w| n < w) {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        let permit = Arc::clone(&in_flight).acquire_owned().await.expect("open");
        let write = write(n);
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _ = done.send(write.await);
            drop(permit);
        });
        n += 1;
    }
    drop(done_tx);
    while let Some(result) = done_rx.recv().await {
        writes.record(result);
    }
    started.elapsed()
}

async fn servers(plan: &Plan) -> anyhow::Result<Vec<Server>> {
    let mut servers = Vec::new();
    for target in &plan.targets {
        servers.push(Server::resolve(target.clone()).await?);
    }
    Ok(servers)
}

async fn login(plan: &Plan, http: &reqwest::Client, server: &Server) -> anyhow::Result<Session> {
    let password = plan.password.as_deref().unwrap_or_default();
    client::login(http, server, &plan.username, password).await
}

/// Opens `count` chats, each on the target its socket will use.
async fn open_chats(
    plan: &Plan,
    http: &reqwest::Client,
    servers: &[Server],
    count: usize,
    first_index: usize,
) -> anyhow::Result<Vec<Chat>> {
    let chats: Vec<anyhow::Result<Chat>> = futures_util::stream::iter(0..count)
        .map(|i| client::open_chat(http, &servers[(first_index + i) % servers.len()]))
        .buffered(plan.connect_concurrency.min(64))
        .collect()
        .await;
    chats.into_iter().collect()
}

pub async fn run(plan: Plan) -> anyhow::Result<()> {
    let servers = servers(&plan).await?;
    let http = client::http_client();
    println!(
        "loadgen {:?} on {}; targets {}",
        plan.mode,
        stats::machine(),
        plan.targets
            .iter()
            .map(|t| t.base.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    match plan.mode {
        Mode::Idle => idle(&plan, &http, servers).await,
        Mode::Fanout | Mode::Resume => fanout(&plan, &http, servers).await,
        Mode::Chat => chat(&plan, &http, servers).await,
    }
}

/// Opens the sockets, holds them for `--duration`, and reports the servers' memory.
async fn idle(plan: &Plan, http: &reqwest::Client, servers: Vec<Server>) -> anyhow::Result<()> {
    let before = stats::rss_all(&plan.server_pids);
    stats::print_rss("before", &plan.server_pids, &before);
    let mut subs = Vec::new();
    if plan.workers > 0 {
        let session = login(plan, http, &servers[0]).await?;
        let head = client::stream_head(http, &servers[0], &session, "desk").await?;
        let credentials = Credentials::Worker(session);
        subs.extend((0..plan.workers).map(|i| {
            let sub = Sub {
                index: i,
                target: i % servers.len(),
                credentials: credentials.clone(),
                stream_no: 0,
            };
            (sub, head)
        }));
    }
    let chats = open_chats(plan, http, &servers, plan.chats, plan.workers).await?;
    subs.extend(chats.into_iter().enumerate().map(|(n, chat)| {
        let i = plan.workers + n;
        let sub = Sub {
            index: i,
            target: i % servers.len(),
            credentials: Credentials::ChatClient(chat),
            stream_no: n as u32 + 1,
        };
        (sub, 0)
    }));
    let total = subs.len();
    let shared = Arc::new(Shared::new(plan, servers, total));
    let handles = tokio::time::timeout(plan.setup_timeout, connect_all(plan, &shared, subs))
        .await
        .context("--setup-timeout passed while opening sockets")??;
    println!(
        "holding {total} sockets for {:.0} s",
        plan.duration.as_secs_f64()
    );
    tokio::time::sleep(plan.duration).await;
    let after = stats::rss_all(&plan.server_pids);
    stats::print_rss("after", &plan.server_pids, &after);
    let closed: u64 = shared.closes.lock().unwrap().values().sum();
    println!(
        "sockets still open: {} of {total}; closed early: {:?}",
        total as u64 - closed,
        shared.closes.lock().unwrap()
    );
    let grown: i64 = before
        .iter()
        .zip(&after)
        .filter_map(|(b, a)| Some(a.as_ref()? - b.as_ref()?))
        .map(|d| d as i64)
        .sum();
    if !plan.server_pids.is_empty() {
        println!(
            "server memory per connection: {:.2} KiB ({grown} KiB over {total} sockets)",
            grown as f64 / total as f64
        );
    }
    if let Some(own) = stats::rss_kib(std::process::id()) {
        println!("loadgen's own RSS: {:.1} MiB", own as f64 / 1024.0);
    }
    shared.stop.cancel();
    futures_util::future::join_all(handles).await;
    Ok(())
}

/// Fanout (and resume): `--workers` consoles follow `desk`; one writer creates entries at
/// `--rate`; every entry's latency is taken at its last console. In resume mode the
/// server restarts meanwhile and the consoles come back with `since`.
/// Ends a measured run: reports how sockets closed, stops and joins them, and fails a
/// run in which no write was acknowledged.
async fn finish(
    shared: &Shared,
    handles: Vec<tokio::task::JoinHandle<()>>,
    writes: &Writes,
) -> anyhow::Result<()> {
    let closes = shared.closes.lock().unwrap().clone();
    if !closes.is_empty() {
        println!("socket closes: {closes:?}");
    }
    shared.stop.cancel();
    futures_util::future::join_all(handles).await;
    if writes.acked() == 0 {
        bail!("no write was acknowledged ({} failed)", writes.failed());
    }
    Ok(())
}

/// A measured run once its sockets are open and following: recording is on from `started`.
struct Measured {
    shared: Arc<Shared>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    writes: Arc<Writes>,
    cpu: stats::CpuMeter,
    started: Instant,
}

/// Opens the sockets (`expected` of them count towards delivery), reports the servers'
/// memory with them open, and starts recording and the CPU meter.
async fn start_measuring(
    plan: &Plan,
    servers: &[Server],
    subs: Vec<(Sub, i64)>,
    expected: usize,
) -> anyhow::Result<Measured> {
    let shared = Arc::new(Shared::new(plan, servers.to_vec(), expected));
    let handles = tokio::time::timeout(plan.setup_timeout, connect_all(plan, &shared, subs))
        .await
        .context("--setup-timeout passed while opening sockets")??;
    let rss_open = stats::rss_all(&plan.server_pids);
    stats::print_rss("with the sockets open", &plan.server_pids, &rss_open);
    shared.recording.store(true, Ordering::SeqCst);
    Ok(Measured {
        shared,
        handles,
        writes: Arc::new(Writes::default()),
        cpu: stats::CpuMeter::start(&plan.server_pids),
        started: Instant::now(),
    })
}

async fn fanout(plan: &Plan, http: &reqwest::Client, servers: Vec<Server>) -> anyhow::Result<()> {
    let session = login(plan, http, &servers[0]).await?;
    let head = client::stream_head(http, &servers[0], &session, "desk").await?;
    let credentials = Credentials::Worker(session.clone());
    let subs = (0..plan.workers)
        .map(|i| {
            let sub = Sub {
                index: i,
                target: i % servers.len(),
                credentials: credentials.clone(),
                stream_no: 0,
            };
            (sub, head)
        })
        .collect();
    let Measured {
        shared,
        handles,
        writes,
        cpu,
        started,
    } = start_measuring(plan, &servers, subs, plan.workers).await?;
    let restart = (plan.mode == Mode::Resume).then(|| {
        let shared = Arc::clone(&shared);
        let command = plan.restart_cmd.clone();
        let after = plan.restart_after;
        let deadline = started + plan.duration + plan.settle;
        tokio::spawn(async move { restart(shared, command, after, deadline).await })
    });
    let elapsed = {
        let servers = servers.clone();
        let http = http.clone();
        let session = session.clone();
        open_loop(plan, started + plan.duration, &writes, move |n| {
            let server = servers[n as usize % servers.len()].clone();
            let http = http.clone();
            let session = session.clone();
            async move { client::write_entry(&http, &server, &session, n).await }
        })
        .await
    };
    let resumed = match restart {
        Some(task) => Some(task.await?),
        None => None,
    };
    tokio::time::sleep(plan.settle).await;
    cpu.print();
    let rss = stats::rss_all(&plan.server_pids);
    stats::print_rss("at the end", &plan.server_pids, &rss);

    println!("{} consoles following desk", plan.workers);
    writes.print(elapsed);
    let consoles = plan.workers as u32;
    shared.deliveries.print(|_| consoles);
    if let Some(resumed) = resumed {
        report_resume(plan, http, &servers, &session, &shared, resumed?).await?;
    }
    finish(&shared, handles, &writes).await
}

/// When the restart began, as the load generator saw it, and whether every console was
/// following again before the deadline.
struct Restarted {
    command_started: Instant,
    all_resumed: bool,
}

/// Waits `after`, runs the restart command (or waits for the server to close the
/// sockets), then waits until every console has reconnected or `deadline` passes.
async fn restart(
    shared: Arc<Shared>,
    command: Option<String>,
    after: Duration,
    deadline: Instant,
) -> anyhow::Result<Restarted> {
    tokio::time::sleep(after).await;
    let command_started = Instant::now();
    if let Some(command) = command {
        println!("running the restart command: {command}");
        let status = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .status()
            .await
            .context("running --restart-cmd")?;
        if !status.success() {
            bail!("--restart-cmd failed: {status}");
        }
        println!(
            "the restart command finished after {:.2} s",
            command_started.elapsed().as_secs_f64()
        );
    } else {
        println!("waiting for the server to close the sockets (restart it now)");
    }
    let consoles = shared.lasts.len();
    let all_resumed = loop {
        if shared.resumed_sockets.load(Ordering::SeqCst) >= consoles
            && shared.down.load(Ordering::SeqCst) == 0
        {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Ok(Restarted {
        command_started,
        all_resumed,
    })
}

async fn report_resume(
    plan: &Plan,
    http: &reqwest::Client,
    servers: &[Server],
    session: &Session,
    shared: &Shared,
    restarted: Restarted,
) -> anyhow::Result<()> {
    let first_close = *shared.first_close.lock().unwrap();
    let last_resume = *shared.last_resume.lock().unwrap();
    match (first_close, last_resume) {
        (Some(first_close), Some(last_resume)) if restarted.all_resumed => println!(
            "resume: all {} consoles following again {:.2} s after the first socket closed \
             ({:.2} s after the restart began)",
            plan.workers,
            (last_resume - first_close).as_secs_f64(),
            (last_resume - restarted.command_started).as_secs_f64()
        ),
        _ => println!(
            "resume: NOT every console resumed before the run ended: {} reconnections, {} \
             consoles still disconnected (a longer --duration?)",
            shared.resumed_sockets.load(Ordering::SeqCst),
            shared.down.load(Ordering::SeqCst)
        ),
    }
    let head = client::stream_head(http, &servers[0], session, "desk").await?;
    let behind = shared
        .lasts
        .iter()
        .filter(|l| l.load(Ordering::Relaxed) != head)
        .count();
    println!(
        "resume check: desk head {head}; {behind} consoles not at the head; gaps {}, \
         duplicates {}",
        shared.deliveries.gaps.load(Ordering::Relaxed),
        shared.deliveries.duplicates.load(Ordering::Relaxed)
    );
    Ok(())
}

/// `--chats` clients, each following its own chat and writing to it; a message's latency
/// is from its commit to its arrival on the writer's own socket. With several targets a
/// client writes through the next instance, so every delivery crosses instances.
async fn chat(plan: &Plan, http: &reqwest::Client, servers: Vec<Server>) -> anyhow::Result<()> {
    let chats = open_chats(plan, http, &servers, plan.chats, 0).await?;
    let subs = chats
        .iter()
        .enumerate()
        .map(|(i, chat)| {
            let sub = Sub {
                index: i,
                target: i % servers.len(),
                credentials: Credentials::ChatClient(chat.clone()),
                stream_no: i as u32,
            };
            (sub, 0)
        })
        .collect();
    let Measured {
        shared,
        handles,
        writes,
        cpu,
        started,
    } = start_measuring(plan, &servers, subs, plan.chats).await?;
    let until = started + plan.duration;
    let writer_of = |i: usize| servers[(i + 1) % servers.len()].clone();
    let elapsed = if plan.rate > 0.0 {
        let chats = Arc::new(chats);
        let servers: Vec<Server> = (0..chats.len()).map(writer_of).collect();
        let http = http.clone();
        open_loop(plan, until, &writes, move |n| {
            let i = n as usize % chats.len();
            let (http, server, chats) = (http.clone(), servers[i].clone(), Arc::clone(&chats));
            async move { client::write_chat_message(&http, &server, &chats[i], n).await }
        })
        .await
    } else {
        // Closed loop: each client writes its next message once the last is
        // acknowledged, as a person would, so throughput is what the server sustains.
        let count = Arc::new(AtomicU64::new(0));
        let writers = chats.into_iter().enumerate().map(|(i, chat)| {
            let (http, server) = (http.clone(), writer_of(i));
            let (writes, count, limit) = (Arc::clone(&writes), Arc::clone(&count), plan.writes);
            tokio::spawn(async move {
                while Instant::now() < until {
                    let n = count.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|l| n >= l) {
                        break;
                    }
                    writes.record(client::write_chat_message(&http, &server, &chat, n).await);
                }
            })
        });
        futures_util::future::join_all(writers).await;
        started.elapsed()
    };
    tokio::time::sleep(plan.settle).await;
    cpu.print();
    let rss = stats::rss_all(&plan.server_pids);
    stats::print_rss("at the end", &plan.server_pids, &rss);

    println!("{} chat clients, each following its own chat", plan.chats);
    writes.print(elapsed);
    shared.deliveries.print(|_| 1);
    finish(&shared, handles, &writes).await
}
