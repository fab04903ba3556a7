//! The team screen's tabs and pop-ups, rendered on a `TestBackend` and compared with insta
//! snapshots at 80x24 and 100x30. States are built through the update function from fixtures
//! (the replies the link would deliver), and the clock is fixed so relative times are stable.

use crate::support::tui::{key, typed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::{PrInfo, PrState, SyncStatus};
use tidemark_tui::app::{Event, LinkEvent, Reply, Request, Screen, State, handle_event};
use tidemark_tui::fixtures;
use tidemark_tui::tabs::metrics::MetricsData;
use tidemark_tui::views;

const SIZES: [(u16, u16); 2] = [(80, 24), (100, 30)];
const NOW: i64 = fixtures::T0 + 3600;

pub(crate) fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    views::draw(&mut terminal, state).unwrap();
    terminal.backend().to_string()
}

pub(crate) fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            render(state, width, height)
        );
    }
}

/// Send events, answering every data request with its fixture.
pub(crate) fn send(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    let mut asked = Vec::new();
    for event in events {
        let reqs = handle_event(state, event);
        for req in &reqs {
            if let Some(reply) = fixtures::team_reply(req) {
                asked.extend(send(state, [Event::Reply(reply)]));
            }
        }
        asked.extend(reqs);
    }
    asked
}

/// The `platform` team open, everything loaded, the last sync complete.
pub(crate) fn team() -> State {
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
            Event::Clock(NOW),
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(Box::new(fixtures::team_status())),
            }),
        ],
    );
    let done = fixtures::sync_steps().pop().unwrap();
    send(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 1,
            result: Ok(Box::new((done, fixtures::team_status()))),
        })],
    );
    state
}

#[test]
fn overview() {
    snapshot("tab_overview", &team());
}

#[test]
fn overview_while_syncing_with_errors() {
    let mut state = team();
    let mut status = fixtures::team_status();
    status.repos[2].sync_error = Some("GitHub answered 502 three times; retrying later".into());
    let mut progress = fixtures::sync_steps()[4].clone();
    progress.status = SyncStatus::Syncing;
    // The watch after the first one is number 2.
    send(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 2,
            result: Ok(Box::new((progress, status))),
        })],
    );
    snapshot("tab_overview_syncing", &state);
}

/// What GitHub sent that the sync could not read is said on the overview, never hidden.
#[test]
fn overview_says_what_the_sync_skipped() {
    let mut state = team();
    assert!(!render(&state, 100, 30).contains("skipped"));
    let mut done = fixtures::sync_steps().pop().unwrap();
    done.skipped = 3;
    send(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 2,
            result: Ok(Box::new((done, fixtures::team_status()))),
        })],
    );
    let screen = render(&state, 100, 30);
    assert!(screen.contains("3 skipped, see the log"), "{screen}");
}

/// Deliveries received long ago and still not applied: the backlog and its age in the title,
/// and no repository's hook called ok.
#[test]
fn overview_with_a_webhook_backlog() {
    let mut state = team();
    let mut status = fixtures::team_status();
    status.webhooks_pending = 675_000;
    status.webhooks_oldest_pending_at = Some(NOW - 2 * 3600 - 300);
    status.repos[0].webhook_id = Some(9001);
    status.repos[0].last_webhook_at = Some(NOW - 30);
    let done = fixtures::sync_steps().pop().unwrap();
    send(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 2,
            result: Ok(Box::new((done, status))),
        })],
    );
    snapshot("tab_overview_backlog", &state);
}

/// After a flood: replays ignored, deliveries refused for a full backlog and re-reads held
/// for the rate budget are said above the repositories, each part whole (a narrower screen
/// breaks between parts, never inside a number); the budget says when GitHub gave it.
#[test]
fn overview_after_a_webhook_flood() {
    let mut state = team();
    let mut status = fixtures::team_status();
    status.webhooks_pending = 10_000;
    status.webhooks_oldest_pending_at = Some(NOW - 40);
    status.webhook_intake = tidemark_protocol::WebhookIntake {
        backlog_max: 10_000,
        replays_ignored: 675_421,
        last_replay_at: Some(NOW - 5),
        refused_backlog_full: 1_204,
        last_refused_at: Some(NOW - 65),
        held_for_budget: 312,
        last_held_at: Some(NOW - 600),
        held_until: Some(NOW + 1500),
        webhook_points: 2_500,
    };
    let mut done = fixtures::sync_steps().pop().unwrap();
    done.budget[0].remaining = 2_480;
    done.budget[0].seen_at = Some(NOW - 5);
    send(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 2,
            result: Ok(Box::new((done, status))),
        })],
    );
    snapshot("tab_overview_flood", &state);
}

