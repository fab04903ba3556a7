//! Connect and disconnect GitHub: key → action → state (and the RPCs and effects asked for),
//! replies as events. The web flow's login question is in `github_tests/login.rs`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectStarted, ConnectState, DisconnectReport, OrgChoice,
};

use super::*;
use crate::fixtures;

// The web flow's login question.
mod login;

const CODE: &str = "WDJB-MJHT";
const URI: &str = "https://github.com/login/device";

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn press(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    events
        .into_iter()
        .flat_map(|e| handle_event(state, e))
        .collect()
}

/// On the team view of `mobile` (#2), loaded, with or without a GitHub connection.
fn team_view(connected_to_github: bool) -> State {
    let mut state = State::new("/tmp/t.sock".into()).with_browser(true);
    let reqs = press(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(true)),
            ch('j'),
            key(KeyCode::Enter),
        ],
    );
    for req in &reqs {
        if let Some(reply) = fixtures::team_reply(req) {
            press(&mut state, [Event::Reply(reply)]);
        }
    }
    let mut status = fixtures::team_status();
    status.team = fixtures::teams().remove(1);
    if !connected_to_github {
        status.integrations.clear();
    }
    press(
        &mut state,
        [Event::Reply(Reply::Team {
            id: 2,
            result: Ok(Box::new(status)),
        })],
    );
    assert_eq!(state.in_flight, 0);
    state
}

fn device_started(flow: u64) -> ConnectStarted {
    ConnectStarted {
        flow,
        prompt: ConnectPrompt::Device {
            user_code: CODE.into(),
            verification_uri: URI.into(),
        },
        expires_at: fixtures::T0 + 900,
    }
}

fn started(attempt: u64, flow: u64) -> Event {
    Event::Reply(Reply::ConnectStarted {
        attempt,
        result: Ok(device_started(flow)),
    })
}

fn state_reply(flow: u64, state: ConnectState) -> Event {
    Event::Reply(Reply::ConnectState {
        flow,
        result: Ok(state),
    })
}

fn dialog(state: &State) -> &ConnectDialog {
    match &state.modal {
        Some(Modal::Connect(dialog)) => dialog,
        other => panic!("no connect dialog: {other:?}"),
    }
}

fn start_request(method: ConnectMethod, replace: bool, attempt: u64) -> Request {
    Request::StartConnect {
        team: 2,
        method,
        replace,
        attempt,
    }
}

/// `c`, and the daemon starts flow 7.
fn waiting() -> State {
    let mut state = team_view(false);
    assert_eq!(
        press(&mut state, [ch('c')]),
        vec![start_request(ConnectMethod::Device, false, 1)]
    );
    assert_eq!(dialog(&state).phase, ConnectPhase::Starting);
    assert_eq!(
        press(&mut state, [started(1, 7)]),
        vec![Request::ConnectStatus { flow: 7 }]
    );
    state
}

fn orgs() -> Vec<OrgChoice> {
    ["acme", "acme-labs", "widgets"]
        .iter()
        .enumerate()
        .map(|(i, login)| OrgChoice {
            login: (*login).into(),
            id: i as u64 + 1,
            description: None,
        })
        .collect()
}

fn report(purge: bool) -> DisconnectReport {
    DisconnectReport {
        organization: Some("acme".into()),
        hooks_deleted: 2,
        hooks_failed: vec![],
        grant_revoked: true,
        grant_note: None,
        repos_removed: 3,
        history_purged: purge,
    }
}

#[test]
fn c_starts_the_device_flow_and_shows_the_code() {
    let state = waiting();
    let dialog = dialog(&state);
    assert_eq!(dialog.method, ConnectMethod::Device);
    assert!(!dialog.replace);
    let ConnectPhase::Waiting {
        flow,
        prompt,
        expires_at,
    } = &dialog.phase
    else {
        panic!("{:?}", dialog.phase)
    };
    assert_eq!((*flow, *expires_at), (7, fixtures::T0 + 900));
    assert_eq!(prompt, &device_started(7).prompt);
    // The long poll is in flight: the spinner turns.
    assert!(state.is_busy());
}

