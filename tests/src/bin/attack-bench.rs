//! `attack-bench`: tidemarkd's webhook port and RPC socket under attack, on loopback, against
//! the real daemon and the GitHub simulator. Prints figures against the goals; asserts nothing.
//!
//!   cargo build --release --workspace && target/release/attack-bench [--phase-secs N]
//!
//! Throughout, a legitimate sender posts signed `pull_request` deliveries (distinct bodies,
//! fresh ids) at a steady rate, and its acknowledgements are timed. First the replay flood alone
//! for `--replay-secs` (60), after the captured delivery was sent once and applied (its re-read
//! is its own cost; what follows is the flood's). Then phases, each `--phase-secs` (10) long: a
//! quiet baseline; 2,000 idle connections; 100 connections sending unsigned
//! 25 MB bodies; a replay flood of one captured signed delivery with fresh delivery ids;
//! deliveries for unknown hook ids; a local user's RPC flood (partial 16 MB frames and calls);
//! then all of them together. After the last phase it waits for the daemon to apply what it
//! acknowledged. Goals (issue 15): every legitimate delivery acknowledged and applied, their p99
//! acknowledgement ≤ 100 ms, RSS ≤ 300 MB, GitHub requests caused by the replay flood ≤ 1 per
//! pull request per minute, log growth ≤ 1 MB per minute.

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on, connect, connect_team_and_track_all, ctx, free_port, small_org_sim,
    use_simulator_with_webhooks,
};
use tidemark_tests::sim::webhooks::{payloads, signature_256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

#[derive(Parser)]
#[command(about = "tidemarkd under attack: legitimate deliveries' fate and the daemon's costs")]
struct Args {
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    phase_secs: u64,
    /// Legitimate deliveries per second.
    #[arg(long, default_value_t = 10)]
    legit_per_sec: u64,
    /// Seconds of the first phase, the replay flood alone (its GitHub requests are counted per
    /// minute, so a minute by default).
    #[arg(long, default_value_t = 60)]
    replay_secs: u64,
}

/// What GitHub would send for one pull request, and where.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    hook_id: u64,
    secret: String,
    /// A signed-ready `pull_request` body per pull request of the hook's repository.
    bodies: Vec<Vec<u8>>,
}

