//! `loadgen`: a load generator for Päivystys' realtime endpoints (issue 9).
//!
//! Opens worker consoles (log in, `GET /api/v1/ws` with the session cookie, follow `desk`)
//! and anonymous chat clients (open a chat, `auth` frame, follow `chat:<id>`) against one
//! or more servers on this machine, drives writes at a chosen rate, and reports the
//! latency from an event's commit stamp (`at`) to its arrival at the last subscriber, the
//! write acknowledgement latency, throughput, errors and the servers' resident memory.
//! Every run is bounded by `--duration` (and `--writes`) and stops by itself.
//!
//!     LOADGEN_PASSWORD=… loadgen --mode fanout --target http://127.0.0.1:8080 \
//!         --workers 1000 --rate 50 --username bench --server-pid $(pidof paivystys)
//!
//! Only loopback targets are accepted (127.0.0.0/8, ::1, localhost); see
//! `examples/realtime-bench.sh` and docs/BENCHMARKS.md for the recorded runs.

mod args;
mod client;
mod modes;
mod stats;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let plan = match args::Args::parse().plan() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::from(2);
        }
    };
    // The whole run, setup included, has a ceiling, so a stuck server cannot keep the
    // load generator (and its tens of thousands of sockets) alive.
    let ceiling = plan.setup_timeout + plan.restart_after + 2 * (plan.duration + plan.settle);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let result = runtime.block_on(async {
        tokio::time::timeout(ceiling, modes::run(plan))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the run passed its time ceiling; stopped")))
    });
    // Sockets still open are dropped with the runtime, not waited on.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}
