//! `webhook-bench`: how many webhook deliveries per second tidemarkd acknowledges, and how fast,
//! against the reference Node receiver (`@octokit/webhooks`' `createNodeMiddleware` on
//! `node:http`) in the same run. Prints figures; asserts nothing but the durability check.
//!
//! `cargo build --release --workspace && target/release/webhook-bench [SECONDS] [CONNECTIONS]
//! [--rounds N] [--no-node]`
//!
//! A 21,504-byte `pull_request.opened` body signed with the team's webhook secret, a unique
//! `X-GitHub-Delivery` per request and a body of its own (it ends with the delivery id: the
//! same body again would be a replay, acknowledged without being stored; the signature is the
//! HMAC state after the shared part, cloned, over the last bytes), CONNECTIONS (64) keep-alive connections sending back to back
//! for SECONDS (10); then the same with 1,000 badly signed deliveries per second mixed in on
//! connections of their own. Each round measures tidemarkd and the Node receiver alternately
//! (Node runs throughout), so a machine getting busier or quieter weighs on both; before each
//! measurement both receivers are let settle (neither still busy with the last one). Each round has
//! a fresh tidemarkd, killed at the round's end (SIGKILL: a clean exit flushes the store, which
//! would hide a missing flush before an acknowledgement); its store must hold every delivery it
//! acknowledged. (Nothing is applied, GitHub being unreachable, so a round's deliveries stay on
//! disk: about 10 GB for a round of 10-second phases; its backlog cap is lifted.) The Node
//! receiver (`tests/bench/node-receiver/`, embedded) is installed with `npm ci` into a scratch
//! folder; if that fails (no registry, no node), its part is skipped.

// serde_json's json! macro recurses once per field.
#![recursion_limit = "512"]

