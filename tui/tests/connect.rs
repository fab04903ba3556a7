//! Connecting and disconnecting GitHub against the fake daemon (real protocol, real transport):
//! the `tidemark` binary's `connect github` / `disconnect github`, and the TUI's update function
//! driven through the real link.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::fake_daemon::{FakeDaemon, FakeGithub, org};
use tidemark_protocol::{ConnectPrompt, ConnectState, DisconnectReport, Provider, TeamStatus};
use tidemark_tui::app::{
    ConnectPhase, Event, Loadable, Modal, Notice, Request, Screen, State, handle_event,
};
use tidemark_tui::autostart::Endpoint;
use tidemark_tui::{fixtures, link};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// Every wait in this file is bounded by this.
const PATIENCE: Duration = Duration::from_secs(20);

/// `platform` (#1) is connected to GitHub (acme, 3 repos, 2 with webhooks); `mobile` (#2) is not.
fn teams() -> Vec<TeamStatus> {
    let mut mobile = fixtures::team_status();
    mobile.team = fixtures::teams().remove(1);
    mobile.integrations.clear();
    mobile.repos.clear();
    vec![fixtures::team_status(), mobile]
}

fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tidemark.sock")
}

fn serve(dir: &tempfile::TempDir, github: FakeGithub) -> (FakeDaemon, JoinHandle<()>) {
    let fake = FakeDaemon::new(teams()).with_github(github);
    let server = fake.clone().listen(&socket_in(dir));
    (fake, server)
}