#[test]
fn waiting_polls_again_until_connected_then_reloads_the_team() {
    let mut state = waiting();
    assert_eq!(
        press(&mut state, [state_reply(7, ConnectState::Waiting)]),
        vec![Request::ConnectStatus { flow: 7 }]
    );
    let connected = ConnectState::Connected {
        github_login: "octocat".into(),
        integration: Box::new(fixtures::github_integration()),
    };
    let reqs = press(&mut state, [state_reply(7, connected)]);
    assert_eq!(reqs, vec![Request::LoadTeam(2)]);
    assert_eq!(state.modal, None);
    assert_eq!(
        state.notice,
        Some(Notice::Info(
            "Connected team 'mobile' to GitHub organization acme as @octocat.".into()
        ))
    );
    assert_eq!(state.in_flight, 1, "only the reload is still out");
}

#[test]
fn choose_org_picks_with_j_k_and_enter() {
    let mut state = waiting();
    let reqs = press(
        &mut state,
        [state_reply(7, ConnectState::ChooseOrg { orgs: orgs() })],
    );
    assert!(reqs.is_empty(), "no polling while the user picks");
    // Clamped at both ends.
    press(&mut state, [ch('k'), ch('j'), ch('j'), ch('j'), ch('k')]);
    let ConnectPhase::ChooseOrg { selected, .. } = &dialog(&state).phase else {
        panic!()
    };
    assert_eq!(*selected, 1);
    // The team view's repository selection did not move underneath.
    let Screen::Team(view) = &state.screen else {
        panic!()
    };
    assert_eq!(view.selected_repo.row(), 0);
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(
        reqs,
        vec![Request::ChooseOrg {
            flow: 7,
            org: "acme-labs".into()
        }]
    );
    // A second enter while the choice is out does not send it twice.
    assert!(press(&mut state, [key(KeyCode::Enter), ch('j')]).is_empty());
    let ConnectPhase::ChooseOrg {
        selected,
        submitting,
        ..
    } = &dialog(&state).phase
    else {
        panic!()
    };
    assert_eq!((*selected, *submitting), (1, true));
}

#[test]
fn failure_shows_the_reason_and_r_or_w_try_again() {
    let mut state = waiting();
    let denied = ConnectState::Failed {
        reason: "the authorization was denied at GitHub".into(),
    };
    assert!(press(&mut state, [state_reply(7, denied)]).is_empty());
    assert_eq!(
        dialog(&state).phase,
        ConnectPhase::Failed {
            reason: "the authorization was denied at GitHub".into()
        }
    );
    // The flow is over at the daemon: retrying cancels nothing.
    assert_eq!(
        press(&mut state, [ch('r')]),
        vec![start_request(ConnectMethod::Device, false, 2)]
    );
    press(
        &mut state,
        [Event::Reply(Reply::ConnectStarted {
            attempt: 2,
            result: Err(StartError::Refused("GitHub unreachable".into())),
        })],
    );
    assert_eq!(
        press(&mut state, [ch('w')]),
        vec![start_request(ConnectMethod::Web, false, 3)]
    );
    assert_eq!(dialog(&state).method, ConnectMethod::Web);
}

#[test]
fn an_rpc_error_while_polling_is_a_failure_on_screen() {
    let mut state = waiting();
    press(
        &mut state,
        [Event::Reply(Reply::ConnectState {
            flow: 7,
            result: Err("connect flow 7 not found".into()),
        })],
    );
    assert_eq!(
        dialog(&state).phase,
        ConnectPhase::Failed {
            reason: "connect flow 7 not found".into()
        }
    );
}

#[test]
fn esc_cancels_the_flow_and_late_answers_are_ignored() {
    let mut state = waiting();
    let reqs = press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(reqs, vec![Request::CancelConnect { flow: 7 }]);
    assert_eq!(state.modal, None);
    assert!(matches!(state.notice, Some(Notice::Info(_))));
    // The poll that was in flight comes back: nothing happens.
    let reqs = press(
        &mut state,
        [state_reply(
            7,
            ConnectState::Failed {
                reason: "cancelled".into(),
            },
        )],
    );
    assert!(reqs.is_empty());
    assert_eq!(state.modal, None);
}