use anyhow::{Context, Result, bail};
use clap::Parser;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidemark_tests::harness::{Daemon, Sandbox, open_store, seed_connected_team, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "bench-webhook-secret-4f1c2a9e7d";
const REPO_ID: u64 = 1_296_269;
const HOOK_ID: u64 = 48_151_623;
const NODE_PACKAGE: &str = include_str!("../../bench/node-receiver/package.json");
const NODE_LOCK: &str = include_str!("../../bench/node-receiver/package-lock.json");
const NODE_SERVER: &str = include_str!("../../bench/node-receiver/server.mjs");

#[derive(Parser)]
#[command(about = "Webhook receiver throughput and acknowledgement latency: tidemarkd vs Node")]
struct Args {
    /// Seconds of load per measurement.
    #[arg(default_value_t = 10)]
    seconds: u64,
    /// Concurrent keep-alive connections sending valid deliveries.
    #[arg(default_value_t = 64)]
    connections: usize,
    /// Invalid (badly signed) deliveries per second in the mixed run.
    #[arg(long, default_value_t = 1_000)]
    invalid_per_sec: u64,
    /// Connections the invalid deliveries come over (each sends on its own schedule, catching
    /// up when an answer was slow, so the rate holds while answers take < CONNS/RATE seconds).
    #[arg(long, default_value_t = 32)]
    invalid_connections: usize,
    /// Size of the pull_request body, in bytes.
    #[arg(long, default_value_t = 21 * 1024)]
    body_bytes: usize,
    /// Rounds of the four measurements (tidemarkd and node, each valid only then with invalid
    /// deliveries); the summary gives medians.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Skip the Node reference receiver.
    #[arg(long)]
    no_node: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let load = Arc::new(Load::new(args.body_bytes));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "webhook-bench: {} B pull_request body (each delivery's its own), {} connections × {} s, {} round(s); the mixed run adds {} invalid deliveries/s over {} more connections; load generator in this process ({} cores)",
        load.body_len(),
        args.connections,
        args.seconds,
        args.rounds,
        args.invalid_per_sec,
        args.invalid_connections,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // The Node reference, running throughout; measurements alternate between the two, so a
    // machine that gets busier or quieter meanwhile weighs on both alike.
    let node = if args.no_node {
        println!("node: skipped (--no-node)");
        None
    } else {
        match NodeReceiver::start() {
            Ok(node) => Some(node),
            Err(e) => {
                println!("node: skipped ({e:#})");
                None
            }
        }
    };
    let node_target = node.as_ref().map(|n| Target {
        name: "node",
        addr: n.addr,
        hook_id: Some(HOOK_ID),
        pid: n.child.id(),
    });
    if let Some(t) = &node_target {
        rt.block_on(warm_up(t, &load, args.connections))?;
    }

    // results[target][run] over the rounds (tidemarkd first); run 0 valid only, 1 with invalid.
    let mut results: Vec<[Vec<Phase>; 2]> = vec![[vec![], vec![]], [vec![], vec![]]];
    let mut durable = (0u64, 0u64);
    for round in 1..=args.rounds {
        // A fresh tidemarkd each round, killed and checked at its end: what it acknowledged
        // stays in its inbox (GitHub is unreachable, nothing is applied), so one daemon over
        // every round would need tens of GB of disk.
        let ours = OurDaemon::start()?;
        let mut acked = rt.block_on(warm_up(&ours.target, &load, args.connections))?;
        for (run, invalid) in [(0, 0), (1, args.invalid_per_sec)] {
            let mut targets = vec![&ours.target];
            targets.extend(node_target.as_ref());
            for (i, t) in targets.iter().enumerate() {
                let tag = format!("{round}{run}{i}");
                // Neither receiver may still be busy with the last phase (Node's garbage
                // collector, sled's background flush) while the other is measured.
                let pids: Vec<u32> = targets.iter().map(|t| t.pid).collect();
                settle(&pids);
                let p = rt.block_on(phase(t, &load, &args, invalid, &tag))?;
                report(t.name, RUNS[run], round, &p);
                if i == 0 {
                    acked.extend(p.acked.iter().cloned());
                }
                results[i][run].push(p);
            }
        }
        let (n, lost) = ours.kill_and_check(&acked)?;
        durable.0 += n;
        durable.1 += lost;
    }
    drop(node);
    if durable.1 > 0 {
        bail!(
            "{} of {} acknowledged deliveries are not in the store",
            durable.1,
            durable.0
        );
    }
    let mut names = vec!["tidemarkd"];
    names.extend(node_target.as_ref().map(|t| t.name));
    results.truncate(names.len());

    println!();
    println!(
        "summary: acknowledged valid deliveries per second and their latency (request sent → response read), median over {} round(s)",
        args.rounds
    );
    println!(
        "  {:<10} {:<13} {:>10} {:>9} {:>9} {:>12}   (per round: deliv/s, p99 ms)",
        "receiver", "run", "deliv/s", "p50 ms", "p99 ms", "CPU µs/deliv"
    );
    let mut medians = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut row = [(0.0, 0.0, 0.0); 2];
        for run in 0..2 {
            let phases = &results[i][run];
            let rate = median(phases.iter().map(Phase::rate));
            let p50 = median(phases.iter().map(|p| p.percentile_ms(50.0)));
            let p99 = median(phases.iter().map(|p| p.percentile_ms(99.0)));
            let cpu = median(phases.iter().map(Phase::cpu_us_per_delivery));
            let rounds = phases
                .iter()
                .map(|p| format!("{:.0}, {:.1}", p.rate(), p.percentile_ms(99.0)))
                .collect::<Vec<_>>()
                .join("; ");
            println!(
                "  {:<10} {:<13} {rate:>10.0} {p50:>9.2} {p99:>9.2} {cpu:>12.0}   ({rounds})",
                name, RUNS[run]
            );
            row[run] = (rate, p99, cpu);
        }
        medians.push(row);
    }
    println!(
        "  every acknowledged delivery durable after SIGKILL: {} of {}",
        durable.0 - durable.1,
        durable.0
    );
    let ours_p99 = medians[0][0].1.max(medians[0][1].1);
    println!(
        "  goal p99 ≤ 10 ms: {} ({ours_p99:.2} ms)",
        if ours_p99 <= 10.0 { "met" } else { "missed" }
    );
    if medians.len() > 1 {
        let ratios = [
            medians[0][0].0 / medians[1][0].0,
            medians[0][1].0 / medians[1][1].0,
        ];
        println!(
            "  tidemarkd / node throughput: {:.2}× (valid only), {:.2}× (with invalid)",
            ratios[0], ratios[1]
        );
        println!(
            "  node / tidemarkd CPU per delivery: {:.2}× (valid only), {:.2}× (with invalid)",
            medians[1][0].2 / medians[0][0].2,
            medians[1][1].2 / medians[0][1].2
        );
        println!(
            "  goal ≥ 3× node's throughput: {}",
            if ratios[0].min(ratios[1]) >= 3.0 {
                "met"
            } else {
                "missed"
            }
        );
    }
    Ok(())
}

