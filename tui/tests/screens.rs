//! Whole screens rendered on a `TestBackend` and compared with insta snapshots, at the smallest
//! supported size (80x24) and a roomier one (100x30). States are built through the same update
//! function the TUI uses, from fabricated protocol values (masks only, never a secret).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
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

fn send(state: &mut State, events: impl IntoIterator<Item = Event>) {
    for event in events {
        handle_event(state, event);
    }
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
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
        ],
    );
    state
}

fn team_view() -> State {
    let mut state = connected();
    send(
        &mut state,
        [
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(fixtures::team_status()),
            }),
        ],
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
fn teams_list_empty() {
    let mut state = State::new("/tmp/t.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(vec![]))),
        ],
    );
    snapshot("teams_list_empty", &state);
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
    let mut state = team_view();
    // Select the repository with a sync error, whose reason shows under the table.
    send(&mut state, typed("jj"));
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
                result: Ok(status),
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
