//! State transitions: key → action → state (and the RPCs asked for).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{TEAM_KEYS, TEAMS_KEYS};
use super::*;
use crate::fixtures;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn connected() -> State {
    let mut state = State::new("/tmp/t.sock".into());
    let reqs = handle_event(
        &mut state,
        Event::Link(LinkEvent::Connected {
            daemon_version: "0.1.0".into(),
        }),
    );
    assert_eq!(
        reqs,
        vec![
            Request::ListTeams,
            Request::ListInvitations,
            Request::DaemonInfo
        ]
    );
    handle_event(
        &mut state,
        Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
    );
    handle_event(&mut state, Event::Reply(fixtures::daemon_info_reply(true)));
    handle_event(&mut state, Event::Reply(Reply::Invitations(Ok(vec![]))));
    assert_eq!(state.in_flight, 0);
    state
}

/// What opening team `id` asks for (the clock not set yet: now = 0).
/// `load` numbers the pull request load (each reload asks again).
fn open_requests(id: u64, seq: u64, load: u64) -> Vec<Request> {
    let since = crate::tabs::metrics::Period::default().since(0);
    vec![
        Request::LoadTeam(id),
        Request::LoadPulls { team: id, load },
        Request::LoadPeople { team: id, since },
        Request::LoadMetrics { team: id, since },
        Request::LoadDelivery { team: id, since },
        Request::LoadAlerts {
            team: id,
            resolved: false,
        },
        Request::WatchTeam {
            team: id,
            seq,
            after_ms: 0,
        },
    ]
}

fn press(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    events
        .into_iter()
        .flat_map(|e| handle_event(state, e))
        .collect()
}

#[test]
fn starts_connecting_and_busy() {
    let state = State::new("/tmp/t.sock".into());
    assert_eq!(state.link, Link::Connecting);
    assert!(state.is_busy());
    assert_eq!(state.teams, Loadable::Loading);
}

#[test]
fn moving_is_clamped_to_the_list() {
    let mut state = connected();
    press(&mut state, [ch('j'), key(KeyCode::Down), ch('j'), ch('j')]);
    assert_eq!(state.selected.row(), 2);
    press(&mut state, [ch('k'), key(KeyCode::Up), key(KeyCode::Up)]);
    assert_eq!(state.selected.row(), 0);
}

#[test]
fn enter_opens_the_selected_team_and_loads_it() {
    let mut state = connected();
    let reqs = press(&mut state, [ch('j'), key(KeyCode::Enter)]);
    assert_eq!(reqs, open_requests(2, 1, 1));
    let Screen::Team(view) = &state.screen else {
        panic!("not on the team screen: {:?}", state.screen)
    };
    assert_eq!((view.id, view.name.as_str()), (2, "mobile"));
    assert_eq!(view.status, Loadable::Loading);
    assert!(state.is_busy());
}

#[test]
fn team_reply_fills_the_view_and_stale_replies_are_ignored() {
    let mut state = connected();
    press(&mut state, [key(KeyCode::Enter)]);
    let stale = Reply::Team {
        id: 2,
        result: Err("gone".into()),
    };
    handle_event(&mut state, Event::Reply(stale));
    let fresh = Reply::Team {
        id: 1,
        result: Ok(Box::new(fixtures::team_status())),
    };
    handle_event(&mut state, Event::Reply(fresh));
    let Screen::Team(view) = &state.screen else {
        panic!()
    };
    assert!(matches!(view.status, Loadable::Loaded(_)));
    // On the Repos tab, selection moves within the three repos.
    press(&mut state, [ch('2'), ch('j'), ch('j'), ch('j')]);
    let Screen::Team(view) = &state.screen else {
        panic!()
    };
    assert_eq!(view.selected_repo.row(), 2);
}

#[test]
fn esc_goes_back_and_q_quits() {
    let mut state = connected();
    press(&mut state, [key(KeyCode::Enter), key(KeyCode::Esc)]);
    assert_eq!(state.screen, Screen::Teams);
    assert!(!state.quit);
    press(&mut state, [ch('q')]);
    assert!(state.quit);
}

