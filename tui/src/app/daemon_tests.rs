//! The GitHub setup, the daemon panel and starting the daemon again: key → action → state (and
//! the RPCs and effects asked for), replies as events.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::{
    ConnectMethod, GitHubAppReport, GitHubAppRequest, ReloadReport, SettingSource,
};

use super::*;
use crate::fixtures;

const SECRET: &str = "0123abcd-very-secret";

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

fn press(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    events
        .into_iter()
        .flat_map(|e| handle_event(state, e))
        .collect()
}

/// Connected, with `teams` and the daemon's info (GitHub set up or not) in.
fn first_screen(teams: Vec<tidemark_protocol::TeamInfo>, configured: bool) -> State {
    let mut state = State::new("/tmp/t.sock".into()).with_browser(true);
    let reqs = press(
        &mut state,
        [Event::Link(LinkEvent::Connected {
            daemon_version: "0.1.0".into(),
        })],
    );
    assert_eq!(
        reqs,
        vec![
            Request::ListTeams,
            Request::ListInvitations,
            Request::DaemonInfo
        ]
    );
    press(
        &mut state,
        [
            Event::Reply(Reply::Teams(Ok(teams))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(configured)),
        ],
    );
    assert_eq!(state.in_flight, 0);
    state
}

fn setup(state: &State) -> &SetupDialog {
    match &state.modal {
        Some(Modal::Setup(dialog)) => dialog,
        other => panic!("no setup dialog: {other:?}"),
    }
}

fn report(applied: &[&str]) -> GitHubAppReport {
    let mut github = fixtures::daemon_info(true).github;
    github.has_secret = false;
    GitHubAppReport {
        config_file: "/home/alice/.config/tidemark/daemon.toml".into(),
        github,
        reload: ReloadReport {
            config_file: Some("/home/alice/.config/tidemark/daemon.toml".into()),
            applied: applied
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            need_restart: vec![],
            overridden: vec![],
        },
    }
}

fn saved(report: GitHubAppReport) -> Event {
    Event::Reply(Reply::GithubAppSaved(Ok(Box::new(report))))
}