#[test]
fn a_flow_started_after_its_dialog_closed_is_cancelled() {
    let mut state = team_view(false);
    press(&mut state, [ch('c')]);
    // Esc before the daemon answered: nothing to cancel yet.
    assert!(press(&mut state, [key(KeyCode::Esc)]).is_empty());
    assert_eq!(
        press(&mut state, [started(1, 9)]),
        vec![Request::CancelConnect { flow: 9 }]
    );
    assert_eq!(state.modal, None);
}

#[test]
fn w_switches_to_the_web_flow_and_opens_the_browser() {
    let mut state = waiting();
    let reqs = press(&mut state, [ch('w')]);
    assert_eq!(
        reqs,
        vec![
            Request::CancelConnect { flow: 7 },
            start_request(ConnectMethod::Web, false, 2)
        ]
    );
    // The old flow's poll answers late: ignored.
    assert!(press(&mut state, [state_reply(7, ConnectState::Waiting)]).is_empty());
    // `w` while starting does nothing (one start at a time).
    assert!(press(&mut state, [ch('w')]).is_empty());
    let url = "https://github.com/login/oauth/authorize?client_id=x&state=y";
    let web = ConnectStarted {
        flow: 8,
        prompt: ConnectPrompt::Browser {
            authorize_url: url.into(),
        },
        expires_at: fixtures::T0 + 600,
    };
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::ConnectStarted {
            attempt: 2,
            result: Ok(web),
        })],
    );
    assert_eq!(reqs, vec![Request::ConnectStatus { flow: 8 }]);
    assert_eq!(state.take_effects(), vec![Effect::OpenUrl(url.into())]);
    // `y` copies the link itself.
    press(&mut state, [ch('y')]);
    assert_eq!(state.take_effects(), vec![Effect::Copy(url.into())]);
}

#[test]
fn y_copies_the_code_and_o_opens_the_verification_page() {
    let mut state = waiting();
    assert!(state.take_effects().is_empty(), "no browser unless asked");
    press(&mut state, [ch('y')]);
    assert_eq!(state.take_effects(), vec![Effect::Copy(CODE.into())]);
    assert!(
        dialog(&state)
            .hint
            .as_deref()
            .unwrap()
            .contains("Copied the code")
    );
    press(&mut state, [ch('o')]);
    assert_eq!(state.take_effects(), vec![Effect::OpenUrl(URI.into())]);
    // The opener failed: the dialog says why.
    press(
        &mut state,
        [Event::EffectFailed(
            "cannot open a browser: cannot run xdg-open".into(),
        )],
    );
    assert_eq!(
        dialog(&state).hint.as_deref(),
        Some("cannot open a browser: cannot run xdg-open")
    );
}

#[test]
fn without_a_display_o_only_explains() {
    let mut state = waiting();
    state.can_open_browser = false;
    press(&mut state, [ch('o')]);
    assert!(state.take_effects().is_empty());
    assert!(
        dialog(&state)
            .hint
            .as_deref()
            .unwrap()
            .starts_with("No display here")
    );
}

#[test]
fn a_connected_team_asks_before_replacing_its_token() {
    let mut state = team_view(true);
    assert!(press(&mut state, [ch('c')]).is_empty());
    assert_eq!(
        state.modal,
        Some(Modal::ConfirmReplace {
            id: 2,
            name: "mobile".into(),
            method: ConnectMethod::Device,
            connection: Some("acme".into()),
            daemon_says: None,
        })
    );
    assert!(press(&mut state, [ch('n')]).is_empty());
    assert_eq!(state.modal, None);
    let reqs = press(&mut state, [ch('c'), ch('y')]);
    assert_eq!(reqs, vec![start_request(ConnectMethod::Device, true, 1)]);
    assert!(dialog(&state).replace);
}

#[test]
fn the_daemons_already_exists_turns_into_the_replace_question() {
    // The view did not know (not loaded yet): the daemon refuses, then we ask.
    let mut state = team_view(false);
    press(&mut state, [ch('c')]);
    let says = "a GitHub connection for this team (organization 'acme'); confirm to replace its \
                token";
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::ConnectStarted {
            attempt: 1,
            result: Err(StartError::AlreadyConnected(says.into())),
        })],
    );
    assert!(reqs.is_empty());
    assert_eq!(
        state.modal,
        Some(Modal::ConfirmReplace {
            id: 2,
            name: "mobile".into(),
            method: ConnectMethod::Device,
            connection: None,
            daemon_says: Some(says.into()),
        })
    );
    assert_eq!(
        press(&mut state, [ch('y')]),
        vec![start_request(ConnectMethod::Device, true, 2)]
    );
}