#[derive(Default)]
struct Legit {
    sent: AtomicU64,
    acked: AtomicU64,
    refused: AtomicU64,
    latencies_us: std::sync::Mutex<Vec<u64>>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    raise_fd_limit();
    let sim = small_org_sim(2, 6, 4);
    let sandbox = Sandbox::new();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        use_simulator_with_webhooks(cmd, &sim, &addr.to_string(), &addr.to_string());
        // What a service runs with, not the tests' trace.
        cmd.env("RUST_LOG", "info");
    });
    let pid = daemon.pid();
    block_on(async {
        let client = connect(&daemon.socket).await?;
        connect_team_and_track_all(&client, "platform").await?;
        anyhow::Ok(())
    })?;
    let target = target(&sim, addr)?;
    eprintln!(
        "attack-bench: daemon pid {pid}, webhooks at {addr}, {} pull requests on hook {}",
        target.bodies.len(),
        target.hook_id
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let phase = Duration::from_secs(args.phase_secs);
    // The replay flood alone first (no legitimate sender), so the GitHub requests counted are
    // the flood's own.
    let phases: [(&str, &[Attack]); 8] = [
        ("replay flood, nothing else", &[Attack::Replay]),
        ("baseline", &[]),
        ("2,000 idle connections", &[Attack::Idle]),
        ("100 unsigned 25 MB bodies", &[Attack::BigBodies]),
        ("replay flood of one delivery", &[Attack::Replay]),
        ("unknown hook ids", &[Attack::UnknownHooks]),
        ("local RPC flood", &[Attack::Rpc]),
        (
            "all together",
            &[
                Attack::Idle,
                Attack::BigBodies,
                Attack::Replay,
                Attack::UnknownHooks,
                Attack::Rpc,
            ],
        ),
    ];
    println!(
        "{:<30} {:>6} {:>6} {:>7} {:>9} {:>9} {:>8} {:>9} {:>10}",
        "PHASE", "SENT", "ACKED", "REFUSED", "P50 MS", "P99 MS", "RSS MB", "LOG KB/m", "GH REQ/m"
    );
    let mut worst_p99 = 0.0f64;
    let mut worst_rss = 0u64;
    let mut worst_log = 0.0f64;
    let mut total_sent = 0;
    let mut total_acked = 0;
    let mut replay_rate = 0.0f64;
    for (name, attacks) in phases {
        let legit = Arc::new(Legit::default());
        let stop = Arc::new(AtomicBool::new(false));
        let alone = name == "replay flood, nothing else";
        if alone {
            // The captured delivery as GitHub sent it, once, applied: its re-read is the
            // delivery's own cost, not the flood's. Everything counted after is the flood's.
            let gh_before = github_requests(&sim);
            runtime.block_on(async {
                let body = &target.bodies[0];
                let headers = signed_headers(&target, &target.secret, target.hook_id, body);
                let mut c = TcpStream::connect(target.addr).await?;
                let status = post(&mut c, &headers, body).await?;
                anyhow::ensure!(status == 202, "the captured delivery was answered {status}");
                wait_applied(&daemon.socket, Duration::from_secs(60)).await?;
                Ok::<_, anyhow::Error>(())
            })?;
            eprintln!(
                "the captured delivery, once: {} GitHub requests to apply",
                github_requests(&sim) - gh_before
            );
        }
        let log_before = std::fs::metadata(&daemon.log).map(|m| m.len()).unwrap_or(0);
        let gh_before = github_requests(&sim);
        let rss_max = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            tasks.push(tokio::spawn(sample_rss(pid, rss_max.clone(), stop.clone())));
            if !alone {
                tasks.push(tokio::spawn(legit_sender(
                    target.clone(),
                    legit.clone(),
                    stop.clone(),
                    args.legit_per_sec,
                )));
            }
            for attack in attacks {
                tasks.push(tokio::spawn(attack.run(
                    target.clone(),
                    daemon.socket.clone(),
                    stop.clone(),
                )));
            }
            tokio::time::sleep(if alone {
                Duration::from_secs(args.replay_secs)
            } else {
                phase
            })
            .await;
            stop.store(true, Ordering::SeqCst);
            for t in tasks {
                let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
            }
        });
        let minutes = started.elapsed().as_secs_f64() / 60.0;
        let log_after = std::fs::metadata(&daemon.log).map(|m| m.len()).unwrap_or(0);
        let log_kb_min = (log_after.saturating_sub(log_before)) as f64 / 1024.0 / minutes;
        let gh = (github_requests(&sim) - gh_before) as f64 / minutes;
        let mut lat = legit.latencies_us.lock().unwrap().clone();
        lat.sort_unstable();
        let pct = |p: f64| {
            if lat.is_empty() {
                f64::NAN
            } else {
                lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1] as f64
                    / 1000.0
            }
        };
        let (sent, acked, refused) = (
            legit.sent.load(Ordering::SeqCst),
            legit.acked.load(Ordering::SeqCst),
            legit.refused.load(Ordering::SeqCst),
        );
        let rss = rss_max.load(Ordering::SeqCst) / 1024;
        println!(
            "{name:<30} {sent:>6} {acked:>6} {refused:>7} {:>9.1} {:>9.1} {rss:>8} {log_kb_min:>9.0} {gh:>10.0}",
            pct(0.5),
            pct(0.99)
        );
        worst_p99 = worst_p99.max(pct(0.99));
        worst_rss = worst_rss.max(rss);
        worst_log = worst_log.max(log_kb_min);
        total_sent += sent;
        total_acked += acked;
        if alone {
            // Let the applier finish what the flood left, counting what that costs too.
            let settle = Instant::now();
            runtime.block_on(wait_applied(&daemon.socket, Duration::from_secs(120)))?;
            let minutes = (started.elapsed()).as_secs_f64() / 60.0;
            replay_rate = (github_requests(&sim) - gh_before) as f64 / minutes;
            eprintln!(
                "replay flood: applied after {:.1} s more",
                settle.elapsed().as_secs_f64()
            );
        }
    }
    // Everything acknowledged must be applied: nothing left waiting.
    let waiting = runtime.block_on(wait_applied(&daemon.socket, Duration::from_secs(120)))?;
    println!();
    println!(
        "legitimate: {total_acked}/{total_sent} acknowledged, {waiting} still waiting to be applied after the run (goal: all, 0)"
    );
    println!("worst p99 acknowledgement: {worst_p99:.1} ms (goal ≤ 100)");
    println!("worst daemon RSS: {worst_rss} MB (goal ≤ 300)");
    println!("worst log growth: {worst_log:.0} KB per minute (goal ≤ 1024)");
    println!(
        "GitHub requests the replay flood caused (until applied, beyond the captured delivery's own): {replay_rate:.1} per minute for one pull request (goal ≤ 1)"
    );
    drop(daemon);
    Ok(())
}

