//! Whole screens rendered on a `TestBackend` and compared with insta snapshots, at the smallest
//! supported size (80x24) and a roomier one (100x30). States are built through the same update
//! function the TUI uses, from fabricated protocol values (masks only, never a secret).

use crate::support::tui::{key, send, typed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};
use tidemark_protocol::{ConnectPrompt, ConnectStarted, ConnectState, OrgChoice};
use tidemark_tui::app::{Event, LinkEvent, Reply, State, handle_event};
use tidemark_tui::fixtures;
use tidemark_tui::views;

const SIZES: [(u16, u16); 2] = [(80, 24), (100, 30)];

fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    views::draw(&mut terminal, state).unwrap();
    terminal
}

/// Snapshot `state` at both sizes, as `NAME@WxH`.
fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        let terminal = render(state, width, height);
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            terminal.backend().to_string()
        );
    }
}

fn connected() -> State {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(true)),
        ],
    );
    state
}

fn team_view() -> State {
    let mut state = connected();
    send(&mut state, [Event::Clock(fixtures::T0 + 3600)]);
    let reqs = handle_event(&mut state, key(KeyCode::Enter));
    for req in &reqs {
        if let Some(reply) = fixtures::team_reply(req) {
            handle_event(&mut state, Event::Reply(reply));
        }
    }
    send(
        &mut state,
        [Event::Reply(Reply::Team {
            id: 1,
            result: Ok(Box::new(fixtures::team_status())),
        })],
    );
    state
}

fn lost(state: &mut State) {
    send(
        state,
        [Event::Link(LinkEvent::Lost {
            reason: "lost the connection to the daemon at /run/user/1000/tidemark/tidemark.sock: \
                     the daemon closed the connection"
                .into(),
        })],
    );
}

#[test]
fn teams_list() {
    snapshot("teams_list", &connected());
}

#[test]
fn connecting() {
    snapshot(
        "connecting",
        &State::new("/run/user/1000/tidemark/tidemark.sock".into()),
    );
}

#[test]
fn starting_the_daemon() {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    send(&mut state, [Event::Link(LinkEvent::Starting)]);
    snapshot("starting", &state);
}

#[test]
fn team_with_integration_and_repos() {
    let state = team_view();
    snapshot("team_view", &state);
}

#[test]
fn team_without_integrations_or_repos() {
    let mut state = connected();
    let mut status = fixtures::team_status();
    status.integrations.clear();
    status.repos.clear();
    send(
        &mut state,
        [
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(Box::new(status)),
            }),
        ],
    );
    snapshot("team_view_empty", &state);
}

#[test]
fn team_loading() {
    let mut state = connected();
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("team_loading", &state);
}

#[test]
fn help_overlay_on_teams() {
    let mut state = connected();
    send(&mut state, typed("?"));
    snapshot("help_teams", &state);
}

#[test]
fn help_overlay_on_team() {
    let mut state = team_view();
    send(&mut state, typed("?"));
    snapshot("help_team", &state);
}

#[test]
fn delete_confirmation() {
    let mut state = connected();
    send(&mut state, typed("jd"));
    snapshot("delete_confirmation", &state);
}

#[test]
fn create_input() {
    let mut state = connected();
    send(&mut state, typed("nrelease-eng"));
    snapshot("create_input", &state);
}

#[test]
fn create_input_refused() {
    let mut state = connected();
    send(&mut state, typed("n "));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("create_input_refused", &state);
}

#[test]
fn daemon_gone_banner() {
    let mut state = connected();
    lost(&mut state);
    snapshot("daemon_gone", &state);
}

#[test]
fn daemon_gone_on_team_view() {
    let mut state = team_view();
    lost(&mut state);
    snapshot("daemon_gone_team", &state);
}

#[test]
fn long_team_name_in_delete_confirmation_wraps() {
    let mut state = connected();
    send(&mut state, typed("jjd"));
    snapshot("delete_confirmation_long_name", &state);
}

#[test]
fn error_notice_in_status_line() {
    let mut state = connected();
    send(
        &mut state,
        [
            key(KeyCode::Char('d')),
            key(KeyCode::Char('y')),
            Event::Reply(Reply::Deleted {
                id: 1,
                name: "platform".into(),
                result: Err("permission denied: only an owner can delete a team".into()),
            }),
        ],
    );
    snapshot("error_notice", &state);
}

// Styles are not in the text snapshots; check the ones that carry meaning.