/// `g`, the daemon's info answered, then on to the client id step.
fn at_client_id(state: &mut State) {
    let reqs = press(state, typed("g"));
    assert_eq!(reqs, vec![Request::DaemonInfo]);
    press(
        state,
        [
            Event::Reply(fixtures::daemon_info_reply(false)),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(setup(state).step, SetupStep::ClientId);
}

#[test]
fn the_whole_path_sends_the_trimmed_id_and_no_secret() {
    let mut state = first_screen(vec![], false);
    at_client_id(&mut state);
    // Empty, then with a space inside: refused inline, nothing sent.
    assert!(press(&mut state, [key(KeyCode::Enter)]).is_empty());
    assert!(
        setup(&state)
            .error
            .as_deref()
            .unwrap()
            .contains("cannot be empty")
    );
    press(&mut state, typed("Ov23 li"));
    assert_eq!(setup(&state).error, None, "typing clears the error");
    assert!(press(&mut state, [key(KeyCode::Enter)]).is_empty());
    assert!(setup(&state).error.as_deref().unwrap().contains("one word"));
    for _ in 0..7 {
        press(&mut state, [key(KeyCode::Backspace)]);
    }
    // Pasted with spaces around it: trimmed.
    press(&mut state, typed(" Ov23liABC  "));
    press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(setup(&state).step, SetupStep::Secret);
    // Enter on an empty secret: save without one.
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(
        reqs,
        vec![Request::GithubAppSet(GitHubAppRequest {
            client_id: "Ov23liABC".into(),
            client_secret: None,
            clear_secret: false,
        })]
    );
    assert_eq!(setup(&state).step, SetupStep::Saving);
    let reqs = press(&mut state, [saved(report(&["github_client_id"]))]);
    assert_eq!(reqs, vec![Request::DaemonInfo], "the info is read again");
    assert!(matches!(setup(&state).step, SetupStep::Saved(_)));
    // The first screen switches at once.
    let Loadable::Loaded(info) = &state.daemon_info else {
        panic!()
    };
    assert!(info.github.configured);
}

#[test]
fn the_secret_goes_in_the_request_only() {
    let mut state = first_screen(vec![], false);
    at_client_id(&mut state);
    press(&mut state, typed("Ov23liABC"));
    press(&mut state, [key(KeyCode::Enter)]);
    press(&mut state, typed(SECRET));
    let debug = format!("{state:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    let [Request::GithubAppSet(req)] = reqs.as_slice() else {
        panic!("{reqs:?}")
    };
    assert_eq!(req.client_secret.as_deref(), Some(SECRET));
    assert!(!format!("{reqs:?}").contains(SECRET));
    // Once saved, the dialog forgets it.
    press(&mut state, [saved(report(&["github_client_id"]))]);
    assert!(setup(&state).secret.is_empty());
}

#[test]
fn esc_goes_back_a_step_and_keeps_what_was_typed() {
    let mut state = first_screen(vec![], false);
    at_client_id(&mut state);
    press(&mut state, typed("Ov23liABC"));
    press(&mut state, [key(KeyCode::Enter)]);
    press(&mut state, typed("xyz"));
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(setup(&state).step, SetupStep::ClientId);
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(setup(&state).step, SetupStep::Register);
    press(&mut state, [key(KeyCode::Enter), key(KeyCode::Enter)]);
    assert_eq!(setup(&state).step, SetupStep::Secret);
    assert_eq!(setup(&state).client_id.value(), "Ov23liABC");
    assert_eq!(setup(&state).secret.reveal(), "xyz");
    // From the first step, esc closes.
    press(
        &mut state,
        [key(KeyCode::Esc), key(KeyCode::Esc), key(KeyCode::Esc)],
    );
    assert_eq!(state.modal, None);
}

#[test]
fn a_refusal_names_who_may_and_keeps_the_inputs() {
    let mut state = first_screen(vec![], false);
    at_client_id(&mut state);
    press(&mut state, typed("Ov23liABC"));
    press(&mut state, [key(KeyCode::Enter)]);
    press(&mut state, typed("abc"));
    press(&mut state, [key(KeyCode::Enter)]);
    press(
        &mut state,
        [Event::Reply(Reply::GithubAppSaved(Err(
            OperateError::Denied(
                "permission denied: only the daemon's own user and root may stop, reload or \
             configure it"
                    .into(),
            ),
        )))],
    );
    let dialog = setup(&state);
    assert_eq!(dialog.step, SetupStep::Secret);
    let error = dialog.error.as_deref().unwrap();
    assert!(error.starts_with("not saved: permission denied"), "{error}");
    assert!(error.contains("sudo tidemark setup github"), "{error}");
    assert_eq!(dialog.client_id.value(), "Ov23liABC");
    assert_eq!(dialog.secret.reveal(), "abc");
}

#[test]
fn a_user_who_may_not_operate_is_told_on_the_first_step() {
    let mut state = first_screen(vec![], false);
    press(&mut state, typed("g"));
    let mut info = fixtures::daemon_info(false);
    info.caller_may_operate = false;
    info.user = "tidemark".into();
    press(
        &mut state,
        [
            Event::Reply(Reply::DaemonInfo(Ok(Box::new(info)))),
            key(KeyCode::Enter),
        ],
    );
    // The first step says who may (see the screen tests); enter stays there.
    assert_eq!(setup(&state).step, SetupStep::Register);
}

#[test]
fn the_first_step_opens_and_copies_the_daemons_values() {
    let mut state = first_screen(vec![], false);
    press(&mut state, typed("g"));
    press(&mut state, typed("oyc"));
    assert_eq!(
        state.take_effects(),
        vec![
            Effect::OpenUrl("https://github.com/settings/applications/new".into()),
            Effect::Copy("https://github.com/settings/applications/new".into()),
            Effect::Copy("http://127.0.0.1/oauth/callback".into()),
        ]
    );
    assert!(
        setup(&state)
            .hint
            .as_deref()
            .unwrap()
            .contains("callback URL")
    );
}

#[test]
fn not_configured_on_connect_offers_g_and_then_connects_that_team() {
    let mut state = first_screen(fixtures::teams(), false);
    press(&mut state, [key(KeyCode::Char('j')), key(KeyCode::Enter)]);
    press(&mut state, typed("c"));
    press(
        &mut state,
        [Event::Reply(Reply::ConnectStarted {
            attempt: 1,
            result: Err(StartError::NotConfigured(
                "GitHub is not set up on this daemon yet".into(),
            )),
        })],
    );
    let Some(Modal::Connect(dialog)) = &state.modal else {
        panic!("{:?}", state.modal)
    };
    assert!(matches!(dialog.phase, ConnectPhase::NotConfigured { .. }));
    assert_eq!(press(&mut state, typed("g")), vec![Request::DaemonInfo]);
    assert_eq!(setup(&state).team, Some((2, "mobile".into())));
    press(&mut state, [saved(report(&["github_client_id"]))]);
    let reqs = press(&mut state, typed("c"));
    assert_eq!(
        reqs,
        vec![Request::StartConnect {
            team: 2,
            method: ConnectMethod::Device,
            replace: false,
            attempt: 2,
        }]
    );
}

#[test]
fn n_at_the_end_creates_a_team_and_connects_it() {
    let mut state = first_screen(vec![], false);
    at_client_id(&mut state);
    press(&mut state, typed("Ov23liABC"));
    press(&mut state, [key(KeyCode::Enter), key(KeyCode::Enter)]);
    press(&mut state, [saved(report(&["github_client_id"]))]);
    // No team yet: `c` has nothing to connect.
    assert!(press(&mut state, typed("c")).is_empty());
    press(&mut state, typed("n"));
    let Some(Modal::Create(form)) = &state.modal else {
        panic!("{:?}", state.modal)
    };
    assert!(form.connect_after);
    press(&mut state, typed("platform"));
    press(&mut state, [key(KeyCode::Enter)]);
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Created(
            Ok(fixtures::teams().remove(0)),
        ))],
    );
    assert_eq!(reqs.first(), Some(&Request::ListTeams));
    assert!(reqs.contains(&Request::LoadTeam(1)));
    assert_eq!(
        reqs.last(),
        Some(&Request::StartConnect {
            team: 1,
            method: ConnectMethod::Device,
            replace: false,
            attempt: 1,
        })
    );
    assert!(matches!(state.modal, Some(Modal::Connect(_))));
}