/// A team not connected to GitHub: nothing is "pending", and the Repos tab asks to connect
/// first rather than offering `a`.
#[test]
fn overview_and_repos_of_a_team_not_connected() {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    let mut status = fixtures::team_status();
    status.integrations.clear();
    status.repos.clear();
    status.member_count = 0;
    status.pull_request_count = 1;
    let idle = tidemark_protocol::SyncProgress {
        running: false,
        status: SyncStatus::Pending,
        phase: "idle".into(),
        repos_done: 0,
        repos_total: 0,
        prs_fetched: 0,
        requests: 0,
        budget: vec![],
        started_at: None,
        finished_at: None,
        last_sync_at: None,
        error: None,
        next_sync_at: None,
        skipped: 0,
        skipped_note: None,
    };
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(true)),
            Event::Clock(NOW),
            key(KeyCode::Enter),
            Event::Reply(Reply::Team {
                id: 1,
                result: Ok(Box::new(status.clone())),
            }),
            Event::Reply(Reply::Watched {
                team: 1,
                seq: 1,
                result: Ok(Box::new((idle, status))),
            }),
        ],
    );
    snapshot("overview_not_connected", &state);
    send(&mut state, typed("2"));
    snapshot("repos_not_connected", &state);
}

#[test]
fn repos() {
    let mut state = team();
    send(&mut state, typed("2jj"));
    snapshot("tab_repos", &state);
}

#[test]
fn pull_requests() {
    let mut state = team();
    send(&mut state, typed("3j"));
    snapshot("tab_pulls", &state);
}

#[test]
fn pull_requests_sorted_by_size_and_filtered() {
    let mut state = team();
    send(&mut state, typed("3"));
    // s: repo → number → title → author → state → size.
    send(&mut state, typed("ssssss/acme/"));
    snapshot("tab_pulls_filtering", &state);
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("tab_pulls_filtered", &state);
}