#[test]
fn ctrl_c_quits_even_while_typing() {
    let mut state = connected();
    press(&mut state, [ch('n')]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    handle_event(&mut state, Event::Key(ctrl_c));
    assert!(state.quit);
}

#[test]
fn key_releases_are_ignored() {
    let mut state = connected();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    handle_event(&mut state, Event::Key(release));
    assert!(!state.quit);
}

#[test]
fn create_validates_locally_before_asking_the_daemon() {
    let mut state = connected();
    press(&mut state, [ch('n'), ch(' '), ch('q')]);
    // `q` was typed into the field, not taken as quit.
    assert!(!state.quit);
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert!(reqs.is_empty());
    let Some(Modal::Create(form)) = &state.modal else {
        panic!("form closed")
    };
    assert_eq!(form.input.value(), " q");
    assert_eq!(
        form.error.as_deref(),
        Some("a team name cannot start or end with a space")
    );
    // Editing clears the error; a valid name is sent.
    let reqs = press(
        &mut state,
        [
            key(KeyCode::Home),
            key(KeyCode::Delete),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(reqs, vec![Request::CreateTeam("q".into())]);
    let Some(Modal::Create(form)) = &state.modal else {
        panic!()
    };
    assert!(form.submitting && form.error.is_none());
}

#[test]
fn empty_name_is_refused() {
    let mut state = connected();
    let reqs = press(&mut state, [ch('n'), key(KeyCode::Enter)]);
    assert!(reqs.is_empty());
    let Some(Modal::Create(form)) = &state.modal else {
        panic!()
    };
    assert_eq!(form.error.as_deref(), Some("a team name cannot be empty"));
}

#[test]
fn created_team_is_selected_and_the_list_reloaded() {
    let mut state = connected();
    let reqs = press(&mut state, [ch('n'), ch('z'), key(KeyCode::Enter)]);
    assert_eq!(reqs.len(), 1);
    let team = tidemark_protocol::TeamInfo {
        id: 9,
        name: "z".into(),
        created_at: fixtures::T0,
        role: Some(tidemark_protocol::Role::Owner),
    };
    let reqs = handle_event(&mut state, Event::Reply(Reply::Created(Ok(team))));
    assert_eq!(reqs, vec![Request::ListTeams]);
    assert_eq!(state.modal, None);
    assert_eq!(state.selected_team().map(|t| t.id), Some(9));
    assert_eq!(state.notice, Some(Notice::Info("Created team 'z'.".into())));
}

#[test]
fn daemon_refusal_keeps_the_form_open_with_its_reason() {
    let mut state = connected();
    press(&mut state, [ch('n'), ch('x'), key(KeyCode::Enter)]);
    let err = "team 'x' already exists".to_string();
    handle_event(&mut state, Event::Reply(Reply::Created(Err(err.clone()))));
    let Some(Modal::Create(form)) = &state.modal else {
        panic!("form closed")
    };
    assert_eq!(form.error, Some(err));
    assert!(!form.submitting);
    assert_eq!(form.input.value(), "x");
}

#[test]
fn esc_cancels_the_form() {
    let mut state = connected();
    let reqs = press(&mut state, [ch('n'), ch('x'), key(KeyCode::Esc)]);
    assert!(reqs.is_empty());
    assert_eq!(state.modal, None);
}

#[test]
fn delete_asks_first_and_n_keeps_the_team() {
    let mut state = connected();
    let reqs = press(&mut state, [ch('j'), ch('d')]);
    assert!(reqs.is_empty());
    assert_eq!(
        state.modal,
        Some(Modal::ConfirmDelete {
            id: 2,
            name: "mobile".into()
        })
    );
    let reqs = press(&mut state, [ch('n')]);
    assert!(reqs.is_empty());
    assert_eq!(state.modal, None);
}

#[test]
fn delete_confirmed_removes_the_team_and_leaves_its_view() {
    let mut state = connected();
    press(&mut state, [ch('j'), key(KeyCode::Enter)]);
    let reqs = press(&mut state, [ch('D'), ch('y')]);
    assert_eq!(
        reqs,
        vec![Request::DeleteTeam {
            id: 2,
            name: "mobile".into()
        }]
    );
    let reply = Reply::Deleted {
        id: 2,
        name: "mobile".into(),
        result: Ok(()),
    };
    let reqs = handle_event(&mut state, Event::Reply(reply));
    assert_eq!(reqs, vec![Request::ListTeams]);
    assert_eq!(state.screen, Screen::Teams);
    assert!(state.teams().iter().all(|t| t.id != 2));
    assert!(state.selected.row() < state.teams().len());
}

#[test]
fn failed_delete_is_reported() {
    let mut state = connected();
    press(&mut state, [ch('d'), ch('y')]);
    let reply = Reply::Deleted {
        id: 1,
        name: "platform".into(),
        result: Err("permission denied: only an owner can delete a team".into()),
    };
    handle_event(&mut state, Event::Reply(reply));
    assert_eq!(
        state.notice,
        Some(Notice::Error(
            "cannot delete 'platform': permission denied: only an owner can delete a team".into()
        ))
    );
    assert_eq!(state.teams().len(), 3);
}

#[test]
fn losing_the_daemon_keeps_data_and_refuses_requests() {
    let mut state = connected();
    handle_event(
        &mut state,
        Event::Link(LinkEvent::Lost {
            reason: "the daemon closed the connection".into(),
        }),
    );
    assert!(matches!(state.link, Link::Lost { .. }));
    assert_eq!(state.teams().len(), 3, "stale data stays visible");
    let reqs = press(&mut state, [ch('r')]);
    assert!(reqs.is_empty());
    assert!(matches!(state.notice, Some(Notice::Error(_))));
    // Reconnecting reloads what the screen shows.
    press(&mut state, [key(KeyCode::Enter)]);
    let reqs = handle_event(
        &mut state,
        Event::Link(LinkEvent::Connected {
            daemon_version: "0.1.0".into(),
        }),
    );
    let mut expected = vec![
        Request::ListTeams,
        Request::ListInvitations,
        Request::DaemonInfo,
    ];
    expected.extend(open_requests(1, 1, 2));
    assert_eq!(reqs, expected);
}

#[test]
fn refresh_reloads_the_current_screen() {
    let mut state = connected();
    assert_eq!(
        press(&mut state, [ch('r')]),
        vec![
            Request::ListTeams,
            Request::ListInvitations,
            Request::DaemonInfo
        ]
    );
    press(&mut state, [key(KeyCode::Enter)]);
    // The watch sent when the team opened is still out: no second one.
    let mut expected = vec![
        Request::ListTeams,
        Request::ListInvitations,
        Request::DaemonInfo,
    ];
    expected.extend(open_requests(1, 1, 2));
    expected.pop();
    assert_eq!(press(&mut state, [ch('r')]), expected);
    // Three for the first refresh, six to open the team (the watch is not counted), nine
    // for the second refresh.
    assert_eq!(state.in_flight, 18);
}

#[test]
fn spinner_turns_only_while_busy() {
    let mut state = connected();
    handle_event(&mut state, Event::Tick);
    assert_eq!(state.spinner_tick, 0);
    press(&mut state, [ch('r'), Event::Tick, Event::Tick]);
    assert_eq!(state.spinner_tick, 2);
}

#[test]
fn help_opens_and_closes() {
    let mut state = connected();
    press(&mut state, [ch('?')]);
    assert_eq!(state.modal, Some(Modal::Help));
    // Keys of the screen below do nothing while help is open.
    press(&mut state, [ch('j')]);
    assert_eq!(state.selected.row(), 0);
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(state.modal, None);
}

#[test]
fn every_documented_key_does_something() {
    let mut teams = connected();
    for binding in TEAMS_KEYS {
        let k = KeyEvent::new(binding.example, KeyModifiers::NONE);
        assert!(action_for_key(&teams, k).is_some(), "{}", binding.keys);
    }
    press(&mut teams, [key(KeyCode::Enter)]);
    for binding in TEAM_KEYS {
        let k = KeyEvent::new(binding.example, KeyModifiers::NONE);
        assert!(action_for_key(&teams, k).is_some(), "{}", binding.keys);
    }
}
