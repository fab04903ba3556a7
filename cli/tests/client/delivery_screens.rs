//! The Delivery tab rendered on a `TestBackend` and compared with insta snapshots at 80x24 and
//! 100x30: the page, a measure's contents, a deployment, the rules (a preview, a refusal, a
//! member's read-only view), an empty report and a long repository name. States are built
//! through the update function from fixtures, the clock fixed.

use crate::support::tui::{key, screen_lines, shows, typed};
use crate::team_screens::{render, send, team};
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::Role;
use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup, DoraGrouping};
use tidemark_tui::app::{Event, Reply, Screen, State};
use tidemark_tui::fixtures;
use tidemark_tui::tabs::delivery::DeliveryData;

const SIZES: [(u16, u16); 2] = [(80, 24), (100, 30)];
const NOW: i64 = fixtures::T0 + 3600;

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            render(state, width, height)
        );
    }
}

/// The team open on the Delivery tab.
fn delivery() -> State {
    let mut state = team();
    send(&mut state, typed("6"));
    state
}

fn since(state: &State) -> i64 {
    match &state.screen {
        Screen::Team(view) => view.since,
        Screen::Teams => unreachable!(),
    }
}

/// Answer the tab's load with `data`.
fn reply(state: &mut State, data: DeliveryData) {
    let since = since(state);
    send(
        state,
        [Event::Reply(Reply::Delivery {
            team: 1,
            since,
            result: Ok(Box::new(data)),
        })],
    );
}

#[test]
fn the_page() {
    let state = delivery();
    snapshot("tab_delivery", &state);
    // Every figure whole, with its band, and the edition once.
    let lines = screen_lines(&state, 100, 30);
    for text in [
        "1.25/week (15 successful)",
        "p50 14h, p90 1d 8h (18)",
        "18.7% (3 of 16)",
        "p50 5h, p90 20h (3), 1 not recovered",
        "6.2% (1 of 16)",
        "Bands: DORA, Accelerate State of DevOps Report 2024",
    ] {
        assert!(shows(&lines, text), "{text}: {lines:#?}");
    }
}

