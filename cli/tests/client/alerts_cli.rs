//! `agreements`, `alerts`, `slack`, `connect slack` and `disconnect slack` from the command
//! line, against the fake daemon: human output (times in the zone `TZ` names: UTC here),
//! `--json` as the wire types, usage errors naming their flag, refusals before anything starts,
//! a member refused by the daemon, and the Slack flow to a chosen channel.

use std::path::PathBuf;
use std::process::Output;

use crate::support::cli::{stderr, stdout, tidemark};
use crate::support::fake_daemon::FakeDaemon;
use tidemark_protocol::TeamStatus;
use tidemark_protocol::agreements::{Agreements, Alerts, SlackStatus, Span};
use tidemark_tui::fixtures;
use tidemark_tui::output::agreements as out;
use tokio::task::JoinHandle;

#[track_caller]
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// `platform` (#1, the caller an owner) is linked to Slack; `mobile` (#2, a member) is not.
fn teams() -> Vec<TeamStatus> {
    let mut mobile = fixtures::team_status();
    mobile.team = fixtures::teams().remove(1);
    mobile.slack = None;
    vec![fixtures::team_status(), mobile]
}

struct Served {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    fake: FakeDaemon,
    _server: JoinHandle<()>,
}

fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("tidemark.sock");
    let fake = FakeDaemon::new(teams());
    let server = fake.clone().listen(&socket);
    Served {
        _dir: dir,
        socket,
        fake,
        _server: server,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_human_and_json() {
    let s = serve();
    let got = tidemark(&s.socket, &["alerts", "--team", "platform"]).await;
    assert_success(&got);
    assert_eq!(
        stdout(&got),
        out::alerts(&fixtures::alerts(false), false, &tidemark_tui::timefmt::utc)
    );
    assert!(stdout(&got).starts_with("3 open breaches · Slack: #eng-alerts (acme)\n"));

    let got = tidemark(
        &s.socket,
        &[
            "alerts",
            "--team",
            "platform",
            "--all",
            "--since",
            "2024-12-01",
            "--json",
        ],
    )
    .await;
    assert_success(&got);
    let alerts: Alerts = serde_json::from_str(&stdout(&got)).unwrap();
    assert_eq!(alerts.breaches.len(), 4);
    let query = s.fake.agreements.queries().pop().unwrap();
    assert!(query.include_resolved);
    assert_eq!(query.since, Some(1_733_011_200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreements_set_changes_only_what_is_given_and_show_reads_it_back() {
    let s = serve();
    let got = tidemark(
        &s.socket,
        &[
            "agreements",
            "set",
            "--team",
            "platform",
            "--first-review-within",
            "24h",
            "--max-size",
            "400",
            "--timezone",
            "Europe/Berlin",
        ],
    )
    .await;
    assert_success(&got);
    assert!(stdout(&got).starts_with("Saved. Working agreements of team 'platform':\n"));
    let got = tidemark(
        &s.socket,
        &[
            "agreements",
            "set",
            "--team",
            "platform",
            "--unset",
            "max-size",
            "--merge-within",
            "7d",
        ],
    )
    .await;
    assert_success(&got);
    let got = tidemark(
        &s.socket,
        &["agreements", "show", "--team", "platform", "--json"],
    )
    .await;
    assert_success(&got);
    let saved: Agreements = serde_json::from_str(&stdout(&got)).unwrap();
    assert_eq!(saved.first_review_within, Some(Span::Hours(24)));
    assert_eq!(saved.merge_within, Some(Span::Days(7)));
    assert_eq!(saved.max_size, None);
    assert_eq!(saved.timezone, "Europe/Berlin");
    assert_eq!(s.fake.agreements.saved().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_and_refusals_say_why() {
    let s = serve();
    // A usage error names the flag (exit status 2) and sends nothing.
    let got = tidemark(
        &s.socket,
        &[
            "agreements",
            "set",
            "--team",
            "platform",
            "--merge-within",
            "7",
        ],
    )
    .await;
    assert_eq!(got.status.code(), Some(2), "{}", stderr(&got));
    assert!(
        stderr(&got).contains("'--merge-within <SPAN>'"),
        "{}",
        stderr(&got)
    );
    // A member: the daemon's words.
    let got = tidemark(
        &s.socket,
        &["agreements", "set", "--team", "mobile", "--max-size", "300"],
    )
    .await;
    assert_eq!(got.status.code(), Some(1));
    assert_eq!(
        stderr(&got),
        "error: permission denied: only the team's admins and owners may change the working \
         agreements\n"
    );
    assert!(s.fake.agreements.saved().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adherence_is_a_weekly_table() {
    let s = serve();
    let got = tidemark(
        &s.socket,
        &["agreements", "adherence", "--team", "platform"],
    )
    .await;
    assert_success(&got);
    assert_eq!(
        stdout(&got),
        out::adherence("platform", &fixtures::adherence())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_slack_needs_a_channel_without_a_terminal() {
    let s = serve();
    let got = tidemark(&s.socket, &["connect", "slack", "--team", "mobile"]).await;
    assert_eq!(got.status.code(), Some(1));
    assert!(
        stderr(&got).contains("pass --channel (#name, name or id); nothing was started"),
        "{}",
        stderr(&got)
    );
    assert!(s.fake.team("mobile").unwrap().slack.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_slack_links_the_workspace_and_sets_the_channel() {
    let s = serve();
    let got = tidemark(
        &s.socket,
        &[
            "connect",
            "slack",
            "--team",
            "platform",
            "--channel",
            "platform",
            "--no-browser",
        ],
    )
    .await;
    assert_success(&got);
    assert_eq!(
        stdout(&got),
        "Alerts and digests of team 'platform' go to #platform (acme).\n"
    );
    let talk = stderr(&got);
    assert!(
        talk.contains("    https://slack.com/oauth/v2/authorize?client_id=fake&state=slack-101\n"),
        "{talk}"
    );
    assert!(!talk.contains("Opening your browser"), "{talk}");
    let slack = s.fake.team("platform").unwrap().slack.unwrap();
    assert_eq!(slack.channel.unwrap().id, "C024BE92M");

    // A channel the bot does not see: the workspace is linked, and the way on is said.
    let got = tidemark(
        &s.socket,
        &[
            "connect",
            "slack",
            "--team",
            "platform",
            "--channel",
            "#nope",
            "--json",
        ],
    )
    .await;
    assert_eq!(got.status.code(), Some(1));
    assert!(
        stderr(&got).contains(
            "no channel '#nope' among those tidemark's bot sees (#eng-alerts, #platform, #random)"
        ),
        "{}",
        stderr(&got)
    );
    assert!(stderr(&got).contains("tidemark slack channel --team platform CHANNEL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_channel_status_and_disconnect() {
    let s = serve();
    let got = tidemark(
        &s.socket,
        &["slack", "channel", "--team", "platform", "random"],
    )
    .await;
    assert_success(&got);
    assert_eq!(
        stdout(&got),
        "Alerts and digests of team 'platform' go to #random (acme).\n"
    );
    let got = tidemark(&s.socket, &["slack", "status", "--team", "platform"]).await;
    assert_success(&got);
    assert!(
        stdout(&got).contains("  channel:    #random (C07QX3Z1P)\n"),
        "{}",
        stdout(&got)
    );

    // Without a terminal, only --yes disconnects.
    let got = tidemark(&s.socket, &["disconnect", "slack", "--team", "platform"]).await;
    assert_eq!(got.status.code(), Some(1));
    assert!(stderr(&got).contains("pass --yes"), "{}", stderr(&got));
    assert!(s.fake.team("platform").unwrap().slack.is_some());
    let got = tidemark(
        &s.socket,
        &["disconnect", "slack", "--team", "platform", "--yes"],
    )
    .await;
    assert_success(&got);
    let got = tidemark(
        &s.socket,
        &["slack", "status", "--team", "platform", "--json"],
    )
    .await;
    assert_success(&got);
    let status: SlackStatus = serde_json::from_str(&stdout(&got)).unwrap();
    assert_eq!(status, SlackStatus::default());
}
