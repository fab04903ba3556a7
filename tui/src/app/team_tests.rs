//! The team screen's update logic: tabs, the live watch, reloads on change, the PR list,
//! the repository picker and the confirmations.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::SyncProgress;

use super::*;
use crate::fixtures;
use crate::tabs::metrics::Period;
use crate::tabs::pulls::PrColumn;
use crate::tabs::{Fingerprint, Tab, TeamView};

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

fn view(state: &State) -> &TeamView {
    match &state.screen {
        Screen::Team(view) => view,
        Screen::Teams => panic!("not on a team"),
    }
}

fn done() -> SyncProgress {
    fixtures::sync_steps().pop().unwrap()
}

fn running() -> SyncProgress {
    fixtures::sync_steps()[2].clone()
}

fn watched(seq: u64, sync: SyncProgress, status: tidemark_protocol::TeamStatus) -> Event {
    Event::Reply(Reply::Watched {
        team: 1,
        seq,
        result: Ok(Box::new((sync, status))),
    })
}

/// `platform` open and loaded; its first watch (number 1) still out.
fn team() -> State {
    let mut state = State::new("/tmp/t.sock".into()).with_browser(true);
    press(
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
    assert_eq!(state.in_flight, 0);
    state
}

#[test]
fn tabs_cycle_with_tab_and_shift_tab_and_jump_by_number() {
    let mut state = team();
    assert_eq!(view(&state).tab, Tab::Overview);
    press(&mut state, [key(KeyCode::Tab), key(KeyCode::Tab)]);
    assert_eq!(view(&state).tab, Tab::Pulls);
    press(&mut state, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    assert_eq!(view(&state).tab, Tab::Overview);
    press(&mut state, [key(KeyCode::BackTab)]);
    assert_eq!(view(&state).tab, Tab::Alerts);
    press(&mut state, [ch('4')]);
    assert_eq!(view(&state).tab, Tab::People);
}

#[test]
fn a_running_sync_is_watched_at_once_and_an_idle_one_after_a_pause() {
    let mut state = team();
    let reqs = press(&mut state, [watched(1, running(), fixtures::team_status())]);
    assert_eq!(
        reqs,
        vec![Request::WatchTeam {
            team: 1,
            seq: 2,
            after_ms: 0
        }]
    );
    assert!(view(&state).sync.as_ref().unwrap().running);
    let reqs = press(&mut state, [watched(2, done(), fixtures::team_status())]);
    assert_eq!(
        reqs,
        vec![Request::WatchTeam {
            team: 1,
            seq: 3,
            after_ms: update::IDLE_WATCH_MS
        }]
    );
    // The spinner does not turn for a long poll.
    assert_eq!(state.in_flight, 0);
}

#[test]
fn a_changed_status_reloads_the_tabs_and_an_unchanged_one_does_not() {
    let mut state = team();
    let reqs = press(&mut state, [watched(1, done(), fixtures::team_status())]);
    assert!(!reqs.iter().any(|r| matches!(r, Request::LoadPulls { .. })));
    // A webhook arrived: one more pull request, a newer delivery.
    let mut status = fixtures::team_status();
    status.pull_request_count += 1;
    status.repos[0].last_webhook_at = Some(NOW);
    let reqs = press(&mut state, [watched(2, done(), status.clone())]);
    assert!(
        reqs.contains(&Request::LoadPulls { team: 1, load: 2 }),
        "{reqs:?}"
    );
    assert_eq!(view(&state).loaded_for, Some(Fingerprint::of(&status)));
}

#[test]
fn during_a_sync_reloads_are_paced() {
    let mut state = team();
    let mut status = fixtures::team_status();
    status.pull_request_count += 100;
    // Loaded at NOW (the screen opened then): too soon while the sync runs.
    let reqs = press(&mut state, [watched(1, running(), status.clone())]);
    assert!(
        !reqs.iter().any(|r| matches!(r, Request::LoadPulls { .. })),
        "{reqs:?}"
    );
    press(&mut state, [Event::Clock(NOW + 11)]);
    let reqs = press(&mut state, [watched(2, running(), status)]);
    assert!(
        reqs.contains(&Request::LoadPulls { team: 1, load: 2 }),
        "{reqs:?}"
    );
}

#[test]
fn a_stale_watch_reply_starts_no_second_chain() {
    let mut state = team();
    let reqs = press(&mut state, [watched(7, done(), fixtures::team_status())]);
    assert!(reqs.is_empty());
    assert_eq!(view(&state).watching, Some(1));
    // A failed watch is retried, not dropped.
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Watched {
            team: 1,
            seq: 1,
            result: Err("not connected to the daemon".into()),
        })],
    );
    assert!(matches!(reqs[..], [Request::WatchTeam { seq: 2, .. }]));
}

