//! The Delivery tab's update logic: the load, the cursor over measures and deployments, drilling
//! in and out, the rules (edit, signal, preview, save refused and accepted), read-only members.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::Role;
use tidemark_protocol::delivery::{DeliveryConfig, DoraGrouping, Signal};
use tidemark_protocol::metrics::dora::Measure;

use super::rules::{RulesEditor, Saving};
use super::*;
use crate::app::{Event, LinkEvent, Reply, Screen, handle_event};
use crate::fixtures;
use crate::tabs::Tab;

const NOW: i64 = fixtures::T0 + 3600;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn press(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    let mut asked = Vec::new();
    for event in events {
        let reqs = handle_event(state, event);
        for req in &reqs {
            if let Some(reply) = fixtures::team_reply(req) {
                asked.extend(press(state, [Event::Reply(reply)]));
            }
        }
        asked.extend(reqs);
    }
    asked
}

/// `platform` open on the Delivery tab, everything loaded, the caller in `role`.
fn delivery(role: Role) -> State {
    let mut state = State::new("/tmp/t.sock".into());
    let mut status = fixtures::team_status();
    status.team.role = Some(role);
    let reqs = press(
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
                result: Ok(Box::new(status)),
            }),
            ch('6'),
        ],
    );
    let since = NOW - 12 * 7 * 86_400;
    assert!(
        reqs.contains(&Request::LoadDelivery { team: 1, since }),
        "{reqs:?}"
    );
    assert_eq!(tab(&state).tab, Tab::Delivery);
    state
}

fn tab(state: &State) -> &TeamView {
    match &state.screen {
        Screen::Team(view) => view,
        Screen::Teams => panic!("not on a team"),
    }
}

fn page(state: &State) -> &Page {
    &tab(state).delivery.page
}

fn editor(state: &State) -> &RulesEditor {
    match page(state) {
        Page::Rules(editor) => editor,
        other => panic!("not in the rules: {other:?}"),
    }
}

fn data(state: &State) -> &DeliveryData {
    tab(state).delivery.loaded().expect("loaded")
}

#[test]
fn the_cursor_runs_over_the_measures_then_the_deployments_newest_first() {
    let mut state = delivery(Role::Owner);
    let d = data(&state);
    assert_eq!(d.items.len(), 5 + d.team.deployments.len());
    let newest = d.newest_first[0];
    assert_eq!(d.team.deployments[newest as usize].id, "9912345678");
    assert_eq!(
        tab(&state).delivery.selected_item(),
        Some(&Item::Measure(Measure::DeploymentFrequency))
    );
    press(&mut state, [ch('j'), ch('j')]);
    assert_eq!(
        tab(&state).delivery.selected_item(),
        Some(&Item::Measure(Measure::ChangeFailRate))
    );
    press(&mut state, [ch('j'), ch('j'), ch('j')]);
    assert_eq!(
        tab(&state).delivery.selected_item(),
        Some(&Item::Deployment(DeploymentKey {
            repo: "acme/infra".into(),
            id: "9912345678".into()
        }))
    );
}

#[test]
fn enter_drills_into_a_measure_and_esc_comes_back_then_leaves_the_team() {
    let mut state = delivery(Role::Member);
    press(&mut state, [ch('j'), ch('j'), key(KeyCode::Enter)]);
    assert_eq!(
        *page(&state),
        Page::Measure {
            measure: Measure::ChangeFailRate,
            scroll: 0
        }
    );
    // j/k scroll the details, not the page's cursor.
    press(&mut state, [ch('j'), ch('j')]);
    assert_eq!(
        *page(&state),
        Page::Measure {
            measure: Measure::ChangeFailRate,
            scroll: 2
        }
    );
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(*page(&state), Page::Main);
    assert_eq!(
        tab(&state).delivery.selected_item(),
        Some(&Item::Measure(Measure::ChangeFailRate))
    );
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(state.screen, Screen::Teams);
}

