//! `github-sim`: the GitHub simulator as a process. Prints its base URL as the first line of
//! stdout, then serves until killed.

use clap::Parser;
use std::io::Write;
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

/// A faithful, stateful GitHub (web host with OAuth, REST and GraphQL API, webhooks) for tests
/// and offline demos. Control it under /_sim/ (see the tidemark README).
#[derive(Parser, Debug)]
#[command(name = "github-sim", version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Seed of the generated organization (same seed, same org).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Login of the generated organization.
    #[arg(long, default_value = "acme")]
    org: String,
    /// Number of repositories.
    #[arg(long, default_value_t = 6)]
    repos: usize,
    /// Pull requests generated per repository (a year of history).
    #[arg(long, default_value_t = 40)]
    prs_per_repo: usize,
    /// Number of org members (bots come on top).
    #[arg(long, default_value_t = 12)]
    members: usize,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// REST requests (and GraphQL points) per hour per user.
    #[arg(long, default_value_t = 5_000)]
    rate_limit: u64,
    /// More requests than this in flight at once trip the secondary rate limit.
    #[arg(long, default_value_t = 100)]
    max_concurrent: usize,
    /// Approve device codes by themselves after this many polls (0: only through /_sim/).
    #[arg(long, default_value_t = 2)]
    auto_approve: u32,
    /// Seconds a device-flow client must wait between polls (GitHub: 5; 0 for no wait).
    #[arg(long, default_value_t = 5)]
    device_interval: u64,
    /// Issue tokens that expire after this many seconds, with refresh tokens (0: never expire).
    #[arg(long, default_value_t = 0)]
    token_lifetime: u64,
    /// The OAuth app's client id.
    #[arg(long, default_value = "Iv1.tidemarksim0001")]
    client_id: String,
    /// Simulate a team at work: one change (open, push, review, merge...) every N seconds,
    /// each sending its webhooks (0: none).
    #[arg(long, default_value_t = 0)]
    activity_secs: u64,
    /// The OAuth app's client secret.
    #[arg(long, default_value = "sim-client-secret-0123456789abcdef")]
    client_secret: String,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let config = SimConfig {
        org: OrgSpec {
            seed: a.seed,
            org: a.org,
            members: a.members,
            repos: a.repos,
            prs_per_repo: a.prs_per_repo,
            ..OrgSpec::default()
        },
        rate_limit: a.rate_limit,
        max_concurrent: a.max_concurrent,
        latency_ms: a.latency_ms,
        auto_approve: (a.auto_approve > 0).then_some(a.auto_approve),
        device_interval: a.device_interval,
        token_lifetime: (a.token_lifetime > 0).then_some(a.token_lifetime),
        client_id: a.client_id,
        client_secret: a.client_secret,
        ..SimConfig::default()
    };
    let sim = Sim::start(config, &a.addr)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sim.url())?;
    out.flush()?;
    drop(out);
    let _activity = (a.activity_secs > 0).then(|| {
        tidemark_tests::sim::activity::start(
            sim.shared.clone(),
            std::time::Duration::from_secs(a.activity_secs),
            a.seed,
        )
    });
    eprintln!("github-sim: serving org on {} (Ctrl-C to stop)", sim.url());
    loop {
        std::thread::park();
    }
}
