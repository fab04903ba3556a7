//! `repos`, `sync`, `members`, `prs` and `metrics` from the command line, against the fake
//! daemon: human output, `--json`, refusals before connecting, and `sync --wait` following a
//! sync to its end.

use std::path::PathBuf;
use std::process::Output;

use crate::support::cli::{stderr, stdout, tidemark};
use crate::support::fake_daemon::FakeDaemon;
use tidemark_protocol::{
    AvailableRepo, MemberInfo, MetricsGrouping, MetricsRow, PrInfo, PrQuery, PrState, RepoInfo,
    SyncProgress, SyncStatus, TeamRef, TeamStatus,
};
use tidemark_tui::fixtures;
use tidemark_tui::output::sync as out;
use tokio::task::JoinHandle;

/// The daemon's refusal for a team without a GitHub connection (worded for any client), with
/// the command line's way to connect that team.
const NOT_CONNECTED: &str = "the team is not connected to GitHub: connect it first \
                             (tidemark connect github --team mobile)";

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

#[track_caller]
fn assert_failure(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert_eq!(stderr(out), format!("error: {message}\n"));
}

/// `platform` (#1) is connected to GitHub (acme, 3 tracked repos); `mobile` (#2) is not.
fn teams() -> Vec<TeamStatus> {
    let mut mobile = fixtures::team_status();
    mobile.team = fixtures::teams().remove(1);
    mobile.integrations.clear();
    mobile.repos.clear();
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
async fn repos_available_human_and_json() {
    let s = serve();
    let out = tidemark(&s.socket, &["repos", "available", "--team", "platform"]).await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        out::repos_available("platform", &fixtures::available_repos())
    );

    let out = tidemark(
        &s.socket,
        &["repos", "available", "--team", "platform", "--json"],
    )
    .await;
    assert_success(&out);
    let repos: Vec<AvailableRepo> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(repos, fixtures::available_repos());
    // Stable field names: scripts read these.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json[0],
        serde_json::json!({
            "github_repo_id": 101, "full_name": "acme/api", "private": false,
            "archived": false, "pushed_at": fixtures::T0, "tracked": true
        })
    );

    let out = tidemark(&s.socket, &["repos", "available", "--team", "mobile"]).await;
    assert_failure(&out, NOT_CONNECTED);
    let out = tidemark(&s.socket, &["repos", "available", "--team", "nope"]).await;
    assert_failure(&out, "team 'nope' not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repos_track_list_and_untrack() {
    let s = serve();
    let out = tidemark(&s.socket, &["repos", "list", "--team", "platform"]).await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        out::tracked_repos("platform", &fixtures::repos())
    );

    let out = tidemark(
        &s.socket,
        &[
            "repos",
            "track",
            "--team",
            "platform",
            "acme/billing",
            "acme/API",
        ],
    )
    .await;
    assert_success(&out);
    // Answered in the team's order; tracking acme/api again changes nothing.
    assert_eq!(
        stdout(&out),
        "Team 'platform' tracks acme/api, acme/billing.\nThe next sync fetches their pull \
         requests; to start it now: `tidemark sync --team platform --wait`.\n"
    );

    let out = tidemark(
        &s.socket,
        &["repos", "list", "--team", "platform", "--json"],
    )
    .await;
    assert_success(&out);
    let repos: Vec<RepoInfo> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = repos.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(
        names,
        ["acme/api", "acme/web", "acme/infra", "acme/billing"]
    );
    assert_eq!(repos[3].sync_status, SyncStatus::Pending);

    // Refused by the daemon, all or nothing: unknown to GitHub, or another organization's.
    for (name, message) in [
        (
            "acme/docs",
            "repository acme/docs on GitHub (or the token cannot see it) not found",
        ),
        (
            "other/tool",
            "invalid repository: other/tool is not in the connected organization 'acme'",
        ),
    ] {
        let out = tidemark(
            &s.socket,
            &[
                "repos",
                "track",
                "--team",
                "platform",
                "acme/legacy-app",
                name,
                "--json",
            ],
        )
        .await;
        assert_failure(&out, message);
        assert_eq!(stdout(&out), "");
    }
    let out = tidemark(
        &s.socket,
        &["repos", "available", "--team", "platform", "--json"],
    )
    .await;
    let available: Vec<AvailableRepo> = serde_json::from_slice(&out.stdout).unwrap();
    let tracked: Vec<_> = available
        .iter()
        .filter(|r| r.tracked)
        .map(|r| r.full_name.as_str())
        .collect();
    assert_eq!(
        tracked,
        ["acme/api", "acme/web", "acme/infra", "acme/billing"]
    );

    // Untracking a repository that is not tracked untracks nothing.
    let out = tidemark(
        &s.socket,
        &[
            "repos",
            "untrack",
            "--team",
            "platform",
            "acme/billing",
            "acme/docs",
        ],
    )
    .await;
    assert_failure(&out, "tracked repository acme/docs not found");

    let out = tidemark(
        &s.socket,
        &[
            "repos",
            "untrack",
            "--team",
            "platform",
            "acme/billing",
            "--json",
        ],
    )
    .await;
    assert_success(&out);
    let untracked: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(untracked, ["acme/billing"]);

    let out = tidemark(
        &s.socket,
        &[
            "repos",
            "untrack",
            "--team",
            "platform",
            "ACME/infra",
            "acme/web",
        ],
    )
    .await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "Team 'platform' no longer tracks acme/infra, acme/web; their synced history stays.\n"
    );
    let out = tidemark(
        &s.socket,
        &["repos", "list", "--team", "platform", "--json"],
    )
    .await;
    let repos: Vec<RepoInfo> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = repos.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(names, ["acme/api"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_arguments_are_refused_before_connecting() {
    // Nothing listens here: a command that got as far as connecting would say so instead.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nothing.sock");
    for (args, message) in [
        (
            &[
                "repos",
                "track",
                "--team",
                "platform",
                "acme/api",
                "../etc/passwd",
            ][..],
            "invalid repository name: '..' is not a valid GitHub owner name",
        ),
        (
            &["repos", "untrack", "--team", "platform", "acme"],
            "invalid repository name: 'acme' is not of the form OWNER/REPO",
        ),
        (
            &["prs", "--team", "platform", "--repo", "acme/a b"],
            "invalid repository name: 'a b' is not a valid GitHub repository name",
        ),
        (
            &["metrics", "--team", "platform", "--since", "2025-13-01"],
            "invalid --since: '2025-13-01' is not a day of the calendar",
        ),
        (
            &[
                "metrics",
                "--team",
                "platform",
                "--since",
                "last week",
                "--json",
            ],
            "invalid --since: 'last week' is neither a date (YYYY-MM-DD) nor a span like 30d or \
             12w",
        ),
    ] {
        let out = tidemark(&socket, args).await;
        assert_failure(&out, message);
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    // Usage errors stay clap's, with its exit code.
    let out = tidemark(&socket, &["prs", "--team", "platform", "--state", "draft"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_human_and_json() {
    let s = serve();
    let out = tidemark(&s.socket, &["members", "--team", "platform"]).await;
    assert_success(&out);
    assert_eq!(stdout(&out), out::members("platform", &fixtures::members()));
    assert!(stdout(&out).contains("dependabot[bot]  dependabot[bot]  —                yes"));

    let out = tidemark(&s.socket, &["members", "--team", "platform", "--json"]).await;
    assert_success(&out);
    let members: Vec<MemberInfo> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(members, fixtures::members());

    let out = tidemark(&s.socket, &["members", "--team", "mobile"]).await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "No members synced yet. Sync with `tidemark sync --team mobile --wait`.\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prs_filters_and_json() {
    let s = serve();
    let out = tidemark(&s.socket, &["prs", "--team", "platform"]).await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        out::pull_requests(&fixtures::pull_requests(), 50)
    );
    // The escape sequence in a title never reaches the terminal.
    assert!(!stdout(&out).contains('\u{1b}'));
    assert!(stdout(&out).contains("* more than 250 commits"));

    let out = tidemark(
        &s.socket,
        &[
            "prs", "--team", "platform", "--repo", "acme/api", "--state", "merged", "--limit", "5",
            "--json",
        ],
    )
    .await;
    assert_success(&out);
    let prs: Vec<PrInfo> = serde_json::from_slice(&out.stdout).unwrap();
    let numbers: Vec<_> = prs.iter().map(|pr| pr.number).collect();
    assert_eq!(numbers, [1287]);
    assert_eq!(prs[0].cycle_time, Some(3 * 86_400 + 3 * 3600));
    assert_eq!(
        s.fake.sync.pr_queries().last(),
        Some(&PrQuery {
            team: TeamRef::Name("platform".into()),
            repo: Some("acme/api".into()),
            state: Some(PrState::Merged),
            limit: 5,
        })
    );

    let out = tidemark(&s.socket, &["prs", "--team", "platform", "--limit", "2"]).await;
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("1290") && text.contains("draft"), "{text}");
    assert!(
        text.ends_with("The newest 2; --limit N shows more (--limit 0: all).\n"),
        "{text}"
    );

    let out = tidemark(&s.socket, &["prs", "--team", "mobile", "--state", "open"]).await;
    assert_success(&out);
    assert_eq!(stdout(&out), "No pull requests.\n");

    let out = tidemark(
        &s.socket,
        &["prs", "--team", "platform", "--repo", "acme/billing"],
    )
    .await;
    assert_failure(&out, "tracked repository acme/billing not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_send_the_query_and_print_rows() {
    let s = serve();
    let out = tidemark(
        &s.socket,
        &[
            "metrics",
            "--team",
            "platform",
            "--by",
            "repo",
            "--since",
            "2025-01-01",
            "--include-bots",
            "--json",
        ],
    )
    .await;
    assert_success(&out);
    let rows: Vec<MetricsRow> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, fixtures::metrics_rows(MetricsGrouping::Repo));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json[0]["cycle_time"],
        serde_json::json!({"count": 251, "p50": 93_600, "p75": 273_600, "p90": 525_600})
    );
    let query = s.fake.sync.metrics_queries().pop().unwrap();
    assert_eq!(
        (query.since, query.by, query.include_bots),
        (Some(1_735_689_600), MetricsGrouping::Repo, true)
    );

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let out = tidemark(
        &s.socket,
        &["metrics", "--team", "platform", "--since", "30d"],
    )
    .await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        out::metrics(
            &fixtures::metrics_rows(MetricsGrouping::Team),
            MetricsGrouping::Team
        )
    );
    let query = s.fake.sync.metrics_queries().pop().unwrap();
    let since = query.since.unwrap();
    let expected = before - 30 * 86_400;
    assert!(
        (expected..expected + 60).contains(&since),
        "{since} vs {expected}"
    );
    assert_eq!(
        (query.by, query.include_bots),
        (MetricsGrouping::Team, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_without_wait_prints_the_start() {
    let s = serve();
    let out = tidemark(&s.socket, &["sync", "--team", "platform"]).await;
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        out::sync_started("platform", &fixtures::sync_steps()[0])
    );
    assert_eq!(stderr(&out), "");

    // The sync still runs: a second start joins it.
    let out = tidemark(&s.socket, &["sync", "--team", "platform", "--json"]).await;
    assert_success(&out);
    let progress: SyncProgress = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(progress, fixtures::sync_steps()[0]);

    let out = tidemark(&s.socket, &["sync", "--team", "mobile"]).await;
    assert_failure(&out, NOT_CONNECTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_wait_follows_progress_to_completion() {
    let s = serve();
    let steps = fixtures::sync_steps();
    let out = tidemark(&s.socket, &["sync", "--team", "platform", "--wait"]).await;
    assert_success(&out);
    // One line per change: the repeated report (a quiet long poll) prints nothing.
    let expected: String = [&steps[0], &steps[1], &steps[2], &steps[4]]
        .iter()
        .map(|p| out::sync_progress_line(p) + "\n")
        .collect();
    assert_eq!(stderr(&out), expected);
    assert_eq!(
        stdout(&out),
        out::sync_finished("platform", steps.last().unwrap())
    );
    assert!(stdout(&out).starts_with("Sync of team 'platform' complete: 3 repositories"));

    // The integration shows how it ended.
    let out = tidemark(&s.socket, &["status", "--team", "platform", "--json"]).await;
    let status: Vec<TeamStatus> = serde_json::from_slice(&out.stdout).unwrap();
    let gh = status[0].integrations[0].github.as_ref().unwrap();
    assert_eq!(
        (gh.sync_status, gh.last_sync_at),
        (SyncStatus::Complete, Some(fixtures::T0 + 95))
    );

    // --json: the final status on stdout, progress still on stderr.
    let out = tidemark(
        &s.socket,
        &["sync", "--team", "platform", "--wait", "--json"],
    )
    .await;
    assert_success(&out);
    let progress: SyncProgress = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&progress, steps.last().unwrap());
    assert_eq!(stderr(&out), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_wait_ending_in_an_error_exits_1() {
    let s = serve();
    s.fake.sync.set_steps(fixtures::failing_sync_steps());
    let steps = fixtures::failing_sync_steps();
    let failed = steps.last().unwrap();

    let out = tidemark(&s.socket, &["sync", "--team", "platform", "--wait"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "{}\n{}\n{}\nerror: sync of team 'platform' failed: GitHub rejected the token (401): \
             reconnect GitHub (the daemon tries again at 2025-01-05 14:18 UTC); run `tidemark \
             connect github --team platform --yes`\n",
            out::sync_progress_line(&steps[0]),
            out::sync_progress_line(&steps[1]),
            out::sync_progress_line(&steps[2]),
        )
    );

    let out = tidemark(
        &s.socket,
        &["sync", "--team", "platform", "--wait", "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let progress: SyncProgress = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&progress, failed);
    assert!(
        stderr(&out).ends_with(
            "(the daemon tries again at 2025-01-05 14:18 UTC); run `tidemark connect github \
             --team platform --yes`\n"
        ),
        "{}",
        stderr(&out)
    );
}