#[test]
fn pull_requests_sort_filter_and_open_details() {
    let mut state = team();
    press(&mut state, [ch('3')]);
    assert_eq!(view(&state).pr_list.rows.len(), 5);
    press(&mut state, [ch('s')]);
    assert_eq!(view(&state).pr_list.sort, PrColumn::Repo);
    press(&mut state, [ch('S')]);
    assert!(!view(&state).pr_list.descending);
    // While filtering, letters are text: `q` does not quit.
    press(&mut state, [ch('/'), ch('q'), key(KeyCode::Backspace)]);
    assert!(!state.quit);
    press(&mut state, "tokio".chars().map(ch));
    assert_eq!(view(&state).pr_list.rows.len(), 1);
    press(&mut state, [key(KeyCode::Enter)]);
    assert!(!view(&state).pr_list.filtering);
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(
        reqs,
        vec![Request::Timeline {
            team: 1,
            repo: "acme/infra".into(),
            number: 77
        }]
    );
    let Some(Modal::PullRequest(detail)) = &state.modal else {
        panic!("no details: {:?}", state.modal)
    };
    assert!(matches!(detail.timeline, Loadable::Loaded(_)));
    press(&mut state, [ch('o')]);
    assert_eq!(
        state.take_effects(),
        vec![Effect::OpenUrl(
            "https://github.com/acme/infra/pull/77".into()
        )]
    );
    // esc closes the details, a second esc clears the kept filter, a third goes back.
    press(&mut state, [key(KeyCode::Esc), key(KeyCode::Esc)]);
    assert_eq!(view(&state).pr_list.rows.len(), 5);
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(state.screen, Screen::Teams);
}

#[test]
fn g_and_shift_g_and_the_wheel_move_in_the_table() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('G')]);
    assert_eq!(view(&state).pr_list.selected.row(), 4);
    press(&mut state, [Event::Scroll(false)]);
    assert_eq!(view(&state).pr_list.selected.row(), 3);
    press(&mut state, [ch('g')]);
    assert_eq!(view(&state).pr_list.selected.row(), 0);
}

#[test]
fn the_picker_tracks_ticked_repositories() {
    let mut state = team();
    let reqs = press(&mut state, [ch('2'), ch('a')]);
    assert_eq!(reqs, vec![Request::ReposAvailable(1)]);
    let Some(Modal::AddRepos(picker)) = &state.modal else {
        panic!()
    };
    // Only the untracked ones are offered.
    assert_eq!(picker.visible().len(), 3);
    press(&mut state, [ch('/')]);
    press(&mut state, "legacy".chars().map(ch));
    press(&mut state, [key(KeyCode::Enter), ch(' ')]);
    press(&mut state, [ch('/'), key(KeyCode::Esc)]);
    // Clearing the filter leaves the cursor on the repository it was on.
    let Some(Modal::AddRepos(picker)) = &state.modal else {
        panic!()
    };
    assert_eq!(picker.selected_repo().unwrap().full_name, "acme/legacy-app");
    press(&mut state, [key(KeyCode::Up), ch(' ')]);
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(
        reqs,
        vec![Request::Track {
            team: 1,
            names: vec!["acme/billing".into(), "acme/legacy-app".into()]
        }]
    );
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Tracked {
            team: 1,
            result: Ok(fixtures::repos()),
        })],
    );
    assert_eq!(reqs, vec![Request::LoadTeam(1)]);
    assert_eq!(state.modal, None);
}

#[test]
fn untrack_and_rotate_ask_first() {
    let mut state = team();
    press(&mut state, [ch('2'), ch('j'), ch('d')]);
    assert!(matches!(&state.modal, Some(Modal::ConfirmUntrack { repo, .. }) if repo == "acme/web"));
    assert!(press(&mut state, [ch('n')]).is_empty());
    let reqs = press(&mut state, [ch('d'), ch('y')]);
    assert_eq!(
        reqs,
        vec![Request::Untrack {
            team: 1,
            name: "acme/web".into()
        }]
    );
    let reqs = press(&mut state, [ch('1'), ch('W'), ch('y')]);
    assert_eq!(reqs, vec![Request::RotateSecret(1)]);
}

