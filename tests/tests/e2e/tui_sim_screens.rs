//! The TUI's team screen with data from the GitHub simulator: a fixed-seed org synced by the
//! real daemon, read through the real client, drawn on a `TestBackend` and compared with insta
//! snapshots at 80x24 and 100x30. The org's clock is fixed, so the data (and the screens) are
//! the same every day; the tabs that show sync times (Overview, Repos) are covered with
//! fixtures in `tui/tests/team_screens.rs`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::TeamRef;
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on, cli_connect_track_all_and_sync, use_simulator,
};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};
use tidemark_tests::tui_state::{char_key, key, load_team_screen};
use tidemark_tui::app::{Event, Modal, Reply, State, handle_event};
use tidemark_tui::client::Connection;
use tidemark_tui::views;

/// 2025-10-09 08:53 UTC: the end of the simulated year.
const NOW: i64 = 1_760_000_000;

fn snapshot(name: &str, state: &State) {
    for (width, height) in [(80, 24), (100, 30)] {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        views::draw(&mut terminal, state).unwrap();
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            terminal.backend().to_string()
        );
    }
}

#[test]
fn team_screen_tabs_with_simulated_data() {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 2,
                prs_per_repo: 15,
                members: 5,
                now: NOW,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let socket = daemon.socket.clone();
    cli_connect_track_all_and_sync(&socket, &sim, "platform");

    let team =
        block_on(async { Connection::connect(&socket).await?.team_list().await }).unwrap()[0].id;
    let mut state = load_team_screen(&socket, team, NOW).unwrap();

    handle_event(&mut state, char_key('3'));
    snapshot("sim_tab_pulls", &state);
    handle_event(&mut state, char_key('4'));
    snapshot("sim_tab_people", &state);
    handle_event(&mut state, char_key('5'));
    snapshot("sim_tab_metrics", &state);

    // The details of the table's third pull request, with its timeline from the daemon.
    handle_event(&mut state, char_key('3'));
    handle_event(&mut state, char_key('j'));
    handle_event(&mut state, char_key('j'));
    handle_event(&mut state, key(KeyCode::Enter));
    let Some(Modal::PullRequest(detail)) = &state.modal else {
        panic!("no details")
    };
    let (repo, number) = (detail.pr.repo.clone(), detail.pr.number);
    let timeline = block_on(async {
        Connection::connect(&socket)
            .await?
            .pull_request_timeline(TeamRef::Id(team), repo.clone(), number)
            .await
    });
    handle_event(
        &mut state,
        Event::Reply(Reply::Timeline {
            team,
            repo,
            number,
            result: timeline.map_err(|e| e.to_string()),
        }),
    );
    snapshot("sim_pr_details", &state);
}
