//! `slack-sim`: the Slack simulator as a process. Prints its base URL (in place of
//! `https://slack.com`) as the first line of stdout, then serves until killed. Its bot token is
//! at `GET /_sim/token`.

use clap::Parser;
use std::io::Write;
use tidemark_tests::slack_sim::{Bucket, OAuthMode, SlackConfig, SlackSim};

/// A faithful, stateful Slack Web API (OAuth v2 install, auth, conversations, chat) for tests
/// and offline demos. Control it under /_sim/ (see tests/src/slack_sim/control.rs).
#[derive(Parser, Debug)]
#[command(name = "slack-sim", version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Public channels generated (the bot in each).
    #[arg(long, default_value_t = 8)]
    channels: usize,
    /// Workspace domain (`<domain>.slack.com`).
    #[arg(long, default_value = "tidemark-sim")]
    domain: String,
    /// The Slack app's client id.
    #[arg(long, default_value = "1111111111.2222222222")]
    client_id: String,
    /// The Slack app's client secret.
    #[arg(long, default_value = "sim-slack-client-secret-0123456789ab")]
    client_secret: String,
    /// Start without the app installed (no bot token until an OAuth round trip).
    #[arg(long)]
    not_installed: bool,
    /// chat.postMessage per channel: posts allowed at once.
    #[arg(long, default_value_t = 5)]
    post_burst: u32,
    /// chat.postMessage per channel: one more post allowed every this many milliseconds
    /// (0: no limit).
    #[arg(long, default_value_t = 1000)]
    post_interval_ms: u64,
    /// The authorize page: approve, deny or hold (until POST /_sim/oauth/approve).
    #[arg(long, default_value = "approve")]
    oauth: String,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let defaults = SlackConfig::default();
    let oauth_mode: OAuthMode = serde_json::from_value(serde_json::json!(a.oauth))
        .map_err(|_| anyhow::anyhow!("--oauth: approve, deny or hold"))?;
    let mut config = SlackConfig {
        channels: a.channels,
        team_domain: a.domain,
        client_id: a.client_id,
        client_secret: a.client_secret,
        oauth_mode,
        ..defaults
    };
    if a.not_installed {
        config.installed_scopes = None;
    }
    config.limits.post_per_channel = (a.post_interval_ms > 0).then_some(Bucket {
        burst: a.post_burst,
        interval_ms: a.post_interval_ms,
    });
    let sim = SlackSim::start_on(config, &a.addr)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", sim.url())?;
    out.flush()?;
    drop(out);
    eprintln!("slack-sim: serving on {} (Ctrl-C to stop)", sim.url());
    loop {
        std::thread::park();
    }
}
