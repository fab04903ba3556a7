//! The TUI's connect and disconnect: the update function driven through the real link against
//! the fake daemon, as the runtime drives it (requests out, events in), minus the terminal.

use crate::support::connect::{PATIENCE, github_org, serve, socket_in, three_orgs, wait_until};
use crate::support::fake_daemon::FakeGithub;
use crate::support::tui::Tui;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::ConnectPrompt;
use tidemark_tui::app::{ConnectPhase, Event, Loadable, Modal, Notice, Screen, State};

/// The TUI on `socket`, its team list in.
async fn start(socket: &std::path::Path) -> Tui {
    let mut tui = Tui::start(socket);
    tui.until("the team list", |s| s.teams().len() == 2).await;
    tui
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
    let mut tui = start(&socket).await;
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
    let mut tui = start(&socket).await;
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
    let mut tui = start(&socket).await;
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

/// The web flow asks whether the account GitHub signed in is the one to connect: `n` cancels
/// it at the daemon and nothing is stored; `y` connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_web_flow_connects_only_the_login_the_user_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            login: "mallory".into(),
            ..FakeGithub::default()
        },
    );
    let mut tui = start(&socket).await;
    tui.open("mobile").await;
    let asked = |s: &State| {
        matches!(phase(s), Some(ConnectPhase::ConfirmLogin { github_login, .. })
            if github_login == "mallory")
    };

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.press("w");
    tui.until("the login question", asked).await;
    let web = fake.flows()[1];
    tui.press("n");
    assert_eq!(tui.state.modal, None);
    wait_until("the cancel", || fake.cancelled().contains(&web)).await;
    assert!(fake.confirmed().is_empty());
    assert!(fake.team("mobile").unwrap().integrations.is_empty());

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.press("w");
    tui.until("the login question", asked).await;
    tui.press("y");
    tui.until("the reloaded team", |s| view_org(s).is_some())
        .await;
    assert_eq!(fake.confirmed().len(), 1);
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_disconnects_with_purge() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());
    let mut tui = start(&socket).await;
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
    let mut tui = start(&socket).await;
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
    // The TUI names no command-line flag: `w` is how it switches.
    assert!(!reason.contains("--"), "{reason}");
    tui.press("w");
    tui.until("a device code again", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
}
