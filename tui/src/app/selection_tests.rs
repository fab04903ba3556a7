//! Selections follow their item across reloads, re-sorts and filters, on every list: teams,
//! tracked repositories, pull requests, people (see `selection.rs`).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::{MemberInfo, MetricsGrouping, MetricsRow, PrInfo, RepoInfo, TeamInfo};

use super::*;
use crate::fixtures;
use crate::tabs::TeamView;
use crate::tabs::people::PeopleData;

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

/// `platform` open and loaded.
fn team() -> State {
    let mut state = State::new("/tmp/t.sock".into());
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
    state
}

/// The pull requests arrive again (a webhook, a sync), as `pulls`.
fn reload_pulls(state: &mut State, pulls: Vec<PrInfo>) {
    let load = view(state).pulls_gen;
    press(
        state,
        [Event::Reply(Reply::Pulls {
            team: 1,
            load,
            result: Ok(pulls),
        })],
    );
}

fn selected_pull(state: &State) -> (String, u64) {
    let pr = view(state)
        .selected_pull()
        .expect("a pull request selected");
    (pr.repo.clone(), pr.number)
}

/// A pull request newer than every fixture: it sorts first.
fn newest(repo: &str, number: u64) -> PrInfo {
    PrInfo {
        repo: repo.into(),
        number,
        title: "Arrived by webhook".into(),
        created_at: fixtures::T0 + 60,
        ..fixtures::pull_requests().remove(0)
    }
}

#[test]
fn a_pull_request_stays_selected_when_a_reload_adds_one_above_it() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('j')]);
    assert_eq!(selected_pull(&state), ("acme/web".into(), 311));
    assert_eq!(view(&state).pr_list.selected.row(), 1);
    // The daemon's order puts the new one first in the list, and it sorts first on screen.
    let mut pulls = fixtures::pull_requests();
    pulls.insert(0, newest("acme/api", 1291));
    reload_pulls(&mut state, pulls);
    assert_eq!(selected_pull(&state), ("acme/web".into(), 311));
    assert_eq!(view(&state).pr_list.selected.row(), 2);
    // Enter opens the one the user chose.
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert!(
        reqs.contains(&Request::Timeline {
            team: 1,
            repo: "acme/web".into(),
            number: 311
        }),
        "{reqs:?}"
    );
    let Some(Modal::PullRequest(detail)) = &state.modal else {
        panic!("no details open");
    };
    assert_eq!(
        (detail.pr.repo.as_str(), detail.pr.number),
        ("acme/web", 311)
    );
}

#[test]
fn the_same_number_in_another_repository_is_another_pull_request() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('j')]);
    assert_eq!(selected_pull(&state), ("acme/web".into(), 311));
    let mut pulls = fixtures::pull_requests();
    pulls.insert(0, newest("acme/api", 311));
    reload_pulls(&mut state, pulls);
    assert_eq!(selected_pull(&state), ("acme/web".into(), 311));
}

#[test]
fn a_pull_request_stays_selected_across_sorts_and_filters() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('j'), ch('j')]);
    assert_eq!(selected_pull(&state), ("acme/api".into(), 1287));
    for keys in ["s", "s", "S", "s", "s", "s", "s", "S"] {
        press(&mut state, keys.chars().map(ch));
        assert_eq!(
            selected_pull(&state),
            ("acme/api".into(), 1287),
            "after {keys}"
        );
    }
    press(&mut state, "/retry".chars().map(ch));
    assert_eq!(selected_pull(&state), ("acme/api".into(), 1287));
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(selected_pull(&state), ("acme/api".into(), 1287));
}

#[test]
fn a_gone_pull_request_leaves_the_cursor_on_the_nearest_row() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('G')]);
    assert_eq!(selected_pull(&state), ("acme/web".into(), 290));
    // The last one is gone: the cursor stays on the last row, on what is there now.
    let pulls: Vec<PrInfo> = fixtures::pull_requests()
        .into_iter()
        .filter(|p| p.number != 290)
        .collect();
    reload_pulls(&mut state, pulls);
    assert_eq!(view(&state).pr_list.selected.row(), 3);
    assert_eq!(selected_pull(&state), ("acme/infra".into(), 77));
    // From then on it follows that one.
    let mut pulls = fixtures::pull_requests();
    pulls.push(newest("acme/web", 9));
    reload_pulls(&mut state, pulls);
    assert_eq!(selected_pull(&state), ("acme/infra".into(), 77));
}

