//! The web flow's login question: the dialog shows the GitHub login the daemon reports and asks
//! y/n, like the TUI's other confirmations; `n` (or esc) cancels the flow, so the daemon stores
//! nothing; `y` confirms exactly the login shown.

use super::*;

/// A web flow (8) whose browser GitHub signed in as `login`: the dialog asks.
fn asking(login: &str) -> State {
    let mut state = waiting();
    press(&mut state, [ch('w')]);
    let web = ConnectStarted {
        flow: 8,
        prompt: ConnectPrompt::Browser {
            authorize_url: "https://github.com/login/oauth/authorize?state=y".into(),
        },
        expires_at: fixtures::T0 + 600,
    };
    press(
        &mut state,
        [Event::Reply(Reply::ConnectStarted {
            attempt: 2,
            result: Ok(web),
        })],
    );
    // The browser opened for the link; what follows must open or copy nothing.
    assert_eq!(state.take_effects().len(), 1);
    let asked = ConnectState::ConfirmLogin {
        github_login: login.into(),
    };
    let reqs = press(&mut state, [state_reply(8, asked)]);
    assert!(reqs.is_empty(), "no polling while the user answers");
    state
}

#[test]
fn the_dialog_shows_the_login_and_n_cancels_the_flow() {
    let mut state = asking("mallory");
    assert_eq!(
        dialog(&state).phase,
        ConnectPhase::ConfirmLogin {
            flow: 8,
            github_login: "mallory".into(),
            submitting: false,
        }
    );
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    crate::views::draw(&mut terminal, &state).unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("@mallory") && screen.contains("Connect team 'mobile' as @mallory?"),
        "{screen}"
    );
    // Keys that mean something else while waiting do nothing here.
    assert!(press(&mut state, [ch('w'), ch('o'), ch('r'), key(KeyCode::Enter)]).is_empty());
    assert!(state.take_effects().is_empty());
    // No: the flow is cancelled at the daemon, which stores nothing.
    let reqs = press(&mut state, [ch('n')]);
    assert_eq!(reqs, vec![Request::CancelConnect { flow: 8 }]);
    assert_eq!(state.modal, None);
    assert_eq!(
        state.notice,
        Some(Notice::Info(
            "Cancelled: team 'mobile' was not connected as @mallory; nothing was stored.".into()
        ))
    );
}

#[test]
fn esc_cancels_too_and_quitting_cancels_the_flow() {
    let mut state = asking("mallory");
    assert_eq!(
        press(&mut state, [key(KeyCode::Esc)]),
        vec![Request::CancelConnect { flow: 8 }]
    );
    let mut state = asking("mallory");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(
        press(&mut state, [Event::Key(ctrl_c)]),
        vec![Request::CancelConnect { flow: 8 }]
    );
    assert!(state.quit);
}

#[test]
fn y_confirms_the_login_shown_once_then_the_flow_carries_on() {
    let mut state = asking("octocat");
    assert_eq!(
        press(&mut state, [ch('y')]),
        vec![Request::ConfirmLogin {
            flow: 8,
            github_login: "octocat".into()
        }]
    );
    // Nothing is copied, and a second y while the answer is out sends nothing.
    assert!(state.take_effects().is_empty());
    assert!(press(&mut state, [ch('y')]).is_empty());
    assert!(matches!(
        dialog(&state).phase,
        ConnectPhase::ConfirmLogin {
            submitting: true,
            ..
        }
    ));
    // Several organizations: the picker follows.
    let reqs = press(
        &mut state,
        [state_reply(8, ConnectState::ChooseOrg { orgs: orgs() })],
    );
    assert!(reqs.is_empty());
    assert!(matches!(
        dialog(&state).phase,
        ConnectPhase::ChooseOrg { flow: 8, .. }
    ));
}
