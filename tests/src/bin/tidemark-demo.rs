//! `tidemark-demo`: tidemark with no GitHub or Slack account and no network. Starts the GitHub
//! simulator with a realistic org and a team at work, the Slack simulator, a daemon on a
//! temporary data dir pointed at both (its webhook listener the URL the simulator's hooks
//! call), the team's working agreements and its Slack channel, and the TUI; everything stops
//! and the temp dir goes when you quit the TUI.
//!
//! This binary is also the `tidemark` client (it hands its arguments to the same code), so the
//! daemon it starts is `tidemark-demo daemon ...`, exactly as `tidemark daemon ...`.

use std::ffi::OsString;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use tidemark_protocol::agreements::{Agreements, Span, WorkingHours};
use tidemark_tests::sim::{Sim, SimConfig, activity};
use tidemark_tests::slack_sim::{SlackConfig, SlackSim};

/// `tidemark-demo daemon ...`: the daemon built in, as in the `tidemark` binary.
fn builtin_daemon(args: Vec<OsString>) -> ExitCode {
    tidemark_daemon::cli::main_from(args)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.len() > 1 {
        // `tidemark-demo daemon ...` and any `tidemark` subcommand.
        if args[1] == "--help" || args[1] == "-h" {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        return tidemark_tui::cli::main_from(args, builtin_daemon);
    }
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tidemark-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "tidemark-demo: tidemark against a simulated GitHub, offline.

Usage: tidemark-demo

Starts the GitHub simulator (an org with a year of pull requests, and live activity every few
seconds, sent to the daemon as webhooks), the Slack simulator, a tidemark daemon on a temporary
data dir pointed at both, with working agreements set and alerts posted to the simulated
#eng channel, and the TUI (the Alerts tab is 7). Quit the TUI (q) to stop everything; the
temporary data dir is removed.";

fn run() -> anyhow::Result<ExitCode> {
    // Device codes approve themselves at the first poll, polled every second.
    let sim = Sim::start(
        SimConfig {
            device_interval: 1,
            auto_approve: Some(1),
            // A team that deploys: deployments, runs, releases and incidents to show.
            org: tidemark_tests::sim::OrgSpec {
                delivery: true,
                ..Default::default()
            },
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )?;
    let _activity = activity::start(sim.shared.clone(), Duration::from_secs(4), 42);
    // Slack: not installed until the demo team adds the app (its OAuth approves at once).
    let slack = SlackSim::start(SlackConfig {
        installed_scopes: None,
        ..SlackConfig::default()
    });
    let slack_app = SlackConfig::default();
    let dir = tempfile::Builder::new()
        .prefix("tidemark-demo-")
        .tempdir()?;
    let data_dir = dir.path().join("data");
    let socket = dir.path().join("tidemark.sock");
    // Webhooks: the simulator delivers to the daemon's listener directly (no tunnel needed on
    // loopback), so the team's activity shows up as it happens.
    let webhooks = format!("127.0.0.1:{}", tidemark_tests::harness::free_port());
    // A config file of its own: never the user's (whose sealed secret this daemon's fresh key
    // could not open). `g` in the demo's TUI writes to this one.
    let config = dir.path().join("daemon.toml");
    std::fs::write(&config, tidemark_daemon::settings::template())?;
    // The daemon and the client read these; the GitHub ones point the daemon at the simulator.
    // SAFETY: single-threaded at this point but for the simulator, which reads no environment.
    unsafe {
        std::env::set_var("TIDEMARK_DATA_DIR", &data_dir);
        std::env::set_var("TIDEMARK_SOCKET", &socket);
        std::env::set_var("TIDEMARK_GITHUB_URL", sim.url());
        std::env::set_var("TIDEMARK_GITHUB_API_URL", sim.url());
        std::env::set_var("GITHUB_CLIENT_ID", &sim.shared.config.client_id);
        std::env::set_var("TIDEMARK_WEBHOOK_ADDR", &webhooks);
        std::env::set_var("TIDEMARK_PUBLIC_URL", format!("http://{webhooks}"));
        std::env::set_var("TIDEMARK_CONFIG", &config);
        std::env::set_var("TIDEMARK_SLACK_URL", slack.url());
        std::env::set_var("SLACK_CLIENT_ID", &slack_app.client_id);
        std::env::set_var("SLACK_CLIENT_SECRET", &slack_app.client_secret);
        std::env::remove_var("GITHUB_CLIENT_SECRET");
        std::env::remove_var("INTEGRATION_ENCRYPTION_KEY");
    }
    eprintln!(
        "tidemark-demo: simulated GitHub at {} (org 'acme')",
        sim.url()
    );
    if let Some(eng) = slack.channel_id("eng") {
        eprintln!(
            "tidemark-demo: simulated Slack at {0}; what is posted to #eng: curl {0}/_sim/channels/{eng}/messages",
            slack.url()
        );
    }
    let mut daemon = start_daemon(&data_dir, &socket)?;
    if let Err(e) = tidemark_tests::harness::block_on(demo_team(&socket)) {
        eprintln!("tidemark-demo: could not set up the demo team: {e:#}");
    }
    let code = tidemark_tui::cli::main_from(["tidemark", "--no-start"], builtin_daemon);
    stop(&mut daemon);
    Ok(code)
}

/// Team `demo`, connected to the simulated org through the device flow (approved by the
/// simulator itself), tracking every repository, its first sync started.
async fn demo_team(socket: &std::path::Path) -> anyhow::Result<()> {
    use tidemark_protocol::TeamRef;
    use tidemark_tests::harness::{connect, connect_team_and_track_all, ctx};
    let client = connect(socket).await?;
    eprintln!("tidemark-demo: connecting team 'demo' to the simulated GitHub (device flow)...");
    // Tracks every repository; the daemon's first sync follows (watch it in the TUI).
    connect_team_and_track_all(&client, "demo").await?;
    client
        .sync_start(ctx(), TeamRef::Name("demo".into()))
        .await??;
    // Working agreements, and Slack's #eng for their alerts and a digest at 09:00 UTC.
    let agreements = Agreements {
        first_review_within: Some(Span::Hours(24)),
        max_size: Some(400),
        merge_within: Some(Span::Days(7)),
        min_approvals: Some(1),
        max_open_per_author: Some(5),
        working_hours: Some(WorkingHours::parse("09:00-18:00").map_err(anyhow::Error::msg)?),
        timezone: "UTC".into(),
        digest_at: Some(9 * 60),
    };
    client
        .agreements_set(ctx(), TeamRef::Name("demo".into()), agreements)
        .await??;
    eprintln!("tidemark-demo: adding the Slack app to the simulated workspace (#eng)...");
    tidemark_tests::harness::connect_slack(&client, TeamRef::Name("demo".into()), "#eng").await?;
    Ok(())
}

fn start_daemon(data_dir: &std::path::Path, socket: &std::path::Path) -> anyhow::Result<Child> {
    std::fs::create_dir_all(data_dir)?;
    let log = std::fs::File::create(data_dir.join("daemon.log"))?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!(
                "the daemon exited with {status}; its log: {}",
                data_dir.join("daemon.log").display()
            );
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the daemon did not start within 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

fn stop(child: &mut Child) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