#[test]
fn a_measure_drilled_into() {
    let mut state = delivery();
    send(&mut state, typed("jj"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("delivery_fail_rate", &state);
    // Scrolled by item, the heading kept: the eleventh deployment first.
    send(&mut state, typed("jjjjjjjjjj"));
    let lines = screen_lines(&state, 80, 24);
    assert!(shows(&lines, " ↑ 10 above"), "{lines:#?}");
    assert!(shows(&lines, " • acme/api DE_kwDOA011: ok"), "{lines:#?}");
    assert!(
        shows(&lines, "Change fail rate: 18.7% (3 of 16)"),
        "{lines:#?}"
    );
    send(&mut state, [key(KeyCode::End)]);
    let lines = screen_lines(&state, 80, 24);
    assert!(
        shows(&lines, "acme/infra 9912345678: FAILED: incident #91"),
        "{lines:#?}"
    );
    send(&mut state, [key(KeyCode::Home)]);
    send(&mut state, [key(KeyCode::Esc), key(KeyCode::Char('j'))]);
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("delivery_recovery", &state);
}

#[test]
fn a_deployment_with_its_failures_and_what_it_shipped() {
    let mut state = delivery();
    // The measures, then the newest deployments: the fourth is the one an incident and a
    // revert point at.
    send(&mut state, typed("jjjjjjjj"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("delivery_deployment", &state);
}

#[test]
fn the_rules_with_a_preview_of_an_edit() {
    let mut state = delivery();
    send(&mut state, typed("e"));
    send(&mut state, [key(KeyCode::Enter)]);
    send(&mut state, typed("|staging"));
    send(&mut state, [key(KeyCode::Enter), key(KeyCode::End)]);
    send(&mut state, typed(" p"));
    let config = match &state.screen {
        Screen::Team(view) => match &view.delivery.page {
            tidemark_tui::tabs::delivery::Page::Rules(editor) => editor.config.clone(),
            other => panic!("{other:?}"),
        },
        Screen::Teams => unreachable!(),
    };
    let before = team_group(&state);
    let mut after = before.clone();
    after.deployed.extend([90, 91, 92]);
    after.per_week_milli = 1_666;
    send(
        &mut state,
        [Event::Reply(Reply::DeliveryPreview {
            team: 1,
            config: Box::new(config),
            result: Ok(Box::new((before, after))),
        })],
    );
    snapshot("delivery_rules_preview", &state);
}

fn team_group(state: &State) -> DoraGroup {
    match &state.screen {
        Screen::Team(view) => view.delivery.loaded().unwrap().group().unwrap().clone(),
        Screen::Teams => unreachable!(),
    }
}

#[test]
fn a_refused_pattern_is_said_under_it() {
    let mut state = delivery();
    send(&mut state, typed("e"));
    send(&mut state, [key(KeyCode::Enter), key(KeyCode::Home)]);
    send(&mut state, typed("("));
    send(&mut state, [key(KeyCode::Enter)]);
    send(&mut state, typed("p"));
    let config = DeliveryConfig {
        production_pattern: "(^prod(uction)?$".into(),
        ..DeliveryConfig::default()
    };
    send(
        &mut state,
        [Event::Reply(Reply::DeliveryPreview {
            team: 1,
            config: Box::new(config),
            result: Err(
                "invalid production pattern: production pattern: `(^prod(uction)?$` is \
                         not a usable pattern: unclosed group"
                    .into(),
            ),
        })],
    );
    snapshot("delivery_rules_refused", &state);
}

#[test]
fn a_member_reads_the_rules() {
    let mut state = delivery();
    let mut status = fixtures::team_status();
    status.team.role = Some(Role::Member);
    send(
        &mut state,
        [Event::Reply(Reply::Team {
            id: 1,
            result: Ok(Box::new(status)),
        })],
    );
    send(&mut state, typed("e"));
    send(&mut state, [key(KeyCode::Enter)]);
    snapshot("delivery_rules_member", &state);
}

#[test]
fn a_team_with_nothing_tracked() {
    let mut state = delivery();
    let since = since(&state);
    let empty = |by| {
        let mut report = fixtures::dora_report(since, NOW, by);
        report.repos.clear();
        report.deployments.clear();
        report.changes.clear();
        report.failures.clear();
        report.groups = report
            .groups
            .iter()
            .map(|g| DoraGroup {
                key: g.key.clone(),
                since: g.since,
                until: g.until,
                deployed: vec![],
                per_week_milli: 0,
                frequency_band: Some(tidemark_protocol::metrics::dora::Band::Low),
                changes: vec![],
                lead_time: Default::default(),
                lead_time_band: None,
                finished: vec![],
                failed: vec![],
                fail_rate_band: None,
                failures: vec![],
                recovery: Default::default(),
                recovery_band: None,
                rework: vec![],
            })
            .collect();
        report
    };
    let data = DeliveryData::new(
        empty(DoraGrouping::Team),
        empty(DoraGrouping::Week),
        DeliveryConfig::default(),
    );
    reply(&mut state, data);
    snapshot("tab_delivery_empty", &state);
    // Drilling into an empty measure, and the rules without a repository, hold too.
    send(&mut state, [key(KeyCode::Enter)]);
    let lines = screen_lines(&state, 80, 24);
    assert!(
        shows(&lines, "No successful deployments in this period."),
        "{lines:#?}"
    );
    send(&mut state, [key(KeyCode::Esc)]);
    send(&mut state, typed("e"));
    let lines = screen_lines(&state, 80, 24);
    assert!(shows(&lines, "No tracked repositories"), "{lines:#?}");
}

#[test]
fn a_long_repository_name_gives_way_and_the_numbers_do_not() {
    let mut state = delivery();
    let since = since(&state);
    let long = "acme-platform-engineering/the-very-long-internal-deployment-orchestrator";
    let rename = |mut report: tidemark_protocol::delivery::DoraReport| {
        for r in &mut report.repos {
            if r.repo == "acme/infra" {
                r.repo = long.into();
            }
        }
        for d in &mut report.deployments {
            if d.repo == "acme/infra" {
                d.repo = long.into();
            }
        }
        for c in &mut report.changes {
            if c.repo == "acme/infra" {
                c.repo = long.into();
            }
        }
        report
    };
    let data = DeliveryData::new(
        rename(fixtures::dora_report(since, NOW, DoraGrouping::Team)),
        rename(fixtures::dora_report(since, NOW, DoraGrouping::Week)),
        DeliveryConfig::default(),
    );
    reply(&mut state, data);
    snapshot("tab_delivery_long_repo", &state);
    let lines = screen_lines(&state, 80, 24);
    assert!(
        shows(&lines, "p50 5h, p90 20h (3), 1 not recovered"),
        "{lines:#?}"
    );
}

#[test]
fn help_lists_the_delivery_keys() {
    let mut state = delivery();
    send(&mut state, typed("?"));
    snapshot("help_delivery", &state);
}