const RUNS: [&str; 2] = ["valid only", "with invalid"];

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A tidemarkd in a sandbox of its own, with a connected team whose repository's hook the
/// deliveries name.
struct OurDaemon {
    target: Target,
    daemon: Daemon,
    team: u64,
    sandbox: Sandbox,
}

impl OurDaemon {
    fn start() -> Result<OurDaemon> {
        let sandbox = Sandbox::new();
        let team = seed_connected_team(&sandbox, "bench", "gho_bench", "ghr_bench", SECRET);
        {
            let store = open_store(&sandbox);
            store.set_repo_webhook(team, REPO_ID, Some(HOOK_ID))?;
            store.flush()?;
        }
        // GitHub at a closed port: the applier cannot refetch, so deliveries stay in the inbox.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
            // Everything acknowledged stays waiting: no cap (a round holds ~10 GB).
            cmd.arg("--webhook-addr")
                .arg("127.0.0.1:0")
                .arg("--webhook-backlog-max")
                .arg("100000000")
                .env("TIDEMARK_GITHUB_API_URL", format!("http://{closed}"))
                .env("RUST_LOG", "info");
        });
        let url = daemon.webhook_url();
        let target = Target {
            name: "tidemarkd",
            addr: url.trim_start_matches("http://").parse()?,
            hook_id: Some(HOOK_ID),
            pid: daemon.pid() as u32,
        };
        println!("tidemarkd on {}", target.addr);
        Ok(OurDaemon {
            target,
            daemon,
            team,
            sandbox,
        })
    }

    /// SIGKILL it (a clean exit would flush, hiding a missing flush before an acknowledgement),
    /// then check that its store holds every delivery it acknowledged: (acknowledged, missing).
    fn kill_and_check(self, acked: &[String]) -> Result<(u64, u64)> {
        let rss = rss_kb(self.daemon.pid());
        self.daemon.kill();
        if let Some(kb) = rss {
            println!("tidemarkd RSS at the end: {:.0} MB", kb as f64 / 1024.0);
        }
        let missing = durability(&self.sandbox, self.team, acked)?;
        Ok((acked.len() as u64, missing))
    }
}

/// Every acknowledged delivery is in the store (waiting in the inbox, or applied), and the inbox
/// holds nothing that was not acknowledged. Returns how many are missing.
fn durability(sandbox: &Sandbox, team: u64, acked: &[String]) -> Result<u64> {
    let t = Instant::now();
    let store = open_store(sandbox);
    let opened = t.elapsed();
    let inbox = store.inbox_guids(team)?;
    let in_inbox: HashSet<&str> = inbox.iter().map(String::as_str).collect();
    let mut missing = 0u64;
    let mut applied = 0u64;
    for guid in acked {
        if !in_inbox.contains(guid.as_str()) {
            if store.delivery_seen(team, guid)? {
                applied += 1;
            } else {
                missing += 1;
            }
        }
    }
    let acked_set: HashSet<&str> = acked.iter().map(String::as_str).collect();
    let unacked = inbox
        .iter()
        .filter(|g| !acked_set.contains(g.as_str()))
        .count();
    println!(
        "durability after SIGKILL: {} acknowledged, {} in the inbox + {} applied, {} missing, {} stored but not acknowledged (store opened in {:.1} s, every body read back and checked in {:.1} s; {:.1} GB on disk)",
        acked.len(),
        inbox.len(),
        applied,
        missing,
        unacked,
        opened.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        dir_size(&sandbox.data_dir()) as f64 / 1e9
    );
    Ok(missing)
}

/// The deliveries' bodies: one shared part, then each delivery's id and the closing brace.
struct Load {
    prefix: Vec<u8>,
    /// The HMAC after `prefix` with the secret, and with another key.
    good: Hmac<Sha256>,
    bad: Hmac<Sha256>,
}

impl Load {
    fn new(body_bytes: usize) -> Load {
        let tail_len = Load::tail(&guid("w", 0, 0)).len();
        let mut prefix = pull_request_body(body_bytes - tail_len + 1);
        // Its closing brace comes back with the tail.
        assert_eq!(prefix.pop(), Some(b'}'));
        let mac = |key: &[u8]| {
            let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
            m.update(&prefix);
            m
        };
        let (good, bad) = (mac(SECRET.as_bytes()), mac(b"not the webhook secret"));
        Load { prefix, good, bad }
    }