#[test]
fn the_panel_reloads_and_says_what_happened() {
    let mut state = first_screen(fixtures::teams(), true);
    assert_eq!(press(&mut state, typed("D")), vec![Request::DaemonInfo]);
    assert_eq!(press(&mut state, typed("r")), vec![Request::DaemonReload]);
    // A second `r` while one runs asks nothing more.
    assert!(press(&mut state, typed("r")).is_empty());
    let report = ReloadReport {
        config_file: None,
        applied: vec!["sync_interval_secs".into()],
        need_restart: vec!["webhook_addr".into()],
        overridden: vec![("github_client_id".into(), SettingSource::Environment)],
    };
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Reloaded(Ok(report.clone())))],
    );
    assert_eq!(reqs, vec![Request::DaemonInfo]);
    let Some(Modal::Daemon(panel)) = &state.modal else {
        panic!()
    };
    assert_eq!(panel.reload, Some(Loadable::Loaded(report)));
    // Refused: who may, and the command.
    press(&mut state, typed("r"));
    press(
        &mut state,
        [Event::Reply(Reply::Reloaded(Err(OperateError::Denied(
            "permission denied: only the daemon's own user and root may stop, reload or \
             configure it"
                .into(),
        ))))],
    );
    let Some(Modal::Daemon(panel)) = &state.modal else {
        panic!()
    };
    let Some(Loadable::Failed(reason)) = &panel.reload else {
        panic!("{:?}", panel.reload)
    };
    assert!(reason.contains("sudo tidemark daemon reload"), "{reason}");
    // `g` goes from the panel to the setup; esc closes.
    press(&mut state, typed("g"));
    assert!(matches!(state.modal, Some(Modal::Setup(_))));
}

#[test]
fn the_panel_scrolls_and_closes() {
    let mut state = first_screen(fixtures::teams(), true);
    press(&mut state, typed("Djjk"));
    let Some(Modal::Daemon(panel)) = &state.modal else {
        panic!()
    };
    assert_eq!(panel.scroll, 1);
    assert_eq!(state.selected.row(), 0, "the list underneath did not move");
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(state.modal, None);
}

#[test]
fn s_after_a_failed_start_asks_the_link_once_and_only_then() {
    let mut state = State::new("/tmp/t.sock".into());
    press(
        &mut state,
        [
            Event::Link(LinkEvent::Starting),
            Event::Link(LinkEvent::StartFailed {
                reason: "the tidemark daemon exited during start-up".into(),
            }),
        ],
    );
    assert!(matches!(state.link, Link::StartFailed { .. }));
    assert!(!state.is_busy(), "nothing is under way");
    assert_eq!(press(&mut state, typed("s")), vec![Request::StartDaemon]);
    assert_eq!(state.in_flight, 0, "not an RPC: no reply will come");
    // Connected, or merely lost: `s` starts nothing.
    press(
        &mut state,
        [Event::Link(LinkEvent::Lost {
            reason: "gone".into(),
        })],
    );
    assert!(press(&mut state, typed("s")).is_empty());
    assert!(matches!(state.notice, Some(Notice::Error(_))));
    let mut state = first_screen(vec![], true);
    assert!(press(&mut state, typed("s")).is_empty());
}

#[test]
fn g_and_d_wait_for_the_daemon() {
    let mut state = State::new("/tmp/t.sock".into());
    assert!(press(&mut state, typed("gD")).is_empty());
    assert_eq!(state.modal, None);
    assert!(matches!(state.notice, Some(Notice::Error(_))));
}