#[test]
fn quitting_with_a_flow_open_cancels_it() {
    let mut state = waiting();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let reqs = press(&mut state, [Event::Key(ctrl_c)]);
    assert_eq!(reqs, vec![Request::CancelConnect { flow: 7 }]);
    assert!(state.quit);
}

#[test]
fn q_in_the_dialog_does_not_quit() {
    let mut state = waiting();
    assert!(press(&mut state, [ch('q')]).is_empty());
    assert!(!state.quit);
}

#[test]
fn not_connected_to_the_daemon_c_only_explains() {
    let mut state = team_view(false);
    press(
        &mut state,
        [Event::Link(LinkEvent::Lost {
            reason: "gone".into(),
        })],
    );
    assert!(press(&mut state, [ch('c')]).is_empty());
    assert_eq!(state.modal, None);
    assert!(matches!(state.notice, Some(Notice::Error(_))));
}

#[test]
fn the_clock_event_sets_now() {
    let mut state = waiting();
    press(&mut state, [Event::Clock(fixtures::T0 + 60)]);
    assert_eq!(state.now, fixtures::T0 + 60);
}

#[test]
fn x_confirms_then_disconnects_with_or_without_purge() {
    let mut state = team_view(true);
    assert!(press(&mut state, [ch('x')]).is_empty());
    assert_eq!(
        state.modal,
        Some(Modal::ConfirmDisconnect {
            id: 2,
            name: "mobile".into(),
            connection: Some("acme".into()),
            repos: Some(3),
            purge: false,
        })
    );
    press(&mut state, [ch('p'), ch('p'), ch('p')]);
    let reqs = press(&mut state, [ch('y')]);
    assert_eq!(
        reqs,
        vec![Request::DisconnectGithub {
            id: 2,
            name: "mobile".into(),
            purge: true
        }]
    );
    assert_eq!(state.modal, None);
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Disconnected {
            id: 2,
            name: "mobile".into(),
            result: Ok(report(true)),
        })],
    );
    assert_eq!(reqs, vec![Request::LoadTeam(2)]);
    let Some(Notice::Info(text)) = &state.notice else {
        panic!("{:?}", state.notice)
    };
    assert!(
        text.starts_with("Disconnected 'mobile' from GitHub (acme): 2 webhooks deleted"),
        "{text}"
    );
    assert!(text.contains("history purged"), "{text}");
}

#[test]
fn disconnect_refusals_are_reported_and_n_keeps_the_connection() {
    let mut state = team_view(true);
    assert!(press(&mut state, [ch('x'), ch('n')]).is_empty());
    assert_eq!(state.modal, None);
    press(&mut state, [ch('x'), ch('y')]);
    press(
        &mut state,
        [Event::Reply(Reply::Disconnected {
            id: 2,
            name: "mobile".into(),
            result: Err("permission denied: only an owner or admin can disconnect".into()),
        })],
    );
    assert_eq!(
        state.notice,
        Some(Notice::Error(
            "cannot disconnect 'mobile' from GitHub: permission denied: only an owner or admin \
             can disconnect"
                .into()
        ))
    );
}

#[test]
fn x_on_a_team_without_github_says_so() {
    let mut state = team_view(false);
    assert!(press(&mut state, [ch('x')]).is_empty());
    assert_eq!(state.modal, None);
    assert_eq!(
        state.notice,
        Some(Notice::Error(
            "team 'mobile' is not connected to GitHub; press c to connect it".into()
        ))
    );
}

#[test]
fn c_and_x_do_nothing_on_the_teams_list() {
    let mut state = team_view(false);
    press(&mut state, [key(KeyCode::Esc)]);
    assert!(press(&mut state, [ch('c'), ch('x')]).is_empty());
    assert_eq!(state.modal, None);
}