    /// What follows the shared part for delivery `guid` (every guid has the same length).
    fn tail(guid: &str) -> Vec<u8> {
        format!(r#","bench_delivery":"{guid}"}}"#).into_bytes()
    }

    fn body_len(&self) -> usize {
        self.prefix.len() + Load::tail(&guid("w", 0, 0)).len()
    }

    /// Delivery `guid`'s tail and its X-Hub-Signature-256, with the secret or another key.
    fn signed(&self, guid: &str, valid: bool) -> (Vec<u8>, String) {
        let tail = Load::tail(guid);
        let mut mac = if valid { &self.good } else { &self.bad }.clone();
        mac.update(&tail);
        let mut sig = String::from("sha256=");
        sig.push_str(&hex::encode(mac.finalize().into_bytes()));
        (tail, sig)
    }
}

struct Target {
    name: &'static str,
    addr: SocketAddr,
    hook_id: Option<u64>,
    /// The receiver's process, for its CPU time.
    pid: u32,
}

/// Wait (up to 10 s) until none of `pids` uses more than 5% of a core over a quarter second.
fn settle(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let window = Duration::from_millis(250);
    loop {
        let before: Vec<_> = pids.iter().map(|p| cpu_time(*p)).collect();
        std::thread::sleep(window);
        let busy = pids.iter().zip(before).any(|(p, b)| {
            cpu_time(*p)
                .zip(b)
                .is_some_and(|(a, b)| a.saturating_sub(b) > window / 20)
        });
        if !busy || Instant::now() >= deadline {
            return;
        }
    }
}

/// CPU time (user + system) a process has used so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Duration::from_secs_f64(ticks as f64 / per_sec))
}

/// One measurement.
#[derive(Default)]
struct Phase {
    /// Delivery ids answered 2xx.
    acked: Vec<String>,
    /// Microseconds from request sent to response read, of the acknowledged valid deliveries.
    latencies: Vec<u32>,
    /// Valid deliveries answered otherwise (status → count; 0 = connection error).
    valid_refused: BTreeMap<u16, u64>,
    invalid_sent: u64,
    /// Invalid deliveries by answer.
    invalid_answers: BTreeMap<u16, u64>,
    elapsed: Duration,
    /// The receiver's CPU time over the phase.
    cpu: Option<Duration>,
    /// This process's (the load generator's) CPU time over the phase.
    generator_cpu: Option<Duration>,
}

impl Phase {
    /// The receiver's CPU microseconds per delivery it answered (valid and invalid): what it
    /// costs, whatever else the machine is doing.
    fn cpu_us_per_delivery(&self) -> f64 {
        let answered = self.acked.len() as u64 + self.invalid_sent;
        match self.cpu {
            Some(cpu) if answered > 0 => cpu.as_secs_f64() * 1e6 / answered as f64,
            _ => f64::NAN,
        }
    }

    /// The load generator's CPU microseconds per delivery sent: what the two cores had left.
    fn generator_us_per_delivery(&self) -> f64 {
        let sent = self.acked.len() as u64 + self.invalid_sent;
        match self.generator_cpu {
            Some(cpu) if sent > 0 => cpu.as_secs_f64() * 1e6 / sent as f64,
            _ => f64::NAN,
        }
    }

    fn rate(&self) -> f64 {
        self.acked.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest rank; latencies must be sorted.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1] as f64 / 1000.0
    }
}

fn report(who: &str, run: &str, round: usize, p: &Phase) {
    let mut line = format!(
        "round {round} {who} {run}: {} acknowledged in {:.2} s = {:.0} deliveries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        p.acked.len(),
        p.elapsed.as_secs_f64(),
        p.rate(),
        p.percentile_ms(50.0),
        p.percentile_ms(99.0),
        p.percentile_ms(100.0)
    );
    line.push_str(&format!(
        ", receiver CPU {:.0} µs per delivery (load generator {:.0} µs)",
        p.cpu_us_per_delivery(),
        p.generator_us_per_delivery()
    ));
    if !p.valid_refused.is_empty() {
        line.push_str(&format!("; valid NOT acknowledged: {:?}", p.valid_refused));
    }
    if p.invalid_sent > 0 {
        line.push_str(&format!(
            "; {} invalid sent ({:.0}/s), answers {:?}",
            p.invalid_sent,
            p.invalid_sent as f64 / p.elapsed.as_secs_f64(),
            p.invalid_answers
        ));
    }
    println!("{line}");
}

