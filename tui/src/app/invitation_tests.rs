//! Invitations into teams: `i` on the teams screen, accept and decline, replies as events.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::{Role, TeamInfo};

use super::*;
use crate::fixtures;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn press(state: &mut State, events: impl IntoIterator<Item = Event>) -> Vec<Request> {
    events
        .into_iter()
        .flat_map(|e| handle_event(state, e))
        .collect()
}

/// Connected, the fixture's teams and invitations in.
fn invited() -> State {
    let mut state = State::new("/tmp/t.sock".into());
    let reqs = press(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(fixtures::invitations()))),
            Event::Reply(fixtures::daemon_info_reply(true)),
        ],
    );
    assert_eq!(
        reqs,
        [
            Request::ListTeams,
            Request::ListInvitations,
            Request::DaemonInfo
        ]
    );
    assert_eq!(state.in_flight, 0);
    state
}

fn dialog(state: &State) -> &InvitationsDialog {
    match &state.modal {
        Some(Modal::Invitations(dialog)) => dialog,
        other => panic!("no invitations dialog: {other:?}"),
    }
}

fn joined(id: u64, name: &str, role: Role) -> TeamInfo {
    TeamInfo {
        id,
        name: name.into(),
        created_at: fixtures::T0,
        role: Some(role),
    }
}

#[test]
fn i_opens_the_invitations_and_asks_for_them_again() {
    let mut state = invited();
    assert_eq!(press(&mut state, [ch('i')]), [Request::ListInvitations]);
    assert_eq!(dialog(&state).selected.row(), 0);
    // Moves stay inside the dialog; the teams' selection does not move.
    press(&mut state, [ch('j'), ch('j')]);
    assert_eq!(dialog(&state).selected.key(), Some(&7));
    assert_eq!(state.selected.row(), 0);
    // A reload with a new invitation above keeps the cursor on #7.
    let mut more = fixtures::invitations();
    let mut first = more[0].clone();
    (first.team_id, first.team_name) = (11, "analytics".into());
    more.insert(0, first);
    press(&mut state, [Event::Reply(Reply::Invitations(Ok(more)))]);
    assert_eq!(dialog(&state).selected.key(), Some(&7));
    assert_eq!(dialog(&state).selected.row(), 2);
    press(&mut state, [key(KeyCode::Esc)]);
    assert!(state.modal.is_none());
}

#[test]
fn accepting_joins_the_team_with_the_invited_role_and_selects_it() {
    let mut state = invited();
    press(&mut state, [ch('i'), ch('j')]);
    let reqs = press(&mut state, [ch('a')]);
    assert_eq!(
        reqs,
        [Request::AnswerInvitation {
            team: 7,
            name: "Platform".into(),
            accept: true
        }]
    );
    // One answer at a time.
    assert!(press(&mut state, [ch('a'), ch('x')]).is_empty());
    assert_eq!(dialog(&state).answering, Some(7));

    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Answered {
            team: 7,
            name: "Platform".into(),
            result: Ok(Some(joined(7, "Platform", Role::Owner))),
        })],
    );
    assert_eq!(reqs, [Request::ListTeams, Request::ListInvitations]);
    assert_eq!(
        state.notice,
        Some(Notice::Info("Joined team 'Platform' (#7) as owner.".into()))
    );
    assert_eq!(state.selected_team().map(|t| t.id), Some(7));
    assert_eq!(state.teams().len(), 4);
    // #9 still waits: the dialog stays, on it.
    assert_eq!(state.invitations().len(), 1);
    assert_eq!(dialog(&state).selected.key(), Some(&9));
    assert_eq!(dialog(&state).answering, None);
}

#[test]
fn declining_leaves_the_teams_as_they_are_and_the_last_answer_closes_the_dialog() {
    let mut state = invited();
    press(
        &mut state,
        [Event::Reply(Reply::Invitations(Ok(fixtures::invitations(
        )[..1]
            .to_vec())))],
    );
    press(&mut state, [ch('i')]);
    let reqs = press(&mut state, [ch('x')]);
    assert_eq!(
        reqs,
        [Request::AnswerInvitation {
            team: 9,
            name: "design".into(),
            accept: false
        }]
    );
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Answered {
            team: 9,
            name: "design".into(),
            result: Ok(None),
        })],
    );
    assert_eq!(reqs, [Request::ListInvitations]);
    assert_eq!(state.teams(), fixtures::teams());
    assert!(state.invitations().is_empty());
    assert!(state.modal.is_none(), "nothing left to answer");
    assert_eq!(
        state.notice,
        Some(Notice::Info("Declined the invitation to 'design'.".into()))
    );
}

#[test]
fn a_failed_answer_says_why_and_keeps_the_invitation() {
    let mut state = invited();
    press(&mut state, [ch('i'), ch('a')]);
    let reqs = press(
        &mut state,
        [Event::Reply(Reply::Answered {
            team: 9,
            name: "design".into(),
            result: Err("team #9 not found".into()),
        })],
    );
    assert_eq!(reqs, [Request::ListInvitations]);
    assert_eq!(
        state.notice,
        Some(Notice::Error(
            "cannot answer the invitation to 'design': team #9 not found".into()
        ))
    );
    assert_eq!(state.invitations().len(), 2);
    assert_eq!(dialog(&state).answering, None);
    assert_eq!(state.teams(), fixtures::teams());
}

#[test]
fn with_no_invitations_the_dialog_says_so_and_a_or_x_do_nothing() {
    let mut state = invited();
    press(&mut state, [Event::Reply(Reply::Invitations(Ok(vec![])))]);
    press(&mut state, [ch('i')]);
    assert!(press(&mut state, [ch('a'), ch('x')]).is_empty());
    assert_eq!(dialog(&state).answering, None);
}