#[test]
fn pull_request_details() {
    let mut state = team();
    send(&mut state, typed("3jj"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("pr_details", &state);
}

#[test]
fn people() {
    let mut state = team();
    send(&mut state, typed("4"));
    snapshot("tab_people", &state);
}

#[test]
fn metrics() {
    let mut state = team();
    send(&mut state, typed("5"));
    snapshot("tab_metrics", &state);
}

#[test]
fn metrics_empty_period() {
    let mut state = team();
    send(&mut state, typed("5"));
    let since = match &state.screen {
        Screen::Team(view) => view.since,
        Screen::Teams => unreachable!(),
    };
    send(
        &mut state,
        [Event::Reply(Reply::Metrics {
            team: 1,
            since,
            result: Ok(Box::new(MetricsData {
                weekly: Vec::new(),
                total: None,
            })),
        })],
    );
    snapshot("tab_metrics_empty", &state);
}

#[test]
fn add_repositories() {
    let mut state = team();
    send(&mut state, typed("2a"));
    send(&mut state, [key(KeyCode::Char(' '))]);
    snapshot("add_repos", &state);
}

#[test]
fn untrack_confirmation() {
    let mut state = team();
    send(&mut state, typed("2jd"));
    snapshot("confirm_untrack", &state);
}

#[test]
fn rotate_confirmation() {
    let mut state = team();
    send(&mut state, typed("W"));
    snapshot("confirm_rotate", &state);
}

#[test]
fn help_lists_the_tab_keys() {
    let mut state = team();
    send(&mut state, typed("3?"));
    snapshot("help_pulls", &state);
}

#[test]
fn daemon_gone_keeps_the_tabs() {
    let mut state = team();
    send(&mut state, typed("3"));
    send(
        &mut state,
        [Event::Link(LinkEvent::Lost {
            reason: "lost the connection to the daemon: it closed the connection".into(),
        })],
    );
    snapshot("tab_pulls_daemon_gone", &state);
}

/// The line drawn highlighted (reversed) in the pull request table, and the screen.
fn highlighted_row(state: &State) -> (String, String) {
    use ratatui::style::Modifier;
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    views::draw(&mut terminal, state).unwrap();
    let buffer = terminal.backend().buffer();
    let screen = terminal.backend().to_string();
    // Under the table header (the app header line is drawn reversed too).
    let rows: Vec<u16> = (4..30)
        .filter(|&y| buffer[(1, y)].modifier.contains(Modifier::REVERSED))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?} {screen}");
    let line = (0..100).map(|x| buffer[(x, rows[0])].symbol()).collect();
    (line, screen)
}

/// The selection follows the pull request, not the row: with `web #32` selected, a webhook
/// brings a new pull request that sorts above it; the highlight stays on `web #32` and enter
/// opens it.
#[test]
fn the_selection_stays_on_its_pull_request_when_one_arrives_above_it() {
    let mut state = team();
    let mut pulls = fixtures::pull_requests();
    pulls.push(PrInfo {
        repo: "acme/web".into(),
        number: 32,
        title: "Keep the selection on the item".into(),
        created_at: fixtures::T0 - 700,
        state: PrState::Open,
        ..fixtures::pull_requests().remove(0)
    });
    send(
        &mut state,
        [
            Event::Reply(Reply::Pulls {
                team: 1,
                load: 1,
                result: Ok(pulls.clone()),
            }),
            key(KeyCode::Char('3')),
            key(KeyCode::Char('j')),
        ],
    );
    let (line, screen) = highlighted_row(&state);
    assert!(
        line.starts_with("│web ") && line.contains(" 32 Keep the selection"),
        "{line}\n{screen}"
    );

    // A webhook: the status counts one more pull request, so the tabs reload.
    let mut status = fixtures::team_status();
    status.pull_request_count += 1;
    let reqs = handle_event(
        &mut state,
        Event::Reply(Reply::Watched {
            team: 1,
            seq: 2,
            result: Ok(Box::new((fixtures::sync_steps().pop().unwrap(), status))),
        }),
    );
    let load = reqs
        .iter()
        .find_map(|r| match r {
            Request::LoadPulls { load, .. } => Some(*load),
            _ => None,
        })
        .expect("the pull requests are reloaded");
    // The daemon's answer lists the new one first; it is the newest, so it sorts first too.
    pulls.insert(
        0,
        PrInfo {
            repo: "acme/api".into(),
            number: 1300,
            title: "Arrived by webhook".into(),
            created_at: fixtures::T0,
            state: PrState::Open,
            ..fixtures::pull_requests().remove(0)
        },
    );
    send(
        &mut state,
        [Event::Reply(Reply::Pulls {
            team: 1,
            load,
            result: Ok(pulls),
        })],
    );
    let (line, screen) = highlighted_row(&state);
    assert!(screen.contains("Arrived by webhook"), "{screen}");
    assert!(
        line.starts_with("│web ") && line.contains(" 32 Keep the selection"),
        "{line}\n{screen}"
    );

    let reqs = send(&mut state, [key(KeyCode::Enter)]);
    assert!(
        reqs.contains(&Request::Timeline {
            team: 1,
            repo: "acme/web".into(),
            number: 32
        }),
        "{reqs:?}"
    );
    let screen = render(&state, 100, 30);
    assert!(screen.contains("acme/web #32"), "{screen}");
    assert!(
        screen.contains("Keep the selection on the item"),
        "{screen}"
    );
}

/// 50,000 pull requests draw only the rows on screen: the last page shows the last ones.
#[test]
fn a_huge_table_scrolls_to_its_end() {
    let mut state = team();
    let many: Vec<PrInfo> = (0..50_000u64)
        .map(|n| PrInfo {
            number: n,
            title: format!("change {n}"),
            created_at: fixtures::T0 - n as i64,
            state: PrState::Open,
            ..fixtures::pull_requests().remove(0)
        })
        .collect();
    send(
        &mut state,
        [
            key(KeyCode::Char('3')),
            Event::Reply(Reply::Pulls {
                team: 1,
                load: 1,
                result: Ok(many),
            }),
            key(KeyCode::Char('G')),
        ],
    );
    let screen = render(&state, 80, 24);
    assert!(screen.contains("50000/50000"), "{screen}");
    assert!(screen.contains("change 49999"), "{screen}");
    assert!(!screen.contains("change 0 "), "{screen}");
}

/// The mono theme leaves no colour anywhere on screen (the frame goes through the theme).
#[test]
fn the_mono_theme_has_no_colours() {
    use ratatui::style::Color;
    let mut state = team();
    state.config.theme = tidemark_tui::config::Theme::Mono;
    send(&mut state, typed("3"));
    state.notice = Some(tidemark_tui::app::Notice::Error("boom".into()));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    views::draw(&mut terminal, &state).unwrap();
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    // The default theme does colour things (the test can fail).
    state.config.theme = tidemark_tui::config::Theme::Dark;
    views::draw(&mut terminal, &state).unwrap();
    assert!(
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}
