//! `sim-bench`: how many REST requests per second the GitHub simulator serves on loopback, so it
//! is never the bottleneck of sync benchmarks. Prints figures; asserts nothing.
//!
//! Usage: `sim-bench [SECONDS] [CONNECTIONS]` (defaults: 5 s, 8 keep-alive connections)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let conns: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(8);
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 4,
                prs_per_repo: 250,
                ..OrgSpec::default()
            },
            rate_limit: u64::MAX / 2,
            max_concurrent: usize::MAX,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )?;
    let token = sim.token_for(&sim.viewer_login());
    let (repo, numbers) = {
        let w = sim.world();
        let r = w.repos.values().next().expect("a repo");
        let numbers: Vec<u64> = w.repo_pulls(r.id).map(|p| p.number).collect();
        (r.name.clone(), numbers)
    };
    let base = sim.url();
    println!(
        "github-sim on {base}: {secs} s per endpoint, {conns} keep-alive connections, client in the same process"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    type PathFn = Arc<dyn Fn(u64) -> String + Send + Sync>;
    let endpoints: Vec<(&str, PathFn)> = vec![
        ("GET /rate_limit", Arc::new(|_| "/rate_limit".to_string())),
        (
            "GET /repos/{o}/{r}/pulls/{n}",
            Arc::new({
                let repo = repo.clone();
                let numbers = numbers.clone();
                move |i| {
                    format!(
                        "/repos/acme/{repo}/pulls/{}",
                        numbers[i as usize % numbers.len()]
                    )
                }
            }),
        ),
        (
            "GET /repos/{o}/{r}/pulls?per_page=100",
            Arc::new({
                let repo = repo.clone();
                move |i| {
                    format!(
                        "/repos/acme/{repo}/pulls?state=all&per_page=100&page={}",
                        i % 3 + 1
                    )
                }
            }),
        ),
    ];
    for (name, path) in endpoints {
        let done = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        runtime.block_on(async {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(conns)
                .build()
                .expect("client");
            let tasks: Vec<_> = (0..conns)
                .map(|c| {
                    let (client, path, done, bytes, base, token) = (
                        client.clone(),
                        path.clone(),
                        done.clone(),
                        bytes.clone(),
                        base.clone(),
                        token.clone(),
                    );
                    tokio::spawn(async move {
                        let mut i = c as u64;
                        while Instant::now() < deadline {
                            let r = client
                                .get(format!("{base}{}", path(i)))
                                .bearer_auth(&token)
                                .send()
                                .await;
                            if let Ok(r) = r {
                                assert!(r.status().is_success(), "{}", r.status());
                                bytes.fetch_add(
                                    r.bytes().await.map(|b| b.len() as u64).unwrap_or(0),
                                    Ordering::Relaxed,
                                );
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            i += conns as u64;
                        }
                    })
                })
                .collect();
            for t in tasks {
                let _ = t.await;
            }
        });
        let elapsed = started.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        println!(
            "{name:<40} {:>8.0} requests/s   ({n} requests, {:.1} MB/s of JSON)   [goal ≥ 5,000/s]",
            n as f64 / elapsed,
            bytes.load(Ordering::Relaxed) as f64 / elapsed / 1e6,
        );
    }
    Ok(())
}
