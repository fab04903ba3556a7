//! The Alerts tab rendered on a `TestBackend` and compared with insta snapshots at 80x24 and
//! 100x30: the open breaches with the badge, resolved ones too, a breach's details, the Slack
//! link needing a reconnect, no breaches, the agreements (an admin typing a bad value, a
//! member's read-only view) and the help. States are built through the update function from
//! fixtures, the clock fixed.

use crate::support::tui::{key, screen_lines, shows, typed};
use crate::team_screens::{render, send, team};
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::Role;
use tidemark_tui::app::{Event, Reply, Screen, State};
use tidemark_tui::fixtures;
use tidemark_tui::tabs::alerts::AlertsData;

const SIZES: [(u16, u16); 2] = [(80, 24), (100, 30)];

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            render(state, width, height)
        );
    }
}

/// The team open on the Alerts tab, the caller in `role`.
fn alerts(role: Role) -> State {
    let mut state = team();
    if let Screen::Team(view) = &mut state.screen
        && let tidemark_tui::app::Loadable::Loaded(status) = &mut view.status
    {
        status.team.role = Some(role);
    }
    send(&mut state, typed("7"));
    state
}

/// Answer the tab's load with `data` (open breaches only).
fn reply(state: &mut State, data: AlertsData) {
    send(
        state,
        [Event::Reply(Reply::Alerts {
            team: 1,
            resolved: false,
            result: Ok(Box::new(data)),
        })],
    );
}

#[test]
fn the_open_breaches_with_the_badge() {
    let state = alerts(Role::Member);
    snapshot("tab_alerts", &state);
    let lines = screen_lines(&state, 100, 30);
    // The badge on the tab's title; the Slack link; every breach whole where it counts.
    assert!(shows(&lines, "7 Alerts 3"), "{lines:#?}");
    assert!(shows(&lines, "Slack: #eng-alerts (acme)"), "{lines:#?}");
    for text in [
        "acme/api#1289",
        "3h 20m over",
        "1240 lines over",
        "2 open PRs over",
    ] {
        assert!(shows(&lines, text), "{text}: {lines:#?}");
    }
    // At 80 columns the numbers stay whole; the titles give way.
    let lines = screen_lines(&state, 80, 24);
    for text in ["acme/api#1289", "3h 20m over", "1240 lines over"] {
        assert!(shows(&lines, text), "{text}: {lines:#?}");
    }
}

#[test]
fn resolved_breaches_and_a_breachs_details() {
    let mut state = alerts(Role::Member);
    send(&mut state, typed("a"));
    snapshot("tab_alerts_resolved", &state);
    assert!(shows(&screen_lines(&state, 100, 30), "acme/web#861"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("alerts_breach", &state);
    let lines = screen_lines(&state, 100, 30);
    for text in [
        "first review within 24h (working time)",
        "alice, bob-k",
        "https://github.com/acme/api/pull/1289",
        "posted 2025-01-05 11:03 UTC",
    ] {
        assert!(shows(&lines, text), "{text}: {lines:#?}");
    }
}

#[test]
fn a_slack_link_to_reconnect_and_no_breaches() {
    let mut state = alerts(Role::Member);
    let mut data = AlertsData {
        alerts: fixtures::alerts(false),
        agreements: fixtures::agreements(),
    };
    data.alerts.slack.problem = Some("the token was revoked".into());
    data.alerts.breaches.clear();
    data.alerts.open = 0;
    reply(&mut state, data);
    snapshot("tab_alerts_reconnect_empty", &state);
    let lines = screen_lines(&state, 80, 24);
    assert!(
        shows(&lines, "Slack: reconnect: the token was revoked"),
        "{lines:#?}"
    );
    assert!(shows(&lines, "Every pull request is within"), "{lines:#?}");
}

#[test]
fn the_agreements_an_admin_edits() {
    let mut state = alerts(Role::Admin);
    send(&mut state, typed("e"));
    snapshot("alerts_agreements", &state);
    // max-size: 400 → 400x, refused where it is typed.
    send(
        &mut state,
        [
            key(KeyCode::Char('j')),
            key(KeyCode::Enter),
            key(KeyCode::End),
            key(KeyCode::Char('x')),
            key(KeyCode::Enter),
        ],
    );
    snapshot("alerts_agreements_invalid", &state);
    assert!(shows(
        &screen_lines(&state, 80, 24),
        "'400x' is not a whole number"
    ));
}

#[test]
fn the_agreements_a_member_reads() {
    let mut state = alerts(Role::Member);
    send(&mut state, typed("e"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("alerts_agreements_member", &state);
    assert!(shows(&screen_lines(&state, 100, 30), "Read-only"));
}

#[test]
fn the_help_lists_the_tabs_keys() {
    let mut state = alerts(Role::Member);
    send(&mut state, typed("?"));
    snapshot("help_alerts", &state);
    let lines = screen_lines(&state, 80, 24);
    assert!(shows(&lines, "show / hide resolved breaches"), "{lines:#?}");
}