fn command(socket: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidemark"));
    cmd.args(["--no-start", "--socket"])
        .arg(socket)
        .args(args)
        .env_remove("TIDEMARK_DATA_DIR")
        .env("HOME", socket.parent().unwrap())
        .env_remove("XDG_DATA_HOME")
        // No graphical session: the web flow must print its link and never start a browser.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        // Not a terminal: every question is refused or needs a flag.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn tidemark(socket: &Path, args: &[&str]) -> Output {
    let run = command(socket, args).output();
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("tidemark finished in time")
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Poll `check` until it holds, or fail after [`PATIENCE`].
async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let poll = async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

fn github_org(status: &TeamStatus) -> Option<String> {
    status
        .integrations
        .iter()
        .find(|i| i.credential.provider == Provider::Github)
        .and_then(|i| i.github.as_ref())
        .map(|gh| gh.organization_slug.clone())
}

// ---- the CLI ----

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

fn three_orgs() -> FakeGithub {
    FakeGithub {
        orgs: vec![
            org("acme", 1, Some("Acme Corp")),
            org("acme-labs", 2, None),
            org("widgets", 3, None),
        ],
        ..FakeGithub::default()
    }
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
    let out = tidemark(&socket, &["connect", "github", "--team", "mobile", "--web"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let talk = stderr(&out);
    assert!(
        talk.contains(
            "\n    https://github.com/login/oauth/authorize?client_id=Iv1.fake&state=flow-1\n"
        ),
        "{talk}"
    );
    assert!(!talk.contains("Opening your browser"), "no display: {talk}");

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

// ---- the TUI: update + link against the fake ----

struct Tui {
    state: State,
    requests: Option<UnboundedSender<Request>>,
    events: UnboundedReceiver<Event>,
    link: Option<JoinHandle<()>>,
}

impl Tui {
    async fn start(socket: &Path) -> Tui {
        let endpoint = Endpoint {
            data_dir: socket.parent().unwrap().join("data"),
            socket: socket.to_path_buf(),
            autostart: false,
        };
        let (req_tx, req_rx) = unbounded_channel();
        let (ev_tx, ev_rx) = unbounded_channel();
        let link = tokio::spawn(link::run(endpoint, req_rx, ev_tx));
        let mut tui = Tui {
            state: State::new(socket.to_path_buf()),
            requests: Some(req_tx),
            events: ev_rx,
            link: Some(link),
        };
        tui.until("the team list", |s| s.teams().len() == 2).await;
        tui
    }

    fn handle(&mut self, event: Event) {
        for request in handle_event(&mut self.state, event) {
            let _ = self.requests.as_ref().unwrap().send(request);
        }
    }

    fn press(&mut self, keys: &str) {
        for c in keys.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Apply events from the link until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(&self.state) {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:#?}", self.state))
                .expect("link alive");
            self.handle(event);
        }
    }

    /// Open the team `name` and wait for its status.
    async fn open(&mut self, name: &str) {
        let index = self.state.teams().iter().position(|t| t.name == name);
        for _ in 0..index.unwrap() {
            self.press("j");
        }
        self.key(KeyCode::Enter);
        self.until(
            "the team view",
            |s| matches!(&s.screen, Screen::Team(v) if matches!(v.status, Loadable::Loaded(_))),
        )
        .await;
    }
}

fn phase(state: &State) -> Option<&ConnectPhase> {
    match &state.modal {
        Some(Modal::Connect(dialog)) => Some(&dialog.phase),
        _ => None,
    }
}

fn view_org(state: &State) -> Option<String> {
    match &state.screen {
        Screen::Team(view) => match &view.status {
            Loadable::Loaded(status) => github_org(status),
            _ => None,
        },
        Screen::Teams => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_connects_through_the_device_flow_and_refreshes_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    let Some(ConnectPhase::Waiting { prompt, .. }) = phase(&tui.state) else {
        unreachable!()
    };
    assert_eq!(
        prompt,
        &ConnectPrompt::Device {
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://github.com/login/device".into()
        }
    );
    // The daemon answers Waiting twice, then the user has approved: the view reloads.
    tui.until("the reloaded team", |s| view_org(s).is_some())
        .await;
    assert_eq!(tui.state.modal, None);
    assert_eq!(
        tui.state.notice,
        Some(Notice::Info(
            "Connected team 'mobile' to GitHub organization acme as @octocat.".into()
        ))
    );
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme"));
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_picks_an_organization() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, three_orgs());
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the organization picker", |s| {
        matches!(phase(s), Some(ConnectPhase::ChooseOrg { .. }))
    })
    .await;
    tui.press("jjk");
    tui.key(KeyCode::Enter);
    tui.until("the reloaded team", |s| view_org(s).is_some())
        .await;
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme-labs"));
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme-labs")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_esc_and_quit_cancel_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            waits: u32::MAX,
            ..FakeGithub::default()
        },
    );
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.key(KeyCode::Esc);
    assert_eq!(tui.state.modal, None);
    wait_until("the cancel", || fake.cancelled().len() == 1).await;
    assert_eq!(fake.cancelled(), fake.flows());

    // Quit with a second flow open: its cancel is the last request, and the link delivers it
    // before it stops (as the runtime lets it when the UI goes away).
    tui.press("c");
    tui.until("the second code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.handle(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(tui.state.quit);
    drop(tui.requests.take());
    tokio::time::timeout(PATIENCE, tui.link.take().unwrap())
        .await
        .expect("the link stops")
        .unwrap();
    assert_eq!(fake.flows().len(), 2);
    assert_eq!(fake.cancelled(), fake.flows(), "both flows were cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_disconnects_with_purge() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());
    let mut tui = Tui::start(&socket).await;
    tui.open("platform").await;
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme"));

    tui.press("xpy");
    tui.until("the report", |s| matches!(s.notice, Some(Notice::Info(_))))
        .await;
    let Some(Notice::Info(text)) = &tui.state.notice else {
        unreachable!()
    };
    assert_eq!(
        text,
        "Disconnected 'platform' from GitHub (acme): 2 webhooks deleted, grant revoked, 3 \
         repositories removed, history purged."
    );
    tui.until("the reloaded team", |s| {
        matches!(&s.screen, Screen::Team(v)
            if matches!(&v.status, Loadable::Loaded(st) if st.integrations.is_empty()))
    })
    .await;
    let platform = fake.team("platform").unwrap();
    assert!(platform.integrations.is_empty());
    assert_eq!(platform.pull_request_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_shows_the_daemons_refusal_and_retries_with_the_other_method() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (_fake, _server) = serve(
        &dir,
        FakeGithub {
            client_secret: false,
            waits: u32::MAX,
            ..FakeGithub::default()
        },
    );
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;
    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.press("w");
    tui.until("the refusal", |s| {
        matches!(phase(s), Some(ConnectPhase::Failed { .. }))
    })
    .await;
    let Some(ConnectPhase::Failed { reason }) = phase(&tui.state) else {
        unreachable!()
    };
    assert!(
        reason.starts_with("invalid method: the web flow needs GITHUB_CLIENT_SECRET"),
        "{reason}"
    );
    tui.press("w");
    tui.until("a device code again", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
}
