//! The Alerts tab's update logic: the load, the cursor over breaches, details in and out,
//! resolved breaches toggled (a new load, stale answers dropped), the agreements (typed values
//! checked inline, saved, refused), read-only members, and the badge.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tidemark_protocol::Role;
use tidemark_protocol::agreements::Span;

use super::agreements::{AgreementsEditor, Saving};
use super::*;
use crate::app::{Event, LinkEvent, Reply, Screen, handle_event};
use crate::fixtures;

const NOW: i64 = fixtures::T0 + 3600;

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(ch).collect()
}

/// Send events; the fixtures answer the tabs' loads at once. Returns every request made.
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

/// `platform` open on the Alerts tab, everything loaded, the caller in `role`.
fn alerts(role: Role) -> State {
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
            ch('7'),
        ],
    );
    assert!(
        reqs.contains(&Request::LoadAlerts {
            team: 1,
            resolved: false
        }),
        "{reqs:?}"
    );
    assert_eq!(view(&state).tab, Tab::Alerts);
    state
}

fn view(state: &State) -> &TeamView {
    match &state.screen {
        Screen::Team(view) => view,
        Screen::Teams => panic!("not on a team"),
    }
}

fn page(state: &State) -> &Page {
    &view(state).alerts.page
}

fn editor(state: &State) -> &AgreementsEditor {
    match page(state) {
        Page::Agreements(editor) => editor,
        other => panic!("not the agreements: {other:?}"),
    }
}

#[test]
fn the_open_breaches_load_newest_first_and_enter_shows_one() {
    let mut state = alerts(Role::Member);
    let ids: Vec<u64> = view(&state)
        .alerts
        .breaches()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, [41, 40, 38]);
    press(&mut state, [ch('j'), key(KeyCode::Enter)]);
    assert_eq!(page(&state), &Page::Breach { id: 40, scroll: 0 });
    // o opens the pull request of the breach on screen.
    press(&mut state, [ch('o')]);
    assert_eq!(
        state.effects.last(),
        Some(&crate::app::event::Effect::OpenUrl(
            "https://github.com/acme/web/pull/877".into()
        ))
    );
    // esc: back to the list, the cursor where it was; esc again: the teams.
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(page(&state), &Page::Main);
    assert_eq!(
        view(&state).alerts.selected_breach().map(|b| b.id),
        Some(40)
    );
    press(&mut state, [key(KeyCode::Esc)]);
    assert!(matches!(state.screen, Screen::Teams));
}

#[test]
fn a_shows_resolved_breaches_with_a_new_load_and_drops_stale_answers() {
    let mut state = alerts(Role::Member);
    press(&mut state, [ch('j')]);
    let reqs = handle_event(&mut state, ch('a'));
    assert_eq!(
        reqs,
        [Request::LoadAlerts {
            team: 1,
            resolved: true
        }]
    );
    assert!(view(&state).alerts.show_resolved);
    assert_eq!(view(&state).alerts.data, Loadable::Loading);
    // The answer to the old list (open only) comes late: it is not this list.
    let stale = fixtures::team_reply(&Request::LoadAlerts {
        team: 1,
        resolved: false,
    })
    .unwrap();
    press(&mut state, [Event::Reply(stale)]);
    assert_eq!(view(&state).alerts.data, Loadable::Loading);
    let fresh = fixtures::team_reply(&reqs[0]).unwrap();
    press(&mut state, [Event::Reply(fresh)]);
    let ids: Vec<u64> = view(&state)
        .alerts
        .breaches()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, [41, 40, 38, 35]);
    // The cursor stayed on its breach.
    assert_eq!(
        view(&state).alerts.selected_breach().map(|b| b.id),
        Some(40)
    );
    press(&mut state, [ch('a')]);
    assert!(!view(&state).alerts.show_resolved);
}