/// A second of load, not measured (connections opened, caches and allocators warm); the delivery
/// ids acknowledged.
async fn warm_up(target: &Target, load: &Arc<Load>, conns: usize) -> Result<Vec<String>> {
    let args = Args {
        seconds: 1,
        connections: conns,
        invalid_per_sec: 0,
        invalid_connections: 0,
        body_bytes: load.body_len(),
        rounds: 1,
        no_node: true,
    };
    let p = phase(target, load, &args, 0, "w").await?;
    if p.acked.is_empty() {
        bail!(
            "{}: no delivery acknowledged while warming up: {:?}",
            target.name,
            p.valid_refused
        );
    }
    Ok(p.acked)
}

async fn phase(
    target: &Target,
    load: &Arc<Load>,
    args: &Args,
    invalid_per_sec: u64,
    tag: &str,
) -> Result<Phase> {
    let started = Instant::now();
    let cpu_before = cpu_time(target.pid);
    let generator_before = cpu_time(std::process::id());
    let deadline = started + Duration::from_secs(args.seconds);
    let mut valid = Vec::new();
    for c in 0..args.connections {
        let load = load.clone();
        let (addr, hook) = (target.addr, target.hook_id);
        let tag = tag.to_string();
        valid.push(tokio::spawn(async move {
            let mut out = Phase::default();
            let mut conn = Conn::new(addr);
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let guid = guid(&tag, c as u64, i);
                let t = Instant::now();
                let status = conn.deliver(&load, &guid, true, hook).await;
                let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                match status {
                    Some(s) if (200..300).contains(&s) => {
                        out.acked.push(guid);
                        out.latencies.push(us);
                    }
                    s => *out.valid_refused.entry(s.unwrap_or(0)).or_default() += 1,
                }
            }
            out
        }));
    }
    let mut invalid = Vec::new();
    if invalid_per_sec > 0 {
        let n = args.invalid_connections.max(1);
        let every = Duration::from_secs_f64(n as f64 / invalid_per_sec as f64);
        for c in 0..n {
            let load = load.clone();
            let (addr, hook) = (target.addr, target.hook_id);
            let tag = tag.to_string();
            invalid.push(tokio::spawn(async move {
                let mut out = Phase::default();
                let mut conn = Conn::new(addr);
                // Spread the connections over the interval.
                let start = tokio::time::Instant::now() + every.mul_f64(c as f64 / n as f64);
                let mut tick = tokio::time::interval_at(start, every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut i = 0u64;
                loop {
                    tick.tick().await;
                    if Instant::now() >= deadline {
                        break;
                    }
                    i += 1;
                    let guid = guid(&format!("{tag}x"), c as u64, i);
                    let status = conn.deliver(&load, &guid, false, hook).await;
                    out.invalid_sent += 1;
                    *out.invalid_answers.entry(status.unwrap_or(0)).or_default() += 1;
                }
                out
            }));
        }
    }
    let mut total = Phase::default();
    for task in valid.into_iter().chain(invalid) {
        let p = task.await?;
        total.acked.extend(p.acked);
        total.latencies.extend(p.latencies);
        for (k, v) in p.valid_refused {
            *total.valid_refused.entry(k).or_default() += v;
        }
        total.invalid_sent += p.invalid_sent;
        for (k, v) in p.invalid_answers {
            *total.invalid_answers.entry(k).or_default() += v;
        }
    }
    total.elapsed = started.elapsed();
    total.cpu = cpu_time(target.pid)
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    total.generator_cpu = cpu_time(std::process::id())
        .zip(generator_before)
        .map(|(after, before)| after.saturating_sub(before));
    total.latencies.sort_unstable();
    Ok(total)
}

/// A GitHub-looking delivery id (a UUID's shape), unique per run, connection and request.
fn guid(tag: &str, conn: u64, i: u64) -> String {
    let tag = tag.bytes().fold(0u64, |a, b| a << 8 | b as u64);
    format!(
        "{:08x}-{:04x}-4{:03x}-8000-{:012x}",
        tag as u32,
        (tag >> 32) as u16,
        conn & 0xfff,
        i
    )
}