#[test]
fn enter_on_a_deployment_shows_it_and_a_reload_keeps_it() {
    let mut state = delivery(Role::Member);
    press(&mut state, [key(KeyCode::End), key(KeyCode::Enter)]);
    let Page::Deployment { key: oldest, .. } = page(&state).clone() else {
        panic!("{:?}", page(&state));
    };
    assert_eq!(oldest.id, "DE_kwDOA001");
    // A reload over a shorter window drops it: the page says so rather than showing another.
    let since = NOW - 4 * 7 * 86_400;
    press(&mut state, [ch('[')]);
    assert_eq!(tab(&state).since, since);
    let d = data(&state);
    assert_eq!(d.deployment(&oldest), None);
    // The cursor stayed on the nearest row.
    assert!(tab(&state).delivery.selected.row() < d.items.len());
}

#[test]
fn the_period_keys_reload_the_figures() {
    let mut state = delivery(Role::Owner);
    let reqs = press(&mut state, [ch(']')]);
    let since = NOW - 26 * 7 * 86_400;
    assert!(
        reqs.contains(&Request::LoadDelivery { team: 1, since }),
        "{reqs:?}"
    );
    assert_eq!(data(&state).team.since, since);
}

#[test]
fn a_failed_load_says_why_and_nothing_panics_on_an_empty_report() {
    let mut state = delivery(Role::Owner);
    let since = tab(&state).since;
    press(
        &mut state,
        [Event::Reply(Reply::Delivery {
            team: 1,
            since,
            result: Err("team 'platform' not found".into()),
        })],
    );
    assert!(matches!(tab(&state).delivery.data, Loadable::Failed(_)));
    // Nothing tracked: no repositories, no deployments, one empty group.
    let empty = |by| {
        let mut r = fixtures::dora_report(since, NOW, by);
        r.repos.clear();
        r.deployments.clear();
        r.changes.clear();
        r.failures.clear();
        for g in &mut r.groups {
            *g = tidemark_protocol::delivery::DoraGroup {
                key: g.key.clone(),
                since: g.since,
                until: g.until,
                deployed: vec![],
                per_week_milli: 0,
                frequency_band: None,
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
            };
        }
        r
    };
    let data = DeliveryData::new(
        empty(DoraGrouping::Team),
        empty(DoraGrouping::Week),
        DeliveryConfig::default(),
    );
    press(
        &mut state,
        [Event::Reply(Reply::Delivery {
            team: 1,
            since,
            result: Ok(Box::new(data)),
        })],
    );
    press(
        &mut state,
        [key(KeyCode::End), key(KeyCode::Enter), key(KeyCode::Esc)],
    );
    assert_eq!(
        tab(&state).delivery.selected_item(),
        Some(&Item::Measure(Measure::ReworkRate))
    );
    press(
        &mut state,
        [
            ch('e'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch('j'),
            ch(' '),
        ],
    );
    assert!(editor(&state).config.signals.is_empty());
}

#[test]
fn an_admin_edits_a_rule_sees_the_effect_then_saves() {
    let mut state = delivery(Role::Admin);
    press(&mut state, [ch('e')]);
    assert!(editor(&state).may_edit);
    // Edit the production pattern: enter, type, enter keeps.
    press(&mut state, [key(KeyCode::Enter)]);
    assert!(crate::tabs::typing(tab(&state)));
    // While typing, `q` and `s` are text.
    press(
        &mut state,
        [
            key(KeyCode::Backspace),
            ch('|'),
            ch('q'),
            ch('s'),
            key(KeyCode::Enter),
        ],
    );
    assert!(!state.quit);
    assert_eq!(
        editor(&state).config.production_pattern,
        "^prod(uction)?|qs"
    );
    assert!(editor(&state).changed());

    // `s` first shows the effect: a preview, no save.
    let reqs = press(&mut state, [ch('s')]);
    let config = editor(&state).config.clone();
    assert_eq!(
        reqs,
        [Request::DeliveryPreview {
            team: 1,
            config: Box::new(config.clone())
        }]
    );
    let before = data(&state).group().unwrap().clone();
    let mut after = before.clone();
    after.deployed.pop();
    press(
        &mut state,
        [Event::Reply(Reply::DeliveryPreview {
            team: 1,
            config: Box::new(config.clone()),
            result: Ok(Box::new((before, after))),
        })],
    );
    assert!(editor(&state).previewed_now());

    // Now `s` saves these rules; the daemon's answer reloads the figures.
    let reqs = press(&mut state, [ch('s')]);
    assert_eq!(
        reqs,
        [Request::SaveDeliveryRules {
            team: 1,
            config: Box::new(config.clone())
        }]
    );
    // (Not answered from the fixtures: they would bring back the default rules.)
    let reqs = handle_event(
        &mut state,
        Event::Reply(Reply::DeliverySaved {
            team: 1,
            result: Ok(config.clone()),
        }),
    );
    assert!(
        reqs.iter()
            .any(|r| matches!(r, Request::LoadDelivery { team: 1, .. })),
        "{reqs:?}"
    );
    assert_eq!(editor(&state).saving, Saving::Saved);
    assert_eq!(editor(&state).saved, config);
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(*page(&state), Page::Main);
}

#[test]
fn a_refused_pattern_shows_the_daemons_words_under_it_and_nothing_is_saved() {
    let mut state = delivery(Role::Owner);
    press(&mut state, [ch('e'), ch('j')]);
    press(
        &mut state,
        [
            key(KeyCode::Enter),
            key(KeyCode::Home),
            ch('('),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(
        editor(&state).config.workflow_pattern,
        "((?i)deploy|release"
    );
    let reqs = press(&mut state, [ch('p')]);
    let config = editor(&state).config.clone();
    assert_eq!(
        reqs,
        [Request::DeliveryPreview {
            team: 1,
            config: Box::new(config.clone())
        }]
    );
    let words = "invalid workflow pattern: workflow pattern: `((?i)deploy|release` is not a \
                 usable pattern: unclosed group";
    press(
        &mut state,
        [Event::Reply(Reply::DeliveryPreview {
            team: 1,
            config: Box::new(config),
            result: Err(words.into()),
        })],
    );
    let refusal = editor(&state).refusal.clone().expect("refused");
    assert_eq!(refusal.rule, Some(1));
    assert_eq!(refusal.text, words);
    // `s` does not save what was refused: it asks for the effect again.
    let reqs = press(&mut state, [ch('s')]);
    assert!(
        reqs.iter()
            .all(|r| !matches!(r, Request::SaveDeliveryRules { .. })),
        "{reqs:?}"
    );
    // A save the daemon refuses (rules changed by someone else, say) is said in place too.
    press(
        &mut state,
        [Event::Reply(Reply::DeliverySaved {
            team: 1,
            result: Err("permission denied: your role in this team does not allow this".into()),
        })],
    );
    let refusal = editor(&state).refusal.clone().expect("refused");
    assert_eq!(refusal.rule, None);
    assert_eq!(editor(&state).saving, Saving::Idle);
}

#[test]
fn esc_while_typing_leaves_the_rule_as_it_was() {
    let mut state = delivery(Role::Owner);
    press(&mut state, [ch('e'), ch('j'), ch('j'), ch('j')]);
    press(
        &mut state,
        [key(KeyCode::Enter), ch('x'), key(KeyCode::Esc)],
    );
    assert_eq!(editor(&state).config.incident_label, "incident");
    assert!(!editor(&state).changed());
    assert!(!crate::tabs::typing(tab(&state)));
    // The next esc leaves the rules, the one after the team.
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(*page(&state), Page::Main);
}

#[test]
fn space_turns_a_repositorys_signal_through_every_one_and_back_to_the_best() {
    let mut state = delivery(Role::Owner);
    press(&mut state, [ch('e'), key(KeyCode::End)]);
    let repo = editor(&state).repos.last().unwrap().repo.clone();
    assert_eq!(repo, "acme/infra");
    let mut seen = Vec::new();
    for _ in 0..Signal::ALL.len() {
        press(&mut state, [ch(' ')]);
        seen.push(editor(&state).choice(&repo).unwrap());
    }
    assert_eq!(seen, Signal::ALL);
    press(&mut state, [key(KeyCode::Right)]);
    assert_eq!(editor(&state).choice(&repo), None);
    assert!(!editor(&state).changed());
}

#[test]
fn a_preview_answer_for_older_rules_is_not_shown_for_the_new_ones() {
    let mut state = delivery(Role::Owner);
    press(&mut state, [ch('e'), key(KeyCode::End), ch(' '), ch('p')]);
    let old = editor(&state).config.clone();
    press(&mut state, [ch(' ')]);
    let g = data(&state).group().unwrap().clone();
    press(
        &mut state,
        [Event::Reply(Reply::DeliveryPreview {
            team: 1,
            config: Box::new(old),
            result: Ok(Box::new((g.clone(), g))),
        })],
    );
    assert!(!editor(&state).previewed_now());
}

#[test]
fn a_member_reads_the_rules_but_cannot_change_them() {
    let mut state = delivery(Role::Member);
    press(&mut state, [ch('e')]);
    assert!(!editor(&state).may_edit);
    let reqs = press(&mut state, [key(KeyCode::Enter), ch(' '), ch('p'), ch('s')]);
    assert!(reqs.is_empty(), "{reqs:?}");
    assert!(editor(&state).editing.is_none());
    assert!(!editor(&state).changed());
    assert!(editor(&state).hint.as_deref().unwrap().contains("admins"));
}

#[test]
fn shipped_cells_never_cut_a_number() {
    use super::view::shipped_cell;
    let items = vec![
        (1284, "Cache tokens in memory".to_string()),
        (1285, "Add rate-limit budget".to_string()),
    ];
    assert_eq!(
        shipped_cell(&items, 80),
        "#1284 Cache tokens in memory · #1285 Add rate-limit budget"
    );
    // The second number does not fit whole: it is left out, the `…` says more follows.
    assert_eq!(shipped_cell(&items, 33), "#1284 Cache tokens in memory …");
    assert_eq!(shipped_cell(&items, 7), "#1284 …");
    assert_eq!(shipped_cell(&items, 5), "…");
    assert_eq!(shipped_cell(&[(7, String::new())], 2), "#7");
    for width in 1..70 {
        let cell = shipped_cell(&items, width);
        assert!(crate::columns::cells(&cell) <= width, "{width}: {cell}");
        // Every number shown is one shipped, whole.
        for word in cell.split(' ').filter(|w| w.starts_with('#')) {
            assert!(["#1284", "#1285"].contains(&word), "{width}: {cell}");
        }
    }
}

#[test]
fn reasons_give_way_between_words_never_inside_a_number() {
    use super::view::fit_words;
    let why = "incident #91 (label `incident`): the last successful deployment";
    assert_eq!(fit_words(why, 100), why);
    assert_eq!(fit_words(why, 20), "incident #91 (label…");
    // `#91` does not fit whole with its `…`: it is left out.
    assert_eq!(fit_words(why, 11), "incident …");
    assert_eq!(fit_words(why, 4), "inc…");
    assert_eq!(fit_words("#1286 reverts #1284", 4), "…");
    for width in 1..70 {
        let cell = fit_words(why, width);
        assert!(crate::columns::cells(&cell) <= width, "{width}: {cell}");
        assert!(
            !cell.contains("#9…") && !cell.contains("#91…"),
            "{width}: {cell}"
        );
        let cell = fit_words("#1286 reverts #1284", width);
        assert!(crate::columns::cells(&cell) <= width, "{width}: {cell}");
        for word in cell.split(' ').filter(|w| w.starts_with('#')) {
            assert!(["#1286", "#1284"].contains(&word), "{width}: {cell}");
        }
    }
}

#[test]
fn the_rules_wait_for_the_figures_and_left_is_no_period_key_there() {
    let mut state = delivery(Role::Owner);
    let since = tab(&state).since;
    press(&mut state, [ch('e'), ch('h')]);
    assert_eq!(tab(&state).since, since, "h in the rules kept the period");
    press(&mut state, [key(KeyCode::Esc)]);
    if let Screen::Team(view) = &mut state.screen {
        view.delivery.data = Loadable::Loading;
    }
    press(&mut state, [ch('e')]);
    assert_eq!(*page(&state), Page::Main);
    assert!(matches!(
        state.notice,
        Some(crate::app::state::Notice::Info(_))
    ));
}
