//! The first screen and the GitHub setup through the real link against the fake daemon, as the
//! runtime drives them (keys in, requests out, replies in), with the screen read as text where
//! it matters. Every wait is on a condition, never a fixed sleep.

use crate::support::connect::{github_org, serve, socket_in};
use crate::support::fake_daemon::{FakeDaemon, FakeGithub};
use crate::support::tui::{Tui, shows};
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::GitHubAppRequest;
use tidemark_tui::app::{ConnectPhase, Loadable, Modal, Notice, Screen, SetupStep, State};
use tidemark_tui::views::first_screen::DEMO_COMMAND;

const CALLBACK: &str = "http://127.0.0.1/oauth/callback";
const CONFIG: &str = "/fake/config/tidemark/daemon.toml";

fn not_set_up() -> FakeGithub {
    FakeGithub {
        client_id: false,
        client_secret: false,
        ..FakeGithub::default()
    }
}

fn step(state: &State) -> Option<&SetupStep> {
    match &state.modal {
        Some(Modal::Setup(dialog)) => Some(&dialog.step),
        _ => None,
    }
}

/// Nothing in flight: the last request's reply is in.
fn settled(state: &State) -> bool {
    state.in_flight == 0
}

fn github_set_up(state: &State) -> bool {
    matches!(&state.daemon_info, Loadable::Loaded(info) if info.github.configured)
}

#[track_caller]
fn assert_shows(tui: &Tui, text: &str) {
    let lines = tui.screen(80, 24);
    assert!(
        shows(&lines, text),
        "{text:?} not whole on screen:\n{}",
        lines.join("\n")
    );
}

/// `g`, the values read, enter, the client id, enter, enter on an empty secret: saved.
async fn set_up_github(tui: &mut Tui) {
    tui.press("g");
    tui.until("the values to register", |s| {
        settled(s) && step(s) == Some(&SetupStep::Register)
    })
    .await;
    assert_shows(tui, &format!("Authorization callback URL  {CALLBACK}"));
    tui.key(KeyCode::Enter);
    tui.press("  Ov23liTEST0123456789 ");
    tui.key(KeyCode::Enter);
    assert_eq!(step(&tui.state), Some(&SetupStep::Secret));
    tui.key(KeyCode::Enter);
    tui.until("the outcome", |s| {
        matches!(step(s), Some(SetupStep::Saved(_)))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_first_screen_to_a_connected_team() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let fake = FakeDaemon::new(vec![]).with_github(not_set_up());
    let _server = fake.clone().listen(&socket);
    let mut tui = Tui::start(&socket);
    tui.until("the first screen", |s| {
        matches!(s.teams, Loadable::Loaded(_)) && matches!(s.daemon_info, Loadable::Loaded(_))
    })
    .await;
    assert_shows(&tui, DEMO_COMMAND);
    assert_shows(&tui, "g  Set up GitHub");

    set_up_github(&mut tui).await;
    assert_eq!(
        fake.app_sets(),
        vec![GitHubAppRequest {
            client_id: "Ov23liTEST0123456789".into(),
            client_secret: None,
            clear_secret: false,
        }]
    );
    assert_shows(&tui, CONFIG);
    assert_shows(&tui, "Applied now, no restart needed: github_client_id.");
    // The daemon's info is read again: GitHub is set up now, with the id just saved.
    tui.until("the daemon's info again", |s| {
        settled(s) && github_set_up(s)
    })
    .await;
    let Loadable::Loaded(info) = &tui.state.daemon_info else {
        unreachable!()
    };
    assert_eq!(
        info.setting("github_client_id").unwrap().value.as_deref(),
        Some("Ov23liTEST0123456789")
    );

    // Then a team, connected at once.
    tui.press("n");
    tui.press("platform");
    tui.key(KeyCode::Enter);
    tui.until("the device code", |s| match &s.modal {
        Some(Modal::Connect(dialog)) => matches!(dialog.phase, ConnectPhase::Waiting { .. }),
        _ => false,
    })
    .await;
    tui.until("the team connected", |s| {
        matches!(s.notice, Some(Notice::Info(_))) && s.modal.is_none()
    })
    .await;
    assert!(matches!(&tui.state.screen, Screen::Team(view) if view.name == "platform"));
    assert_eq!(
        github_org(&fake.team("platform").unwrap()).as_deref(),
        Some("acme")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_without_github_set_up_leads_to_the_setup_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, not_set_up());
    let mut tui = Tui::start(&socket);
    tui.until("the team list", |s| s.teams().len() == 2).await;
    tui.open("mobile").await;
    tui.press("c");
    tui.until("the daemon's answer", |s| match &s.modal {
        Some(Modal::Connect(dialog)) => matches!(dialog.phase, ConnectPhase::NotConfigured { .. }),
        _ => false,
    })
    .await;
    assert_shows(&tui, "GitHub is not set up on this daemon yet");
    assert_shows(&tui, "g set up GitHub");

    set_up_github(&mut tui).await;
    assert_shows(&tui, "c connect team 'mobile'");
    tui.press("c");
    tui.until("the team connected", |s| {
        matches!(&s.screen, Screen::Team(view)
            if matches!(&view.status, Loadable::Loaded(st) if github_org(st).is_some()))
    })
    .await;
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_daemon_is_not_configured_from_here() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let fake = FakeDaemon::new(vec![])
        .with_github(not_set_up())
        .not_operated_by_caller();
    let _server = fake.clone().listen(&socket);
    let mut tui = Tui::start(&socket);
    tui.until("the first screen", |s| {
        settled(s) && matches!(s.daemon_info, Loadable::Loaded(_))
    })
    .await;
    tui.press("g");
    tui.until("the values to register", |s| {
        settled(s) && step(s) == Some(&SetupStep::Register)
    })
    .await;
    assert_shows(&tui, "sudo tidemark setup github");
    tui.key(KeyCode::Enter);
    assert_eq!(step(&tui.state), Some(&SetupStep::Register));

    // The panel says the same of a reload, and the daemon refuses it.
    tui.key(KeyCode::Esc);
    tui.press("D");
    tui.until("the panel", settled).await;
    assert_shows(&tui, "Data dir     /fake/data");
    tui.press("r");
    tui.until("the refusal", |s| {
        matches!(&s.modal, Some(Modal::Daemon(panel)) if matches!(panel.reload, Some(Loadable::Failed(_))))
    })
    .await;
    let text = tui.screen(100, 30).join("\n");
    assert!(text.contains("Not reloaded: permission denied"), "{text}");
    assert!(text.contains("sudo tidemark daemon reload"), "{text}");
    assert!(fake.app_sets().is_empty());
}
