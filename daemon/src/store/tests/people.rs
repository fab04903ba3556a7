//! Team members: matching, bots, leaving and coming back.

use super::*;

fn team(env: &Env) -> TeamId {
    team_owned_by(&env.store, "A", 1000)
}

#[test]
fn members_match_by_github_id_first() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let alice = s
        .upsert_member(t, member_input(Some(1), "alice", Some("alice@x.test")))
        .unwrap();
    // Same github id, new login and a different email: same person, login updated.
    let again = s
        .upsert_member(
            t,
            member_input(Some(1), "alice-renamed", Some("other@x.test")),
        )
        .unwrap();
    assert_eq!(again.id, alice.id);
    assert_eq!(again.github_username.as_deref(), Some("alice-renamed"));
    assert_eq!(
        again.email.as_deref(),
        Some("alice@x.test"),
        "a known email is kept"
    );
    assert_eq!(s.count_members(t).unwrap(), 1);
    // An id match wins over an email match pointing at someone else.
    let bob = s
        .upsert_member(t, member_input(None, "bob", Some("bob@x.test")))
        .unwrap();
    let hit = s
        .upsert_member(t, member_input(Some(1), "alice", Some("bob@x.test")))
        .unwrap();
    assert_eq!(hit.id, alice.id);
    assert_eq!(
        s.member_by_email(t, "bob@x.test").unwrap().unwrap().id,
        bob.id
    );
    assert_eq!(s.count_members(t).unwrap(), 2);
}

#[test]
fn members_match_by_email_ignoring_case_and_gain_their_github_id() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let commit_author = s
        .upsert_member(
            t,
            MemberInput {
                email: Some("Carol@Example.COM".into()),
                display_name: Some("Carol C".into()),
                ..MemberInput::default()
            },
        )
        .unwrap();
    assert_eq!(commit_author.github_id, None);
    assert_eq!(commit_author.display_name, "Carol C");
    let linked = s
        .upsert_member(
            t,
            member_input(Some(33), "carol", Some(" carol@example.com")),
        )
        .unwrap();
    assert_eq!(linked.id, commit_author.id);
    assert_eq!(linked.github_id, Some(33));
    assert_eq!(linked.display_name, "Carol C", "no new display name given");
    assert_eq!(s.member_by_github_id(t, 33).unwrap().unwrap().id, linked.id);
    assert_eq!(
        s.member_by_email(t, "CAROL@example.com")
            .unwrap()
            .unwrap()
            .id,
        linked.id
    );
    assert_eq!(s.count_members(t).unwrap(), 1);
}

