//! What a run measures, and how it is printed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Write acknowledgements: latency of each acknowledged write, and failures by kind.
#[derive(Default)]
pub struct Writes {
    acked: Mutex<Vec<Duration>>,
    failed: Mutex<BTreeMap<String, u64>>,
}

impl Writes {
    pub fn record(&self, result: Result<Duration, String>) {
        match result {
            Ok(latency) => self.acked.lock().unwrap().push(latency),
            Err(kind) => *self.failed.lock().unwrap().entry(kind).or_default() += 1,
        }
    }

    pub fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    pub fn failed(&self) -> u64 {
        self.failed.lock().unwrap().values().sum()
    }

    pub fn print(&self, elapsed: Duration) {
        let mut acked = self.acked.lock().unwrap().clone();
        let failed = self.failed.lock().unwrap();
        println!(
            "writes: {} acknowledged in {:.1} s = {:.0}/s; failed {}{}",
            acked.len(),
            elapsed.as_secs_f64(),
            acked.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            failed.values().sum::<u64>(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({failed:?})")
            }
        );
        if !acked.is_empty() {
            acked.sort_unstable();
            println!("write ack latency: {}", percentiles(&acked));
        }
    }
}

/// One event's deliveries so far: how many subscribers have it, and the latest arrival
/// (commit `at` to receipt) among them, overall and per target the subscriber is on.
struct Arrivals {
    count: u32,
    slowest: Duration,
    /// `None` where no subscriber of the event is on that target.
    slowest_on: Vec<Option<Duration>>,
}

/// Deliveries of events to subscribers, keyed by (stream number, seq). An event's
/// latency is the one at its last subscriber, which is what a user on the slowest console
/// waits.
pub struct Deliveries {
    events: Mutex<HashMap<(u32, i64), Arrivals>>,
    targets: usize,
    /// Events whose seq did not follow the socket's last one (a gap) or repeated one.
    pub gaps: AtomicU64,
    pub duplicates: AtomicU64,
    pub frames: AtomicU64,
}

impl Deliveries {
    pub fn new(targets: usize) -> Self {
        Deliveries {
            events: Mutex::new(HashMap::new()),
            targets,
            gaps: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            frames: AtomicU64::new(0),
        }
    }

    /// A subscriber on `target` received event `seq` of stream number `stream`.
    pub fn arrived(&self, stream: u32, seq: i64, at: DateTime<Utc>, target: usize) {
        // Server and load generator share this machine's clock, so the difference is the
        // time since the server stamped the event (just before its transaction began).
        let latency = (Utc::now() - at).to_std().unwrap_or_default();
        self.frames.fetch_add(1, Ordering::Relaxed);
        let mut events = self.events.lock().unwrap();
        let arrivals = events.entry((stream, seq)).or_insert_with(|| Arrivals {
            count: 0,
            slowest: Duration::ZERO,
            slowest_on: vec![None; self.targets],
        });
        arrivals.count += 1;
        arrivals.slowest = arrivals.slowest.max(latency);
        let on_target = &mut arrivals.slowest_on[target];
        *on_target = Some(on_target.unwrap_or_default().max(latency));
    }

    /// Checks a socket's next seq against its last: counts gaps and repeats.
    pub fn check_order(&self, last: i64, seq: i64) {
        if seq <= last {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        } else if seq != last + 1 {
            self.gaps.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prints the latency at the last subscriber of every event that reached all
    /// `expected(stream)` subscribers, and how many did not.
    pub fn print(&self, expected: impl Fn(u32) -> u32) {
        let events = self.events.lock().unwrap();
        let mut complete = Vec::new();
        let mut on_target = vec![Vec::new(); self.targets];
        let mut incomplete = 0usize;
        let mut missing = 0u64;
        for ((stream, _), arrivals) in events.iter() {
            let want = expected(*stream);
            if arrivals.count >= want {
                complete.push(arrivals.slowest);
                for (target, slowest) in arrivals.slowest_on.iter().enumerate() {
                    on_target[target].extend(*slowest);
                }
            } else {
                incomplete += 1;
                missing += u64::from(want - arrivals.count);
            }
        }
        println!(
            "events: {} reached every subscriber, {incomplete} did not ({missing} deliveries \
             missing); {} event frames received; order: {} gaps, {} duplicates",
            complete.len(),
            self.frames.load(Ordering::Relaxed),
            self.gaps.load(Ordering::Relaxed),
            self.duplicates.load(Ordering::Relaxed),
        );
        if complete.is_empty() {
            return;
        }
        complete.sort_unstable();
        println!(
            "commit-to-last-subscriber latency: {}",
            percentiles(&complete)
        );
        if self.targets > 1 {
            for (target, mut latencies) in on_target.into_iter().enumerate() {
                if latencies.is_empty() {
                    continue;
                }
                latencies.sort_unstable();
                println!(
                    "  last subscriber on target {}: {}",
                    target + 1,
                    percentiles(&latencies)
                );
            }
        }
    }
}

/// The nearest-rank percentile of a sorted, non-empty slice.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn percentiles(sorted: &[Duration]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
        ms(percentile(sorted, 0.50)),
        ms(percentile(sorted, 0.95)),
        ms(percentile(sorted, 0.99)),
        ms(*sorted.last().expect("non-empty")),
        sorted.len()
    )
}