#[test]
fn sync_now_needs_a_github_connection() {
    let mut state = team();
    assert_eq!(press(&mut state, [ch('f')]), vec![Request::SyncNow(1)]);
    let mut status = fixtures::team_status();
    status.integrations.clear();
    press(
        &mut state,
        [Event::Reply(Reply::Team {
            id: 1,
            result: Ok(Box::new(status)),
        })],
    );
    assert!(press(&mut state, [ch('f')]).is_empty());
    assert!(matches!(state.notice, Some(Notice::Error(_))));
}

#[test]
fn the_period_reloads_metrics_and_people_for_its_range() {
    let mut state = team();
    let reqs = handle_event(&mut state, ch('5'));
    assert!(reqs.is_empty());
    let reqs = handle_event(&mut state, ch(']'));
    let since = Period::Weeks26.since(NOW);
    assert!(
        reqs.contains(&Request::LoadMetrics { team: 1, since }),
        "{reqs:?}"
    );
    assert!(
        reqs.contains(&Request::LoadPeople { team: 1, since }),
        "{reqs:?}"
    );
    // A late answer for the old period is ignored.
    let old = Period::Weeks12.since(NOW);
    handle_event(
        &mut state,
        Event::Reply(Reply::Metrics {
            team: 1,
            since: old,
            result: Err("late".into()),
        }),
    );
    assert_eq!(view(&state).metrics, Loadable::Loading);
}

/// Two loads out at once (a refresh during a reload): the older reply, arriving last, is
/// dropped.
#[test]
fn an_older_pull_request_load_arriving_last_is_dropped() {
    let mut state = team();
    handle_event(&mut state, ch('r'));
    let older = Reply::Pulls {
        team: 1,
        load: 1,
        result: Ok(Vec::new()),
    };
    handle_event(&mut state, Event::Reply(older));
    assert_eq!(view(&state).pulls().len(), 5);
}

/// The clock moves every second; a reply to data asked for a tick earlier still lands.
#[test]
fn data_asked_before_a_clock_tick_still_lands() {
    let mut state = State::new("/tmp/t.sock".into());
    let mut reqs = handle_event(
        &mut state,
        Event::Link(LinkEvent::Connected {
            daemon_version: "0.1.0".into(),
        }),
    );
    handle_event(
        &mut state,
        Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
    );
    handle_event(&mut state, Event::Reply(fixtures::daemon_info_reply(true)));
    handle_event(&mut state, Event::Reply(Reply::Invitations(Ok(vec![]))));
    handle_event(&mut state, Event::Clock(NOW));
    reqs.extend(handle_event(&mut state, key(KeyCode::Enter)));
    handle_event(&mut state, Event::Clock(NOW + 5));
    for req in &reqs {
        if let Some(reply) = fixtures::team_reply(req) {
            handle_event(&mut state, Event::Reply(reply));
        }
    }
    assert!(matches!(view(&state).metrics, Loadable::Loaded(_)));
    assert!(matches!(view(&state).people, Loadable::Loaded(_)));
}

#[test]
fn the_config_opens_the_default_team_on_its_default_tab() {
    let config = crate::config::Config {
        default_team: Some("mobile".into()),
        default_tab: Tab::Metrics,
        ..Default::default()
    };
    let mut state = State::new("/tmp/t.sock".into()).with_config(config);
    let reqs = press(
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
    assert!(reqs.contains(&Request::LoadTeam(2)), "{reqs:?}");
    assert_eq!(view(&state).tab, Tab::Metrics);
    // Only at start: going back and reloading the list stays on the list.
    press(&mut state, [key(KeyCode::Esc)]);
    press(
        &mut state,
        [Event::Reply(Reply::Teams(Ok(fixtures::teams())))],
    );
    assert_eq!(state.screen, Screen::Teams);
}

#[test]
fn every_documented_tab_key_does_something() {
    let mut state = team();
    for tab in Tab::ALL {
        press(&mut state, [ch(char::from(b'1' + tab.index() as u8))]);
        for binding in action::bindings(&state.screen) {
            let k = KeyEvent::new(binding.example, KeyModifiers::NONE);
            assert!(
                action_for_key(&state, k).is_some(),
                "{:?}: {}",
                tab,
                binding.keys
            );
        }
    }
}