/// One keep-alive HTTP/1.1 connection, reopened when the server closes it.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            out: Vec::new(),
            buf: Vec::with_capacity(4096),
        }
    }

    /// POST one delivery; the response's status, or None if the connection failed.
    async fn deliver(
        &mut self,
        load: &Load,
        guid: &str,
        valid: bool,
        hook: Option<u64>,
    ) -> Option<u16> {
        use std::fmt::Write;
        let (tail, signature) = load.signed(guid, valid);
        let mut head = String::with_capacity(512);
        let _ = write!(
            head,
            "POST /webhooks/github HTTP/1.1\r\nHost: {}\r\nUser-Agent: GitHub-Hookshot/bench\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {guid}\r\nX-Hub-Signature-256: {signature}\r\n",
            self.addr,
            load.prefix.len() + tail.len()
        );
        if let Some(h) = hook {
            let _ = write!(
                head,
                "X-GitHub-Hook-ID: {h}\r\nX-GitHub-Hook-Installation-Target-Type: repository\r\nX-GitHub-Hook-Installation-Target-ID: {REPO_ID}\r\n"
            );
        }
        head.push_str("\r\n");
        self.out.clear();
        self.out.extend_from_slice(head.as_bytes());
        self.out.extend_from_slice(&load.prefix);
        self.out.extend_from_slice(&tail);
        match self.exchange().await {
            Ok((status, keep)) => {
                if !keep {
                    self.stream = None;
                }
                Some(status)
            }
            Err(_) => {
                self.stream = None;
                None
            }
        }
    }

    async fn exchange(&mut self) -> std::io::Result<(u16, bool)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let stream = self.stream.as_mut().expect("connected");
        stream.write_all(&self.out).await?;
        self.buf.clear();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) = resp
                .parse(&self.buf)
                .map_err(|e| std::io::Error::other(e.to_string()))?
            {
                let status = resp.code.unwrap_or(0);
                let mut length = 0usize;
                let mut keep = resp.version == Some(1);
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        keep = !h.value.eq_ignore_ascii_case(b"close");
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        // Not expected from either receiver; read to the end.
                        keep = false;
                        length = usize::MAX;
                    }
                }
                let need = head_len.saturating_add(length);
                while self.buf.len() < need {
                    if read_more(stream, &mut self.buf).await? == 0 {
                        if length == usize::MAX {
                            break;
                        }
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                }
                return Ok((status, keep));
            }
            if read_more(stream, &mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let len = buf.len();
    buf.resize(len + 4096, 0);
    let n = stream.read(&mut buf[len..]).await;
    buf.truncate(len + *n.as_ref().unwrap_or(&0));
    n
}

/// The reference receiver, installed into a scratch folder and running.
struct NodeReceiver {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl NodeReceiver {
    fn start() -> Result<NodeReceiver> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("package.json"), NODE_PACKAGE)?;
        std::fs::write(dir.path().join("package-lock.json"), NODE_LOCK)?;
        std::fs::write(dir.path().join("server.mjs"), NODE_SERVER)?;
        let version = Command::new("node")
            .arg("--version")
            .output()
            .context("node is not installed")?;
        let t = Instant::now();
        let npm = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .context("npm is not installed")?;
        if !npm.status.success() {
            bail!(
                "npm ci failed (no registry?): {}",
                String::from_utf8_lossy(&npm.stderr).trim()
            );
        }
        let installed: serde_json::Value = serde_json::from_slice(&std::fs::read(
            dir.path()
                .join("node_modules/@octokit/webhooks/package.json"),
        )?)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg(port.to_string())
            .env("WEBHOOK_SECRET", SECRET)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let log_path = dir.path().join("server.log");
        wait_until(
            Duration::from_secs(20),
            "the node receiver to listen",
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "the node receiver exited with {status}: {}",
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    );
                }
                std::net::TcpStream::connect(addr).ok()
            },
        );
        println!(
            "node {}: @octokit/webhooks {} (npm ci in {:.1} s) on {addr}",
            String::from_utf8_lossy(&version.stdout).trim(),
            installed["version"].as_str().unwrap_or("?"),
            t.elapsed().as_secs_f64()
        );
        Ok(NodeReceiver {
            child,
            addr,
            _dir: dir,
        })
    }
}