/// Resident memory of a process in KiB (`VmRSS` in /proc), or `None` if it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resident memory of each pid, in the order given.
pub fn rss_all(pids: &[u32]) -> Vec<Option<u64>> {
    pids.iter().map(|p| rss_kib(*p)).collect()
}

pub fn print_rss(label: &str, pids: &[u32], rss: &[Option<u64>]) {
    for (pid, kib) in pids.iter().zip(rss) {
        match kib {
            Some(kib) => println!(
                "server pid {pid} RSS {label}: {:.1} MiB",
                *kib as f64 / 1024.0
            ),
            None => println!("server pid {pid} RSS {label}: process not found"),
        }
    }
}

/// CPU time a process has used (user + system), or `None` if it is gone. /proc counts
/// in clock ticks, which are 1/100 s on every Linux this runs on (`USER_HZ`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// CPU used by the servers and by the load generator itself over a phase of the run: on
/// a machine they share, this shows which side the cores went to.
pub struct CpuMeter {
    pids: Vec<u32>,
    start: Vec<Option<Duration>>,
    own: Option<Duration>,
    machine: Option<(u64, u64)>,
    wall: std::time::Instant,
}

/// Busy and total jiffies of all cores since boot (/proc/stat's `cpu` line; idle and
/// iowait count as not busy).
fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

impl CpuMeter {
    pub fn start(pids: &[u32]) -> Self {
        CpuMeter {
            pids: pids.to_vec(),
            start: pids.iter().map(|p| cpu_time(*p)).collect(),
            own: cpu_time(std::process::id()),
            machine: machine_jiffies(),
            wall: std::time::Instant::now(),
        }
    }

    pub fn print(&self) {
        let wall = self.wall.elapsed().as_secs_f64();
        let used = |before: Option<Duration>, pid: u32| -> Option<f64> {
            Some((cpu_time(pid)? - before?).as_secs_f64())
        };
        for (pid, before) in self.pids.iter().zip(&self.start) {
            if let Some(cpu) = used(*before, *pid) {
                println!(
                    "server pid {pid} CPU: {cpu:.1} s in {wall:.1} s ({:.0}% of one core)",
                    100.0 * cpu / wall
                );
            }
        }
        if let Some(cpu) = used(self.own, std::process::id()) {
            println!(
                "loadgen CPU: {cpu:.1} s in {wall:.1} s ({:.0}% of one core)",
                100.0 * cpu / wall
            );
        }
        // Everything else on the machine too: the database's processes, other users.
        if let (Some((busy0, total0)), Some((busy1, total1))) = (self.machine, machine_jiffies()) {
            println!(
                "machine CPU busy: {:.0}% of all cores",
                100.0 * (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64
            );
        }
    }
}

/// The machine, for the report: cores and CPU model.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_time_is_readable() {
        assert!(cpu_time(std::process::id()).is_some());
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&ms[..1], 0.99), Duration::from_millis(1));
    }

    #[test]
    fn an_event_counts_at_its_last_subscriber() {
        let d = Deliveries::new(2);
        let at = Utc::now() - chrono::Duration::milliseconds(5);
        d.arrived(0, 1, at, 0);
        d.arrived(0, 1, at - chrono::Duration::milliseconds(20), 1);
        let events = d.events.lock().unwrap();
        let a = &events[&(0, 1)];
        assert_eq!(a.count, 2);
        assert!(a.slowest >= Duration::from_millis(25));
        assert!(a.slowest_on[0] < a.slowest_on[1]);
        drop(events);
        d.arrived(0, 2, at, 1);
        let events = d.events.lock().unwrap();
        assert_eq!(events[&(0, 2)].slowest_on[0], None);
        drop(events);
        d.check_order(1, 2);
        d.check_order(2, 2);
        d.check_order(2, 5);
        assert_eq!(d.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(d.gaps.load(Ordering::Relaxed), 1);
    }
}