#[test]
fn a_pull_request_is_found_again_after_the_list_was_empty() {
    let mut state = team();
    press(&mut state, [ch('3'), ch('j'), ch('j')]);
    press(&mut state, "/nothing matches this".chars().map(ch));
    assert!(view(&state).selected_pull().is_none());
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(selected_pull(&state), ("acme/api".into(), 1287));
}

#[test]
fn a_repository_stays_selected_when_the_status_lists_one_before_it() {
    let mut state = team();
    press(&mut state, [ch('2'), ch('j')]);
    assert_eq!(view(&state).selected_repo().unwrap().full_name, "acme/web");
    let mut status = fixtures::team_status();
    status.repos.insert(
        0,
        RepoInfo {
            github_repo_id: 999,
            full_name: "acme/aardvark".into(),
            ..status.repos[0].clone()
        },
    );
    // Renamed meanwhile: still the same repository (by GitHub's id).
    status.repos[2].full_name = "acme/website".into();
    press(
        &mut state,
        [Event::Reply(Reply::Team {
            id: 1,
            result: Ok(Box::new(status)),
        })],
    );
    assert_eq!(view(&state).selected_repo.row(), 2);
    press(&mut state, [ch('d')]);
    assert_eq!(
        state.modal,
        Some(Modal::ConfirmUntrack {
            team: 1,
            repo: "acme/website".into()
        })
    );
}

fn selected_login(state: &State) -> String {
    let view = view(state);
    view.people_rows[view.selected_person.row()].login.clone()
}

#[test]
fn a_person_stays_selected_when_people_arrive_again() {
    let mut state = team();
    press(&mut state, [ch('4'), ch('j')]);
    assert_eq!(selected_login(&state), "bob-k");
    let since = view(&state).since;
    let mut members = fixtures::members();
    members.push(MemberInfo {
        id: 77,
        github_id: Some(7777),
        github_login: Some("zed".into()),
        display_name: "Zed Newcomer".into(),
        email: None,
        is_bot: false,
        left_at: None,
    });
    let mut by_member = fixtures::metrics_rows(MetricsGrouping::Member);
    // The newcomer authored the most: first in the table.
    by_member.push(MetricsRow {
        key: "zed".into(),
        prs: 999,
        ..by_member[0].clone()
    });
    press(
        &mut state,
        [Event::Reply(Reply::People {
            team: 1,
            since,
            result: Ok(PeopleData {
                members,
                by_member,
                reviews_given: fixtures::reviews_given(),
            }),
        })],
    );
    assert_eq!(view(&state).people_rows[0].login, "zed");
    assert_eq!(selected_login(&state), "bob-k");
    assert_eq!(view(&state).selected_person.row(), 2);
}

#[test]
fn a_member_without_a_login_is_followed_by_id() {
    let mut state = team();
    press(&mut state, [ch('4'), ch('j'), ch('j')]);
    let carol = {
        let view = view(&state);
        view.people_rows[view.selected_person.row()].clone()
    };
    assert_eq!((carol.login.as_str(), carol.member), ("", Some(4)));
    let since = view(&state).since;
    let mut members = fixtures::members();
    members.retain(|m| m.id != 1);
    press(
        &mut state,
        [Event::Reply(Reply::People {
            team: 1,
            since,
            result: Ok(PeopleData {
                members,
                by_member: fixtures::metrics_rows(MetricsGrouping::Member),
                reviews_given: fixtures::reviews_given(),
            }),
        })],
    );
    let view = view(&state);
    assert_eq!(view.people_rows[view.selected_person.row()].member, Some(4));
}

#[test]
fn a_team_stays_selected_when_the_list_arrives_again() {
    let mut state = State::new("/tmp/t.sock".into());
    press(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(true)),
            ch('j'),
        ],
    );
    assert_eq!(state.selected_team().unwrap().name, "mobile");
    let mut teams = fixtures::teams();
    teams.insert(
        0,
        TeamInfo {
            id: 40,
            name: "aardvark".into(),
            ..teams[0].clone()
        },
    );
    press(&mut state, [Event::Reply(Reply::Teams(Ok(teams)))]);
    assert_eq!(state.selected_team().unwrap().name, "mobile");
    assert_eq!(state.selected.row(), 2);
    let reqs = press(&mut state, [key(KeyCode::Enter)]);
    assert!(reqs.contains(&Request::LoadTeam(2)), "{reqs:?}");
}
