//! Load generator for chat-server: registers users, creates rooms, opens one socket per member, sends
//! open-loop at a set rate, and reports sent / acked / delivered / expected, missing, duplicates,
//! out-of-order, deliveries per second and send→receive latency. `ramp` finds the highest rate whose p99 stays
//! under a bound; `idle` opens many quiet sockets and reports the server's memory per socket.
//!
//!   cargo run --release --example loadgen -- fixed --rate 5000 --duration 10
//!   cargo run --release --example loadgen -- ramp --start 2000 --step 2000 --max 20000
//!   cargo run --release --example loadgen -- idle --sockets 50000 --server-pid "$(pgrep -n chat-server)"
//!   cargo run --release --example loadgen -- history --sizes 10000,1000000
//!   cargo run --release --example loadgen -- search --messages 1000000
//!
//! The server must allow the per-socket frame rate used (CHAT_WS_FRAMES_PER_SEC) and enough open files.

mod client;
mod history;
mod run;
mod search;

use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;

use client::*;
use run::*;

#[derive(Parser)]
#[command(about = "Load generator for chat-server")]
struct Cli {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// One run at a fixed rate.
    Fixed {
        #[command(flatten)]
        shape: Shape,
        /// Messages per second, over all senders.
        #[arg(long, default_value_t = 5000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        duration: u64,
    },
    /// Rising rates until p99 exceeds the bound or anything is lost; reports the highest rate that held.
    Ramp {
        #[command(flatten)]
        shape: Shape,
        #[arg(long, default_value_t = 2000)]
        start: u64,
        #[arg(long, default_value_t = 2000)]
        step: u64,
        #[arg(long, default_value_t = 40000)]
        max: u64,
        /// Seconds per step.
        #[arg(long, default_value_t = 5)]
        duration: u64,
        #[arg(long, default_value_t = 100)]
        p99_ms: u64,
    },
    /// Open many idle sockets and report the server's resident memory per socket.
    Idle {
        #[arg(long, default_value_t = 10000)]
        sockets: usize,
        /// The server's process id, to read its resident memory.
        #[arg(long)]
        server_pid: u32,
        /// Users the sockets are spread over (each user may have many sessions).
        #[arg(long, default_value_t = 50)]
        users: usize,
    },
    /// Grow one conversation and time a 50-message page at each size.
    History {
        #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
        sizes: Vec<u64>,
        /// Pages fetched per kind and size.
        #[arg(long, default_value_t = 300)]
        samples: usize,
    },
    /// Store messages over many groups, a reader a member of some, and time searches of known selectivity.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        #[arg(long, default_value_t = 100)]
        rooms: usize,
        /// Groups the searcher is a member of.
        #[arg(long, default_value_t = 10)]
        visible: usize,
        /// Searches timed per query.
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
}

#[derive(Args, Clone)]
pub(crate) struct Shape {
    #[arg(long, default_value_t = 100)]
    pub(crate) rooms: usize,
    #[arg(long, default_value_t = 10)]
    pub(crate) members: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) senders_per_room: usize,
    /// Receivers report `delivered` for a conversation at most this often (0: never), as clients that draw
    /// delivered ticks do; 1 reports nearly every message, the worst case of a client that does not coalesce.
    #[arg(long, default_value_t = 0)]
    pub(crate) delivered_every_ms: u64,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn idle(client: &Client, sockets: usize, server_pid: u32, users: usize) {
    let tag = format!("{}", std::process::id());
    let mut sessions = Vec::new();
    for u in 0..users {
        sessions.push(client.register(&format!("idle{tag}u{u}")).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(server_pid);
    let began = Instant::now();
    let mut open = Vec::with_capacity(sockets);
    let mut connecting = futures_util::stream::iter((0..sockets).map(|i| {
        let token = sessions[i % users].access_token.clone();
        async move { client.socket(&token, i).await }
    }))
    .buffer_unordered(64);
    while let Some(ws) = connecting.next().await {
        open.push(ws);
        if open.len() % 10_000 == 0 {
            eprintln!("{} sockets open", open.len());
        }
    }
    let opened_in = began.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(server_pid);
    let per_socket = (after.saturating_sub(before)) as f64 / sockets as f64;
    println!(
        "idle: {sockets} sockets opened in {opened_in:.1?}; server RSS {} MiB → {} MiB; {per_socket:.1} KiB per socket",
        before / 1024,
        after / 1024
    );
    drop(open);
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let client = Client::new(&cli.url);
    let tag = format!("{}", std::process::id());
    match cli.mode {
        Mode::Fixed { shape, rate, duration } => {
            let rooms = setup(&client, &shape, &tag).await;
            let outcomes = drive(&client, &rooms, &shape, &[rate], Duration::from_secs(duration), None).await;
            let bad = outcomes.iter().any(|o| o.missing > 0 || o.duplicates > 0 || o.out_of_order > 0);
            std::process::exit(if bad { 1 } else { 0 });
        }
        Mode::Ramp { shape, start, step, max, duration, p99_ms } => {
            let rooms = setup(&client, &shape, &tag).await;
            let rates: Vec<u64> = (0..).map(|i| start + i * step).take_while(|r| *r <= max).collect();
            let outcomes =
                drive(&client, &rooms, &shape, &rates, Duration::from_secs(duration), Some(p99_ms as f64)).await;
            let best = outcomes
                .iter()
                .filter(|o| {
                    o.missing == 0
                        && o.duplicates == 0
                        && o.out_of_order == 0
                        && o.acked == o.sent
                        && o.p99_ms <= p99_ms as f64
                })
                .max_by_key(|o| o.rate);
            match best {
                Some(o) => println!(
                    "ramp: highest rate with p99 under {p99_ms} ms and nothing lost: {} msg/s = {:.0} deliveries/s (p99 {:.1} ms)",
                    o.rate,
                    o.delivered as f64 / o.seconds,
                    o.p99_ms
                ),
                None => println!("ramp: no rate held p99 under {p99_ms} ms"),
            }
        }
        Mode::Idle { sockets, server_pid, users } => idle(&client, sockets, server_pid, users).await,
        Mode::History { sizes, samples } => history::history(&client, &sizes, samples, &tag).await,
        Mode::Search { messages, rooms, visible, samples } => {
            search::search(&client, messages, rooms, visible, samples, &tag).await
        }
    }
}
