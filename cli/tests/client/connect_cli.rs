//! `tidemark connect github` and `tidemark disconnect github`: the real binary against the fake
//! daemon (real protocol, real transport), with no terminal on stdin.

use crate::support::connect::{
    PATIENCE, command, github_org, serve, socket_in, stderr, stdout, teams, three_orgs, tidemark,
    wait_until,
};
use crate::support::fake_daemon::{FakeDaemon, FakeGithub};
use tidemark_protocol::{ConnectState, DisconnectReport};
use tidemark_tui::fixtures;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_connect_device_flow_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());

    let out = tidemark(&socket, &["connect", "github", "--team", "mobile"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Connected team 'mobile' to GitHub organization acme as @octocat.\n  \
         organization: acme (#4821)\n  GitHub login: octocat\n  scopes:       repo, read:org, \
         admin:repo_hook\n  token:        gho_…7c3d\n"
    );
    let talk = stderr(&out);
    assert!(
        talk.contains("Open https://github.com/login/device and enter the code\n\n    WDJB-MJHT\n"),
        "{talk}"
    );
    assert!(talk.contains("The code expires in 15 min."), "{talk}");
    // stderr is not a terminal: no escape sequences.
    assert!(!talk.contains('\x1b'), "{talk:?}");
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme")
    );
    assert!(fake.cancelled().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_connect_json_prints_the_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (_fake, _server) = serve(&dir, FakeGithub::default());

    let out = tidemark(
        &socket,
        &["connect", "github", "--team", "mobile", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let state: ConnectState = serde_json::from_slice(&out.stdout).unwrap();
    let ConnectState::Connected {
        github_login,
        integration,
    } = state
    else {
        panic!("{state:?}")
    };
    assert_eq!(github_login, "octocat");
    assert_eq!(integration.github.unwrap().organization_slug, "acme");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["connected"]["integration"]["credential"]["access_token"]["masked"],
        "gho_…7c3d"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_choose_org_without_a_terminal_fails_and_cancels_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, three_orgs());

    let out = tidemark(&socket, &["connect", "github", "--team", "mobile"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "error: several organizations are visible: pass --org SLUG (one of: acme, \
             acme-labs, widgets)\n"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
    let flows = fake.flows();
    assert_eq!(flows.len(), 1);
    assert_eq!(fake.cancelled(), flows, "the flow was cancelled");
    assert_eq!(
        fake.flow_state(flows[0]),
        Some(ConnectState::Failed {
            reason: "cancelled".into()
        })
    );
    assert_eq!(github_org(&fake.team("mobile").unwrap()), None);

    // Naming the organization succeeds, without asking.
    let out = tidemark(
        &socket,
        &[
            "connect",
            "github",
            "--team",
            "mobile",
            "--org",
            "acme-labs",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme-labs")
    );
    assert_eq!(fake.cancelled().len(), 1, "nothing else was cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_connect_failures_are_the_daemons_reason() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, three_orgs());

    let out = tidemark(
        &socket,
        &["connect", "github", "--team", "mobile", "--org", "nope"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).ends_with(
            "error: organization 'nope' is not visible to GitHub user octocat; visible: acme, \
             acme-labs, widgets\n"
        ),
        "{}",
        stderr(&out)
    );
    // The flow ended at the daemon: there was nothing to cancel.
    assert!(fake.cancelled().is_empty());

    let denied = FakeDaemon::new(teams()).with_github(FakeGithub {
        approve: false,
        ..FakeGithub::default()
    });
    let dir2 = tempfile::tempdir().unwrap();
    let _server2 = denied.clone().listen(&socket_in(&dir2));
    let out = tidemark(
        &socket_in(&dir2),
        &["connect", "github", "--team", "mobile"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).ends_with("error: the authorization was denied at GitHub\n"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_already_connected_needs_yes_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());

    let out = tidemark(&socket, &["connect", "github", "--team", "platform"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: team 'platform' is already connected to GitHub (acme); stdin is not a \
         terminal, so pass --yes to replace its token\n"
    );
    assert!(fake.flows().is_empty(), "no flow was started");
    let before = fake.team("platform").unwrap();
    assert_eq!(
        before.integrations[0].credential.access_token,
        fixtures::github_integration().credential.access_token
    );

    let out = tidemark(
        &socket,
        &["connect", "github", "--team", "platform", "--yes"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let after = fake.team("platform").unwrap();
    assert_eq!(after.integrations.len(), 1);
    assert_eq!(
        after.integrations[0].credential.access_token.to_string(),
        "gho_…7c3d",
        "the token was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_web_flow_prints_the_link_or_the_daemons_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (_fake, _server) = serve(&dir, FakeGithub::default());
    let out = tidemark(
        &socket,
        &[
            "connect",
            "github",
            "--team",
            "mobile",
            "--web",
            "--github-login",
            "octocat",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let talk = stderr(&out);
    assert!(
        talk.contains(
            "\n    https://github.com/login/oauth/authorize?client_id=Iv1.fake&state=flow-1\n"
        ),
        "{talk}"
    );
    assert!(!talk.contains("Opening your browser"), "no display: {talk}");
    assert!(
        talk.contains("GitHub signed the browser in as @octocat, as --github-login says."),
        "{talk}"
    );

    let dir2 = tempfile::tempdir().unwrap();
    let no_secret = FakeDaemon::new(teams()).with_github(FakeGithub {
        client_secret: false,
        ..FakeGithub::default()
    });
    let _server2 = no_secret.listen(&socket_in(&dir2));
    let out = tidemark(
        &socket_in(&dir2),
        &["connect", "github", "--team", "mobile", "--web"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: invalid method: the web flow needs GITHUB_CLIENT_SECRET"),
        "{err}"
    );
    assert!(
        err.contains("use the device flow instead (run the command without --web)"),
        "{err}"
    );
}

/// Without a terminal, the web flow's GitHub login is confirmed by --github-login or not at all;
/// every refusal cancels the flow, so the daemon stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_web_flow_needs_the_login_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            login: "mallory".into(),
            ..FakeGithub::default()
        },
    );
    let web = ["connect", "github", "--team", "mobile", "--web"];
    let out = tidemark(&socket, &web).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "error: GitHub signed the browser in as @mallory, and stdin is not a terminal to \
             confirm that account; nothing was stored. If @mallory is the account to connect, \
             run the command again with --github-login mallory\n"
        ),
        "{}",
        stderr(&out)
    );

    let mut expecting = web.to_vec();
    expecting.extend(["--github-login", "octocat", "--json"]);
    let out = tidemark(&socket, &expecting).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "error: GitHub signed the browser in as @mallory, not @octocat (--github-login); \
             nothing was stored\n"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");

    assert_eq!(fake.cancelled(), fake.flows(), "both flows were cancelled");
    assert!(fake.confirmed().is_empty());
    assert_eq!(github_org(&fake.team("mobile").unwrap()), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_ctrl_c_cancels_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    // The user never acts at GitHub.
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            waits: u32::MAX,
            ..FakeGithub::default()
        },
    );
    let child = command(&socket, &["connect", "github", "--team", "mobile"])
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // SIGINT is ours before the flow is asked for, so once it exists the signal is handled.
    wait_until("the flow to start", || !fake.flows().is_empty()).await;
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("tidemark exits after Ctrl-C")
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with("interrupted: nothing was connected\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.cancelled(), fake.flows());
    assert_eq!(github_org(&fake.team("mobile").unwrap()), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_disconnect_needs_yes_then_reports() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());

    let out = tidemark(&socket, &["disconnect", "github", "--team", "platform"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert_eq!(fake.team("platform").unwrap().integrations.len(), 1);

    let out = tidemark(
        &socket,
        &[
            "disconnect",
            "github",
            "--team",
            "platform",
            "--yes",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report: DisconnectReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report,
        DisconnectReport {
            organization: Some("acme".into()),
            hooks_deleted: 2,
            hooks_failed: vec![],
            grant_revoked: true,
            grant_note: None,
            repos_removed: 3,
            history_purged: false,
        }
    );
    let platform = fake.team("platform").unwrap();
    assert!(platform.integrations.is_empty() && platform.repos.is_empty());
    assert_eq!(platform.pull_request_count, 340, "history kept");

    // Nothing left to disconnect.
    let out = tidemark(
        &socket,
        &["disconnect", "github", "--team", "platform", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: a GitHub connection for this team not found\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_disconnect_with_purge_and_no_secret_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            client_secret: false,
            ..FakeGithub::default()
        },
    );
    let out = tidemark(
        &socket,
        &[
            "disconnect",
            "github",
            "--team",
            "platform",
            "--purge",
            "--yes",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Disconnected team 'platform' from GitHub (acme).\n"),
        "{text}"
    );
    assert!(
        text.contains("OAuth grant:          not revoked: no GITHUB_CLIENT_SECRET"),
        "{text}"
    );
    assert!(text.contains("synced history:       purged\n"), "{text}");
    assert_eq!(fake.team("platform").unwrap().pull_request_count, 0);
}