#[test]
fn a_failed_load_is_shown_and_the_next_one_replaces_it() {
    let mut state = alerts(Role::Member);
    press(
        &mut state,
        [Event::Reply(Reply::Alerts {
            team: 1,
            resolved: false,
            result: Err("daemon error: store busy".into()),
        })],
    );
    assert_eq!(
        view(&state).alerts.data,
        Loadable::Failed("daemon error: store busy".into())
    );
    // Another team's answer changes nothing here.
    let mut other = fixtures::team_reply(&Request::LoadAlerts {
        team: 2,
        resolved: false,
    })
    .unwrap();
    press(&mut state, [Event::Reply(other.clone())]);
    assert!(matches!(view(&state).alerts.data, Loadable::Failed(_)));
    if let Reply::Alerts { team, .. } = &mut other {
        *team = 1;
    }
    press(&mut state, [Event::Reply(other)]);
    assert_eq!(view(&state).alerts.breaches().len(), 3);
}

#[test]
fn an_admin_edits_an_agreement_and_a_bad_value_is_refused_inline() {
    let mut state = alerts(Role::Admin);
    press(&mut state, [ch('e')]);
    assert!(editor(&state).may_edit);
    // first-review: type a bad span; enter keeps typing and says why.
    press(&mut state, [key(KeyCode::Enter)]);
    assert!(crate::tabs::typing(view(&state)));
    press(
        &mut state,
        [key(KeyCode::Backspace), ch('x'), key(KeyCode::Enter)],
    );
    let e = editor(&state);
    assert!(e.editing.is_some(), "still typing");
    assert!(
        e.invalid
            .as_deref()
            .unwrap_or_default()
            .contains("is not a span"),
        "{:?}",
        e.invalid
    );
    // `s` and `a` are text while typing, not keys.
    press(&mut state, [key(KeyCode::Backspace), ch('d')]);
    assert_eq!(editor(&state).invalid, None);
    press(&mut state, [key(KeyCode::Enter)]);
    let e = editor(&state);
    assert_eq!(e.editing, None);
    assert_eq!(e.edited.first_review_within, Some(Span::Days(24)));
    assert!(e.changed());
    // s saves what was edited.
    let reqs = press(&mut state, [ch('s')]);
    let sent = match reqs.as_slice() {
        [
            Request::SaveAgreements {
                team: 1,
                agreements,
            },
        ] => (**agreements).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(sent.first_review_within, Some(Span::Days(24)));
    assert_eq!(editor(&state).saving, Saving::Sending);
    // Saved: the breaches are asked for again (the daemon evaluates at once).
    // (handle_event: the fixtures would answer the reload with their own agreements.)
    let reqs = handle_event(
        &mut state,
        Event::Reply(Reply::AgreementsSaved {
            team: 1,
            result: Ok(sent.clone()),
        }),
    );
    assert!(reqs.contains(&Request::LoadAlerts {
        team: 1,
        resolved: false
    }));
    let e = editor(&state);
    assert_eq!((e.saving.clone(), e.changed()), (Saving::Saved, false));
    assert_eq!(e.saved, sent);
}

#[test]
fn empty_takes_a_limit_back_but_not_the_time_zone() {
    let mut state = alerts(Role::Owner);
    press(&mut state, [ch('e'), ch('j'), key(KeyCode::Enter)]);
    // max-size: "400" cleared.
    press(&mut state, [key(KeyCode::End)]);
    press(&mut state, vec![key(KeyCode::Backspace); 3]);
    press(&mut state, [key(KeyCode::Enter)]);
    assert_eq!(editor(&state).edited.max_size, None);
    // timezone (row 7): cleared is refused.
    press(&mut state, [ch('j'), ch('j'), ch('j'), ch('j'), ch('j')]);
    assert_eq!(editor(&state).cursor, 6);
    press(&mut state, [key(KeyCode::Enter), key(KeyCode::End)]);
    press(&mut state, vec![key(KeyCode::Backspace); 20]);
    press(&mut state, [key(KeyCode::Enter)]);
    assert!(editor(&state).invalid.is_some());
    // esc leaves it as it was.
    press(&mut state, [key(KeyCode::Esc)]);
    let e = editor(&state);
    assert_eq!(
        (e.editing.is_none(), e.edited.timezone.as_str()),
        (true, "Europe/Berlin")
    );
    // The digest: a time of day only.
    press(
        &mut state,
        [ch('j'), key(KeyCode::Enter), key(KeyCode::End)],
    );
    press(&mut state, vec![key(KeyCode::Backspace); 5]);
    press(&mut state, typed("24:00"));
    press(&mut state, [key(KeyCode::Enter)]);
    assert!(
        editor(&state)
            .invalid
            .as_deref()
            .unwrap_or_default()
            .contains("not a time of day")
    );
}

#[test]
fn a_refused_save_shows_the_daemons_words_and_keeps_the_edit() {
    let mut state = alerts(Role::Admin);
    press(&mut state, [ch('e'), ch('j'), key(KeyCode::Enter)]);
    press(
        &mut state,
        [key(KeyCode::End), ch('0'), key(KeyCode::Enter)],
    );
    assert_eq!(editor(&state).edited.max_size, Some(4000));
    press(&mut state, [ch('s')]);
    press(
        &mut state,
        [Event::Reply(Reply::AgreementsSaved {
            team: 1,
            result: Err("permission denied: only the team's admins and owners may".into()),
        })],
    );
    let e = editor(&state);
    assert_eq!(e.saving, Saving::Idle);
    assert!(
        e.refusal
            .as_deref()
            .unwrap()
            .starts_with("permission denied")
    );
    assert_eq!(e.edited.max_size, Some(4000), "the edit stays");
    // Nothing changed: s says so and sends nothing.
    press(&mut state, [ch('j'), key(KeyCode::Enter)]);
    let mut state2 = alerts(Role::Admin);
    let reqs = press(&mut state2, [ch('e'), ch('s')]);
    assert!(reqs.is_empty());
    assert!(
        editor(&state2)
            .hint
            .as_deref()
            .unwrap()
            .starts_with("Nothing to save")
    );
}

#[test]
fn members_read_the_agreements_only() {
    let mut state = alerts(Role::Member);
    press(&mut state, [ch('e')]);
    assert!(!editor(&state).may_edit);
    let reqs = press(&mut state, [key(KeyCode::Enter), ch('s')]);
    assert!(reqs.is_empty());
    let e = editor(&state);
    assert_eq!(e.editing, None);
    assert_eq!(e.hint.as_deref(), Some(agreements::READ_ONLY));
    press(&mut state, [key(KeyCode::Esc)]);
    assert_eq!(page(&state), &Page::Main);
}

#[test]
fn the_badge_is_the_open_count_and_reloads_follow_it() {
    let mut status = fixtures::team_status();
    assert_eq!(badge(Some(&status)).as_deref(), Some("3"));
    status.open_breaches = 0;
    assert_eq!(badge(Some(&status)), None);
    assert_eq!(badge(None), None);
    // A breach opening moves the fingerprint, so the tabs reload.
    let before = crate::tabs::Fingerprint::of(&fixtures::team_status());
    let mut moved = fixtures::team_status();
    moved.open_breaches = 4;
    assert_ne!(before, crate::tabs::Fingerprint::of(&moved));
}

#[test]
fn keys_the_help_lists_do_what_it_says() {
    let state = alerts(Role::Admin);
    for b in KEYS {
        let action = crate::app::action::action_for_key(
            &state,
            KeyEvent::new(b.example, KeyModifiers::NONE),
        );
        assert!(action.is_some(), "{}", b.keys);
    }
    assert_eq!(action(KeyCode::Char('a')), Some(Action::ToggleResolved));
    assert_eq!(action(KeyCode::Char('e')), Some(Action::Agreements));
}