#[test]
fn selected_team_is_highlighted() {
    let mut state = connected();
    send(&mut state, typed("j"));
    let terminal = render(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    // Row 0 header bar, 1 border, 2 table header, 3 platform, 4 mobile.
    let mobile = &buffer[(4, 4)];
    assert!(mobile.modifier.contains(Modifier::REVERSED), "{mobile:?}");
    let platform = &buffer[(4, 3)];
    assert!(
        !platform.modifier.contains(Modifier::REVERSED),
        "{platform:?}"
    );
}

#[test]
fn daemon_gone_banner_is_red() {
    let mut state = connected();
    lost(&mut state);
    let terminal = render(&state, 80, 24);
    assert_eq!(terminal.backend().buffer()[(0, 1)].fg, Color::Red);
}

#[test]
fn create_input_shows_the_cursor_after_the_text() {
    let mut state = connected();
    send(&mut state, typed("nabc"));
    let mut terminal = render(&state, 80, 24);
    // The prompt `›` of the input line, found by cells (the teams table has no `›` at column
    // 13 or beyond: its highlight symbol sits at column 1).
    let buffer = terminal.backend().buffer().clone();
    let (x, y) = (0..24u16)
        .flat_map(|y| (13..80u16).map(move |x| (x, y)))
        .find(|&(x, y)| buffer[(x, y)].symbol() == "›")
        .expect("input prompt");
    assert_eq!(buffer[(x + 2, y)].symbol(), "a");
    // Cursor right after "abc": prompt, space, three characters.
    terminal.backend_mut().assert_cursor_position((x + 5, y));
}

#[test]
fn no_secret_shaped_text_is_rendered() {
    let state = team_view();
    for (width, height) in SIZES {
        let screen = render(&state, width, height).backend().to_string();
        assert!(screen.contains("gho_…a1b2"), "mask missing:\n{screen}");
        // A real GitHub token is gho_ followed by 36 characters.
        for word in screen.split_whitespace() {
            assert!(
                !(word.starts_with("gho_") && word.len() > 12),
                "token-like text {word}"
            );
        }
    }
}

// GitHub: connect and disconnect dialogs, over the team view.

fn team_without_github() -> State {
    let mut state = connected();
    let mut status = fixtures::team_status();
    status.integrations.clear();
    status.repos.clear();
    send(
        &mut state,
        [
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(Box::new(status)),
            }),
            Event::Clock(fixtures::T0),
        ],
    );
    state
}

fn device_started() -> ConnectStarted {
    ConnectStarted {
        flow: 7,
        prompt: ConnectPrompt::Device {
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://github.com/login/device".into(),
        },
        expires_at: fixtures::T0 + 900,
    }
}

/// `c`, and the daemon answers with a device code; 28 s later.
fn device_code_dialog() -> State {
    let mut state = team_without_github();
    send(
        &mut state,
        [
            key(KeyCode::Char('c')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 1,
                result: Ok(device_started()),
            }),
            Event::Clock(fixtures::T0 + 28),
            Event::Tick,
            Event::Tick,
        ],
    );
    state
}

#[test]
fn connect_starting() {
    let mut state = team_without_github();
    send(&mut state, typed("c"));
    send(&mut state, [Event::Tick]);
    snapshot("connect_starting", &state);
}

#[test]
fn connect_device_code() {
    snapshot("connect_device_code", &device_code_dialog());
}

#[test]
fn connect_device_code_copied() {
    let mut state = device_code_dialog();
    send(&mut state, typed("y"));
    snapshot("connect_device_code_copied", &state);
}

#[test]
fn connect_web_link() {
    let mut state = team_without_github();
    let url = "https://github.com/login/oauth/authorize?response_type=code&client_id=Iv1.\
               8a61f9b3a7aba766&state=4yZbq2nFz1Ru7XcA&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8\
               URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A41\
               733%2Foauth%2Fcallback&scope=repo+read%3Aorg+admin%3Arepo_hook";
    send(
        &mut state,
        [
            key(KeyCode::Char('c')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 1,
                result: Ok(device_started()),
            }),
            key(KeyCode::Char('w')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 2,
                result: Ok(ConnectStarted {
                    flow: 8,
                    prompt: ConnectPrompt::Browser {
                        authorize_url: url.into(),
                    },
                    expires_at: fixtures::T0 + 600,
                }),
            }),
        ],
    );
    snapshot("connect_web_link", &state);
}