impl Drop for NodeReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            total += dir_size(&path);
        } else {
            total += entry.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

/// Resident set of a process, from /proc (Linux only).
fn rss_kb(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `pull_request.opened` delivery as GitHub sends it (fields and nesting of the real event),
/// its description padded so the whole body is `size` bytes.
fn pull_request_body(size: usize) -> Vec<u8> {
    let user = |login: &str, id: u64| {
        json!({
            "login": login, "id": id, "node_id": format!("MDQ6VXNlcj{id}"),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
            "gravatar_id": "", "url": format!("https://api.github.com/users/{login}"),
            "html_url": format!("https://github.com/{login}"),
            "type": "User", "user_view_type": "public", "site_admin": false
        })
    };
    let repo = || {
        let base = "https://api.github.com/repos/octo-org/hello-world";
        json!({
            "id": REPO_ID, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "hello-world",
            "full_name": "octo-org/hello-world", "private": false,
            "owner": user("octo-org", 9_919),
            "html_url": "https://github.com/octo-org/hello-world",
            "description": "This your first repo!", "fork": false, "url": base,
            "forks_url": format!("{base}/forks"), "keys_url": format!("{base}/keys{{/key_id}}"),
            "collaborators_url": format!("{base}/collaborators{{/collaborator}}"),
            "teams_url": format!("{base}/teams"), "hooks_url": format!("{base}/hooks"),
            "issue_events_url": format!("{base}/issues/events{{/number}}"),
            "events_url": format!("{base}/events"), "assignees_url": format!("{base}/assignees{{/user}}"),
            "branches_url": format!("{base}/branches{{/branch}}"), "tags_url": format!("{base}/tags"),
            "blobs_url": format!("{base}/git/blobs{{/sha}}"), "git_tags_url": format!("{base}/git/tags{{/sha}}"),
            "git_refs_url": format!("{base}/git/refs{{/sha}}"), "trees_url": format!("{base}/git/trees{{/sha}}"),
            "statuses_url": format!("{base}/statuses/{{sha}}"), "languages_url": format!("{base}/languages"),
            "stargazers_url": format!("{base}/stargazers"), "contributors_url": format!("{base}/contributors"),
            "subscribers_url": format!("{base}/subscribers"), "subscription_url": format!("{base}/subscription"),
            "commits_url": format!("{base}/commits{{/sha}}"), "git_commits_url": format!("{base}/git/commits{{/sha}}"),
            "comments_url": format!("{base}/comments{{/number}}"),
            "issue_comment_url": format!("{base}/issues/comments{{/number}}"),
            "contents_url": format!("{base}/contents/{{+path}}"),
            "compare_url": format!("{base}/compare/{{base}}...{{head}}"),
            "merges_url": format!("{base}/merges"), "archive_url": format!("{base}/{{archive_format}}{{/ref}}"),
            "downloads_url": format!("{base}/downloads"), "issues_url": format!("{base}/issues{{/number}}"),
            "pulls_url": format!("{base}/pulls{{/number}}"), "milestones_url": format!("{base}/milestones{{/number}}"),
            "notifications_url": format!("{base}/notifications{{?since,all,participating}}"),
            "labels_url": format!("{base}/labels{{/name}}"), "releases_url": format!("{base}/releases{{/id}}"),
            "deployments_url": format!("{base}/deployments"),
            "created_at": "2011-01-26T19:01:12Z", "updated_at": "2024-05-02T10:11:12Z",
            "pushed_at": "2024-05-02T10:11:10Z",
            "git_url": "git://github.com/octo-org/hello-world.git",
            "ssh_url": "git@github.com:octo-org/hello-world.git",
            "clone_url": "https://github.com/octo-org/hello-world.git",
            "svn_url": "https://github.com/octo-org/hello-world", "homepage": null,
            "size": 108, "stargazers_count": 80, "watchers_count": 80, "language": "Rust",
            "has_issues": true, "has_projects": true, "has_downloads": true, "has_wiki": true,
            "has_pages": false, "has_discussions": false, "forks_count": 9, "mirror_url": null,
            "archived": false, "disabled": false, "open_issues_count": 2, "license": null,
            "allow_forking": true, "is_template": false, "web_commit_signoff_required": false,
            "topics": [], "visibility": "public", "forks": 9, "open_issues": 2, "watchers": 80,
            "default_branch": "main", "allow_squash_merge": true, "allow_merge_commit": true,
            "allow_rebase_merge": true, "allow_auto_merge": false, "delete_branch_on_merge": false,
            "allow_update_branch": false, "use_squash_pr_title_as_default": false,
            "squash_merge_commit_message": "COMMIT_MESSAGES", "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
            "merge_commit_message": "PR_TITLE", "merge_commit_title": "MERGE_MESSAGE"
        })
    };
    let pr_url = "https://api.github.com/repos/octo-org/hello-world/pulls/1347";
    let mut event = json!({
        "action": "opened",
        "number": 1347,
        "pull_request": {
            "url": pr_url, "id": 1_890_123_456u64, "node_id": "PR_kwDOABPHjc5wqL7A",
            "html_url": "https://github.com/octo-org/hello-world/pull/1347",
            "diff_url": "https://github.com/octo-org/hello-world/pull/1347.diff",
            "patch_url": "https://github.com/octo-org/hello-world/pull/1347.patch",
            "issue_url": "https://api.github.com/repos/octo-org/hello-world/issues/1347",
            "number": 1347, "state": "open", "locked": false,
            "title": "Batch webhook inbox writes and acknowledge after the flush",
            "user": user("octocat", 583_231),
            "body": "",
            "created_at": "2024-05-02T10:11:12Z", "updated_at": "2024-05-02T10:11:12Z",
            "closed_at": null, "merged_at": null, "merge_commit_sha": null,
            "assignee": null, "assignees": [], "requested_reviewers": [user("hubot", 1_000_001)],
            "requested_teams": [], "labels": [], "milestone": null, "draft": false,
            "commits_url": format!("{pr_url}/commits"), "review_comments_url": format!("{pr_url}/comments"),
            "review_comment_url": "https://api.github.com/repos/octo-org/hello-world/pulls/comments{/number}",
            "comments_url": "https://api.github.com/repos/octo-org/hello-world/issues/1347/comments",
            "statuses_url": "https://api.github.com/repos/octo-org/hello-world/statuses/6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "head": {
                "label": "octocat:inbox-batching", "ref": "inbox-batching",
                "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                "user": user("octocat", 583_231), "repo": repo()
            },
            "base": {
                "label": "octo-org:main", "ref": "main",
                "sha": "7638417db6d59f3c431d3e1f261cc637155684cd",
                "user": user("octo-org", 9_919), "repo": repo()
            },
            "_links": {
                "self": {"href": pr_url},
                "html": {"href": "https://github.com/octo-org/hello-world/pull/1347"},
                "issue": {"href": "https://api.github.com/repos/octo-org/hello-world/issues/1347"},
                "comments": {"href": "https://api.github.com/repos/octo-org/hello-world/issues/1347/comments"},
                "review_comments": {"href": format!("{pr_url}/comments")},
                "review_comment": {"href": "https://api.github.com/repos/octo-org/hello-world/pulls/comments{/number}"},
                "commits": {"href": format!("{pr_url}/commits")},
                "statuses": {"href": "https://api.github.com/repos/octo-org/hello-world/statuses/6dcb09b5b57875f334f61aebed695e2e4193db5e"}
            },
            "author_association": "MEMBER", "auto_merge": null, "active_lock_reason": null,
            "merged": false, "mergeable": null, "rebaseable": null, "mergeable_state": "unknown",
            "merged_by": null, "comments": 0, "review_comments": 0, "maintainer_can_modify": false,
            "commits": 3, "additions": 214, "deletions": 37, "changed_files": 6
        },
        "repository": repo(),
        "organization": {
            "login": "octo-org", "id": 9_919, "node_id": "MDEyOk9yZ2FuaXphdGlvbjk5MTk=",
            "url": "https://api.github.com/orgs/octo-org",
            "repos_url": "https://api.github.com/orgs/octo-org/repos",
            "events_url": "https://api.github.com/orgs/octo-org/events",
            "hooks_url": "https://api.github.com/orgs/octo-org/hooks",
            "issues_url": "https://api.github.com/orgs/octo-org/issues",
            "members_url": "https://api.github.com/orgs/octo-org/members{/member}",
            "public_members_url": "https://api.github.com/orgs/octo-org/public_members{/member}",
            "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4",
            "description": ""
        },
        "sender": user("octocat", 583_231)
    });
    let empty = serde_json::to_vec(&event).expect("json").len();
    // The description: plain markdown prose, no character JSON would escape.
    let words = "This change batches the inbox writes of concurrent deliveries into one sled \
                 batch and one flush, and only then answers them. Reviewers: see the notes on \
                 durability, the dedupe by delivery id, and the figures in the benchmark. ";
    let need = size.checked_sub(empty).unwrap_or_else(|| {
        panic!("a body of {size} B is too small: the event without its description takes {empty} B")
    });
    let text: String = words.chars().cycle().take(need).collect();
    event["pull_request"]["body"] = serde_json::Value::String(text);
    let body = serde_json::to_vec(&event).expect("json");
    assert_eq!(body.len(), size);
    body
}