/// Wait until no delivery waits to be applied (or `limit` passes); what still waits.
async fn wait_applied(socket: &std::path::Path, limit: Duration) -> Result<u64> {
    let client = connect(socket).await?;
    let deadline = Instant::now() + limit;
    loop {
        let status = client.status(ctx(), None).await??;
        let waiting: u64 = status.iter().map(|t| t.webhooks_pending).sum();
        if waiting == 0 || Instant::now() > deadline {
            return Ok(waiting);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The hook of the first tracked repository, and a body per pull request in it.
fn target(sim: &tidemark_tests::sim::Sim, addr: SocketAddr) -> Result<Target> {
    let w = sim.world();
    let hook = w
        .hooks
        .values()
        .min_by_key(|h| h.id)
        .context("no hook was created")?
        .clone();
    let repo = w
        .repos
        .get(&hook.repo_id)
        .context("the hook's repository")?;
    let urls = &sim.shared.urls;
    let bodies = w
        .pulls
        .values()
        .filter(|p| p.repo_id == repo.id)
        .map(|p| {
            serde_json::to_vec(&json!({
                "action": "edited",
                "number": p.number,
                "changes": {},
                "pull_request": payloads::pull_request(urls, &w, p, true),
                "repository": payloads::repository(urls, &w, repo),
                "sender": { "login": "octocat", "id": 583231, "type": "User" },
            }))
            .expect("JSON")
        })
        .collect::<Vec<_>>();
    anyhow::ensure!(!bodies.is_empty(), "no pull requests in {}", repo.name);
    Ok(Target {
        addr,
        hook_id: hook.id,
        secret: hook.secret.context("the hook has a secret")?,
        bodies,
    })
}

fn github_requests(sim: &tidemark_tests::sim::Sim) -> u64 {
    let s = sim.stats();
    s.graphql_requests + s.rest_requests
}

fn raise_fd_limit() {
    // SAFETY: plain getrlimit/setrlimit on our own process.
    unsafe {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

fn rss_kb(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn sample_rss(pid: i32, max: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        max.fetch_max(rss_kb(pid), Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn delivery_id() -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    format!("a77ac4e0-0000-4000-8000-{n:012x}")
}

/// One HTTP/1.1 POST on a keep-alive connection; the answer's status.
async fn post(
    stream: &mut TcpStream,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<u16> {
    let mut req = String::from("POST /webhooks/github HTTP/1.1\r\nHost: bench\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    // Head and body in one write, as an HTTP client sends a small request: two writes on a
    // socket with Nagle's algorithm wait for the delayed ACK of the first (40 ms on Linux), a
    // cost of this client, not of the daemon (the figures before issue 15's work carried it).
    let mut request = req.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await?;
    read_response(stream).await
}

async fn read_response(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = resp.parse(&buf) {
            let code = resp.code.unwrap_or(0);
            let len: usize = resp
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(code);
        }
    }
}

fn signed_headers(
    t: &Target,
    secret: &str,
    hook_id: u64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", "pull_request".into()),
        ("X-GitHub-Delivery", delivery_id()),
        ("X-GitHub-Hook-ID", hook_id.to_string()),
        ("X-Hub-Signature-256", signature_256(secret, body)),
        ("User-Agent", "GitHub-Hookshot/bench".into()),
        ("X-Bench-Target", t.addr.to_string()),
    ]
}

async fn legit_sender(t: Target, legit: Arc<Legit>, stop: Arc<AtomicBool>, per_sec: u64) {
    let every = Duration::from_micros(1_000_000 / per_sec.max(1));
    let mut tick = tokio::time::interval(every);
    let mut conn: Option<TcpStream> = None;
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let body = &t.bodies[i % t.bodies.len()];
        i += 1;
        let headers = signed_headers(&t, &t.secret, t.hook_id, body);
        legit.sent.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        let mut outcome = Err(std::io::ErrorKind::NotConnected.into());
        // A fresh connection when the last one was closed (as GitHub's would be).
        for _ in 0..2 {
            if conn.is_none() {
                conn = TcpStream::connect(t.addr).await.ok();
            }
            let Some(c) = conn.as_mut() else { break };
            outcome = tokio::time::timeout(Duration::from_secs(10), post(c, &headers, body))
                .await
                .unwrap_or(Err(std::io::ErrorKind::TimedOut.into()));
            if outcome.is_ok() {
                break;
            }
            conn = None;
        }
        match outcome {
            Ok(code) if (200..300).contains(&code) => {
                legit.acked.fetch_add(1, Ordering::SeqCst);
                legit
                    .latencies_us
                    .lock()
                    .unwrap()
                    .push(start.elapsed().as_micros() as u64);
            }
            _ => {
                legit.refused.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attack {
    Idle,
    BigBodies,
    Replay,
    UnknownHooks,
    Rpc,
}

impl Attack {
    async fn run(self, t: Target, socket: std::path::PathBuf, stop: Arc<AtomicBool>) {
        match self {
            Attack::Idle => idle(t, stop).await,
            Attack::BigBodies => big_bodies(t, stop).await,
            Attack::Replay => replay(t, stop).await,
            Attack::UnknownHooks => unknown_hooks(t, stop).await,
            Attack::Rpc => rpc_flood(socket, stop).await,
        }
    }
}

async fn idle(t: Target, stop: Arc<AtomicBool>) {
    let mut held = Vec::new();
    while held.len() < 2_000 && !stop.load(Ordering::SeqCst) {
        match TcpStream::connect(t.addr).await {
            Ok(s) => held.push(s),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn big_bodies(t: Target, stop: Arc<AtomicBool>) {
    const SIZE: usize = 25 * 1024 * 1024;
    let chunk = Arc::new(vec![b'x'; 1024 * 1024]);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (t, stop, chunk) = (t.clone(), stop.clone(), chunk.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let Ok(mut s) = TcpStream::connect(t.addr).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let head = format!(
                    "POST /webhooks/github HTTP/1.1\r\nHost: bench\r\nX-GitHub-Event: pull_request\r\n\
                     X-GitHub-Delivery: {}\r\nX-GitHub-Hook-ID: {}\r\nX-Hub-Signature-256: sha256={}\r\n\
                     Content-Type: application/json\r\nContent-Length: {SIZE}\r\n\r\n",
                    delivery_id(),
                    t.hook_id,
                    "0".repeat(64)
                );
                if s.write_all(head.as_bytes()).await.is_err() {
                    continue;
                }
                let mut sent = 0;
                while sent < SIZE && !stop.load(Ordering::SeqCst) {
                    if s.write_all(&chunk).await.is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
                let _ = tokio::time::timeout(Duration::from_secs(2), read_response(&mut s)).await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn replay(t: Target, stop: Arc<AtomicBool>) {
    let body = Arc::new(t.bodies[0].clone());
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (t, stop, body) = (t.clone(), stop.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<TcpStream> = None;
            while !stop.load(Ordering::SeqCst) {
                if conn.is_none() {
                    conn = TcpStream::connect(t.addr).await.ok();
                }
                let Some(c) = conn.as_mut() else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let headers = signed_headers(&t, &t.secret, t.hook_id, &body);
                if post(c, &headers, &body).await.is_err() {
                    conn = None;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn unknown_hooks(t: Target, stop: Arc<AtomicBool>) {
    let mut tasks = Vec::new();
    for k in 0..16u64 {
        let (t, stop) = (t.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<TcpStream> = None;
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                if conn.is_none() {
                    conn = TcpStream::connect(t.addr).await.ok();
                }
                let Some(c) = conn.as_mut() else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                n += 1;
                let body = br#"{"zen":"Design for failure.","hook_id":1}"#;
                let hook = 900_000_000 + k * 1_000_000 + n;
                let headers = signed_headers(&t, "not-the-secret", hook, body);
                if post(c, &headers, body).await.is_err() {
                    conn = None;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn rpc_flood(socket: std::path::PathBuf, stop: Arc<AtomicBool>) {
    let mut tasks = Vec::new();
    // Partial frames: a 16 MB length prefix, then a trickle.
    for _ in 0..100 {
        let (socket, stop) = (socket.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = UnixStream::connect(&socket).await else {
                return;
            };
            let _ = s.write_all(&(16u32 * 1024 * 1024 - 1).to_be_bytes()).await;
            let block = vec![0u8; 64 * 1024];
            let mut sent = 0usize;
            while !stop.load(Ordering::SeqCst) && sent < 15 * 1024 * 1024 {
                if s.write_all(&block).await.is_err() {
                    break;
                }
                sent += block.len();
            }
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    // Calls as fast as they are answered.
    for _ in 0..8 {
        let (socket, stop) = (socket.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(client) = connect(&socket).await else {
                return;
            };
            while !stop.load(Ordering::SeqCst) {
                if client.team_list(ctx()).await.is_err() {
                    break;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}