/// The web flow's question: GitHub signed the browser in as someone; is it the account to
/// connect?
#[test]
fn connect_confirm_login() {
    let mut state = team_without_github();
    send(
        &mut state,
        [
            key(KeyCode::Char('c')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 1,
                result: Ok(device_started()),
            }),
            key(KeyCode::Char('w')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 2,
                result: Ok(ConnectStarted {
                    flow: 8,
                    prompt: ConnectPrompt::Browser {
                        authorize_url: "https://github.com/login/oauth/authorize?state=x".into(),
                    },
                    expires_at: fixtures::T0 + 600,
                }),
            }),
            Event::Reply(Reply::ConnectState {
                flow: 8,
                result: Ok(ConnectState::ConfirmLogin {
                    github_login: "mallory-dev".into(),
                }),
            }),
        ],
    );
    snapshot("connect_confirm_login", &state);
}

#[test]
fn connect_org_picker() {
    let mut state = device_code_dialog();
    let orgs = [
        ("acme", Some("Acme Corp")),
        ("acme-labs", None),
        ("widgets", Some("Widgets Inc., makers of widgets")),
    ]
    .iter()
    .enumerate()
    .map(|(i, (login, description))| OrgChoice {
        login: (*login).into(),
        id: i as u64 + 1,
        description: description.map(Into::into),
    })
    .collect();
    send(
        &mut state,
        [
            Event::Reply(Reply::ConnectState {
                flow: 7,
                result: Ok(ConnectState::ChooseOrg { orgs }),
            }),
            key(KeyCode::Char('j')),
        ],
    );
    snapshot("connect_org_picker", &state);
}

#[test]
fn connect_failure() {
    let mut state = device_code_dialog();
    send(
        &mut state,
        [Event::Reply(Reply::ConnectState {
            flow: 7,
            result: Ok(ConnectState::Failed {
                reason: "organization 'acme-corp' is not visible to GitHub user octocat; \
                         visible: acme, acme-labs, widgets"
                    .into(),
            }),
        })],
    );
    snapshot("connect_failure", &state);
}

#[test]
fn connect_replace_confirmation() {
    let mut state = team_view();
    send(&mut state, typed("c"));
    snapshot("connect_replace_confirmation", &state);
}

#[test]
fn disconnect_confirmation() {
    let mut state = team_view();
    send(&mut state, typed("x"));
    snapshot("disconnect_confirmation", &state);
}

#[test]
fn disconnect_confirmation_with_purge() {
    let mut state = team_view();
    send(&mut state, typed("xp"));
    snapshot("disconnect_confirmation_purge", &state);
}

#[test]
fn device_code_is_drawn_big_and_reversed() {
    let state = device_code_dialog();
    let terminal = render(&state, 80, 24);
    let buffer = terminal.backend().buffer();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("W D J B - M J H T"), "{screen}");
    // The band around the code is three rows of reversed cells.
    let (x, y) = (0..24u16)
        .flat_map(|y| (0..80u16).map(move |x| (x, y)))
        .find(|&(x, y)| buffer[(x, y)].symbol() == "W" && buffer[(x + 2, y)].symbol() == "D")
        .expect("the code");
    for row in [y - 1, y, y + 1] {
        let cell = &buffer[(x, row)];
        assert!(
            cell.modifier.contains(Modifier::REVERSED),
            "{row}: {cell:?}"
        );
    }
    assert!(buffer[(x, y)].modifier.contains(Modifier::BOLD));
}

fn invited(teams: Vec<tidemark_protocol::TeamInfo>) -> State {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(teams))),
            Event::Reply(Reply::Invitations(Ok(fixtures::invitations()))),
            Event::Reply(fixtures::daemon_info_reply(true)),
        ],
    );
    state
}

#[test]
fn teams_list_with_invitations_waiting() {
    snapshot("teams_list_invited", &invited(fixtures::teams()));
}

/// Bob's #7 is named like the caller's #1: the dialog says it is another team, and whose.
#[test]
fn invitations_dialog() {
    let mut state = invited(fixtures::teams());
    send(
        &mut state,
        [
            key(KeyCode::Char('i')),
            Event::Reply(Reply::Invitations(Ok(fixtures::invitations()))),
            key(KeyCode::Char('j')),
        ],
    );
    snapshot("invitations", &state);
}

#[test]
fn first_screen_with_an_invitation() {
    snapshot("first_screen_invited", &invited(vec![]));
}