#[test]
fn members_need_an_id_or_email_and_an_existing_team() {
    let env = env();
    let t = team(&env);
    for input in [
        MemberInput::default(),
        MemberInput {
            email: Some(String::new()),
            github_username: Some("x".into()),
            ..MemberInput::default()
        },
    ] {
        let err = env.store.upsert_member(t, input).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Rejected {
                    field: "team member",
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = env
        .store
        .upsert_member(t + 9, member_input(Some(1), "a", None))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    assert_eq!(env.store.count_members(t).unwrap(), 0);
}

#[test]
fn bots_are_flagged_by_suffix_or_flag_and_stay_bots() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    assert!(looks_like_bot("dependabot[bot]"));
    assert!(!looks_like_bot("robot"));
    assert!(!looks_like_bot("[bot]alice"));
    let dep = s
        .upsert_member(t, member_input(Some(49699333), "dependabot[bot]", None))
        .unwrap();
    assert!(dep.is_bot);
    let human = s
        .upsert_member(t, member_input(Some(2), "robot", None))
        .unwrap();
    assert!(!human.is_bot);
    let flagged = s
        .upsert_member(
            t,
            MemberInput {
                is_bot: true,
                ..member_input(Some(3), "ci-runner", None)
            },
        )
        .unwrap();
    assert!(flagged.is_bot);
    // Seen again without the flag: still a bot.
    let again = s
        .upsert_member(t, member_input(Some(3), "ci-runner", None))
        .unwrap();
    assert!(again.is_bot);
}

#[test]
fn members_who_leave_are_marked_and_unmarked_when_seen_again() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let m = s
        .upsert_member(t, member_input(Some(5), "eve", Some("eve@x.test")))
        .unwrap();
    let left = s.mark_member_left(t, m.id, 1_700_000_000).unwrap();
    assert_eq!(left.left_at, Some(1_700_000_000));
    // Marked, never erased: still found by both indexes.
    assert_eq!(
        s.member(t, m.id).unwrap().unwrap().left_at,
        Some(1_700_000_000)
    );
    assert_eq!(s.member_by_github_id(t, 5).unwrap().unwrap().id, m.id);
    assert_eq!(
        s.member_by_email(t, "eve@x.test").unwrap().unwrap().id,
        m.id
    );
    assert_eq!(s.members(t).unwrap().len(), 1);
    let back = s
        .upsert_member(t, member_input(Some(5), "eve", None))
        .unwrap();
    assert_eq!((back.id, back.left_at), (m.id, None));
    assert!(matches!(
        s.mark_member_left(t, 999_999, 1),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn members_and_their_indexes_are_per_team() {
    let env = env();
    let a = team(&env);
    let b = team_owned_by(&env.store, "B", 1001);
    let s = &env.store;
    let in_a = s
        .upsert_member(a, member_input(Some(1), "alice", Some("alice@x.test")))
        .unwrap();
    assert!(s.member_by_github_id(b, 1).unwrap().is_none());
    assert!(s.member_by_email(b, "alice@x.test").unwrap().is_none());
    let in_b = s
        .upsert_member(b, member_input(Some(1), "alice", Some("alice@x.test")))
        .unwrap();
    assert_ne!(in_a.id, in_b.id);
    assert_eq!(in_b.team_id, b);
    // Every index entry points at a member of its own team.
    for team in [a, b] {
        for key in team_keys(&env.store, team) {
            if key[8] == Kind::MemberByGithubId as u8 || key[8] == Kind::MemberByEmail as u8 {
                let id: u64 = s.get(Kind::MemberByEmail, &key).unwrap().unwrap();
                assert!(s.member(team, id).unwrap().is_some());
            }
        }
    }
}

#[test]
fn blank_emails_are_no_emails() {
    // A whitespace-only email must not become one shared index entry that merges strangers.
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let blank = |e: &str| MemberInput {
        email: Some(e.into()),
        ..MemberInput::default()
    };
    for e in ["  ", "\t", " \n "] {
        let err = s.upsert_member(t, blank(e)).unwrap_err();
        assert!(matches!(err, StoreError::Rejected { .. }), "{e:?}: {err}");
    }
    let a = s
        .upsert_member(t, member_input(Some(1), "a", Some("  ")))
        .unwrap();
    let b = s
        .upsert_member(t, member_input(Some(2), "b", Some(" ")))
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!((a.email, b.email), (None, None));
    let c = s
        .upsert_member(t, member_input(Some(3), "c", Some(" c@x.test ")))
        .unwrap();
    assert_eq!(c.email.as_deref(), Some("c@x.test"), "stored trimmed");
    assert!(
        team_keys(s, t)
            .iter()
            .filter(|k| k[8] == Kind::MemberByEmail as u8)
            .count()
            == 1
    );
}

/// What the team screen's header calls "GitHub org members": the organization's people now,
/// not those who left nor authors known only by their commit email.
#[test]
fn org_members_leave_out_those_who_left_and_email_only_authors() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    s.upsert_member(t, member_input(Some(1), "alice", None))
        .unwrap();
    let bob = s
        .upsert_member(t, member_input(Some(2), "bob", None))
        .unwrap();
    s.upsert_member(t, member_input(None, "carol", Some("carol@x.test")))
        .unwrap();
    assert_eq!(s.count_org_members(t).unwrap(), 2);
    s.mark_member_left(t, bob.id, 1_700_000_000).unwrap();
    assert_eq!(s.count_org_members(t).unwrap(), 1);
    assert_eq!(s.count_members(t).unwrap(), 3, "every record is kept");
}
