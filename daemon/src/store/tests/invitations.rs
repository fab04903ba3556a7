//! Invitations: a user is a member only once they accept; an invitation expires, goes with its
//! team and its user, and travels in a backup.

use super::*;

const OWNER: u32 = 1000;
const BOB: u32 = 1001;

fn invitation_keys(store: &Store, team: TeamId) -> Vec<Vec<u8>> {
    team_keys(store, team)
        .into_iter()
        .filter(|k| k[8] == Kind::Invitation as u8)
        .collect()
}

/// A team owned by OWNER, and BOB known to the store but in no team.
fn team_and_bob(env: &Env) -> TeamId {
    let team = team_owned_by(&env.store, "platform", OWNER);
    env.store.upsert_user(BOB, "bob").unwrap();
    team
}

#[test]
fn an_invitation_is_not_a_membership_until_accepted() {
    let env = env();
    let store = &env.store;
    let team = team_and_bob(&env);
    let sent = store.invite(team, BOB, Role::Owner, OWNER).unwrap();
    assert_eq!((sent.role, sent.invited_by), (Role::Owner, OWNER));
    assert_eq!(sent.expires_at(), sent.created_at + INVITATION_TTL_SECS);

    // Invited, not a member: no membership, no team in the user's list.
    assert!(store.membership(team, BOB).unwrap().is_none());
    assert!(store.teams_of_user(BOB).unwrap().is_empty());
    assert_eq!(store.memberships(team).unwrap().len(), 1);
    assert_eq!(store.invitation(team, BOB).unwrap(), Some(sent.clone()));
    assert_eq!(
        store.team_invitations(team).unwrap(),
        std::slice::from_ref(&sent)
    );
    let mine = store.invitations_of_user(BOB).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].0.id, &mine[0].1), (team, &sent));
    assert!(store.invitations_of_user(OWNER).unwrap().is_empty());

    // Sent again with another role: one invitation, the new role.
    store.invite(team, BOB, Role::Member, OWNER).unwrap();
    assert_eq!(store.team_invitations(team).unwrap().len(), 1);
    assert_eq!(
        store.invitation(team, BOB).unwrap().unwrap().role,
        Role::Member
    );

    // Accepting makes exactly that membership and leaves no invitation.
    let m = store.accept_invitation(team, BOB).unwrap();
    assert_eq!((m.team_id, m.uid, m.role), (team, BOB, Role::Member));
    assert_eq!(store.membership(team, BOB).unwrap(), Some(m));
    assert_eq!(store.teams_of_user(BOB).unwrap()[0].1, Role::Member);
    assert!(store.invitation(team, BOB).unwrap().is_none());
    assert!(invitation_keys(store, team).is_empty());
    assert!(matches!(
        store.accept_invitation(team, BOB),
        Err(StoreError::NotFound(_))
    ));

    // A member is not invited again (their role changes without asking them).
    assert!(matches!(
        store.invite(team, BOB, Role::Owner, OWNER),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.invite(team, 4040, Role::Member, OWNER),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.invite(team + 100, BOB, Role::Member, OWNER),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn declined_or_withdrawn_leaves_nothing() {
    let env = env();
    let store = &env.store;
    let team = team_and_bob(&env);
    let before = all_keys(store);
    store.invite(team, BOB, Role::Admin, OWNER).unwrap();
    let removed = store.remove_invitation(team, BOB).unwrap();
    assert_eq!(removed.role, Role::Admin);
    assert_eq!(all_keys(store), before, "nothing of the invitation is left");
    assert!(matches!(
        store.remove_invitation(team, BOB),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.membership(team, BOB).unwrap().is_none());
}

#[test]
fn a_membership_written_otherwise_ends_the_invitation() {
    let env = env();
    let store = &env.store;
    let team = team_and_bob(&env);
    store.invite(team, BOB, Role::Owner, OWNER).unwrap();
    // (An operator adding themself joins at once: the same store call.)
    store.set_membership(team, BOB, Role::Member).unwrap();
    assert!(invitation_keys(store, team).is_empty());
    assert_eq!(
        store.membership(team, BOB).unwrap().unwrap().role,
        Role::Member
    );
}

#[test]
fn an_expired_invitation_is_ignored_and_pruned() {
    let env = env();
    let store = &env.store;
    let team = team_and_bob(&env);
    store.upsert_user(1002, "carol").unwrap();
    let old = now() - INVITATION_TTL_SECS - 1;
    store.invite_at(team, BOB, Role::Owner, OWNER, old).unwrap();
    let fresh = store.invite(team, 1002, Role::Member, OWNER).unwrap();

    assert!(store.invitation(team, BOB).unwrap().is_none());
    assert!(store.invitations_of_user(BOB).unwrap().is_empty());
    assert_eq!(
        store.team_invitations(team).unwrap(),
        std::slice::from_ref(&fresh)
    );
    assert!(matches!(
        store.accept_invitation(team, BOB),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.membership(team, BOB).unwrap().is_none());
    assert_eq!(
        invitation_keys(store, team).len(),
        2,
        "ignored, still stored"
    );

    assert_eq!(store.prune_invitations(now()).unwrap(), 1);
    assert_eq!(invitation_keys(store, team).len(), 1);
    assert_eq!(store.team_invitations(team).unwrap(), [fresh]);
    assert_eq!(store.prune_invitations(now()).unwrap(), 0);
    // Two weeks on, the fresh one goes too.
    assert_eq!(
        store
            .prune_invitations(now() + INVITATION_TTL_SECS + 1)
            .unwrap(),
        1
    );
    assert!(invitation_keys(store, team).is_empty());

    // An expired one can be sent again, and then counts from then.
    store.invite_at(team, BOB, Role::Owner, OWNER, old).unwrap();
    store.invite(team, BOB, Role::Admin, OWNER).unwrap();
    assert_eq!(
        store.accept_invitation(team, BOB).unwrap().role,
        Role::Admin
    );

    // Removing an expired one clears its record but answers as not found.
    store
        .invite_at(team, 1002, Role::Member, OWNER, old)
        .unwrap();
    assert!(matches!(
        store.remove_invitation(team, 1002),
        Err(StoreError::NotFound(_))
    ));
    assert!(invitation_keys(store, team).is_empty());
}

#[test]
fn invitations_go_with_their_team_and_their_user() {
    let env = env();
    let store = &env.store;
    let doomed = team_and_bob(&env);
    let kept = team_owned_by(store, "infra", OWNER);
    store.invite(doomed, BOB, Role::Owner, OWNER).unwrap();
    store.invite(kept, BOB, Role::Member, OWNER).unwrap();
    store.delete_team(doomed).unwrap();
    assert!(team_keys(store, doomed).is_empty());
    let mine = store.invitations_of_user(BOB).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].0.id, kept);

    store.delete_user(BOB).unwrap();
    assert!(invitation_keys(store, kept).is_empty());
    assert!(store.team_invitations(kept).unwrap().is_empty());
}

#[test]
fn invitations_are_listed_by_team_name() {
    let env = env();
    let store = &env.store;
    let zed = team_owned_by(store, "zed", OWNER);
    let alpha = team_owned_by(store, "Alpha", OWNER);
    store.upsert_user(BOB, "bob").unwrap();
    store.invite(zed, BOB, Role::Member, OWNER).unwrap();
    store.invite(alpha, BOB, Role::Member, OWNER).unwrap();
    let ids: Vec<TeamId> = store
        .invitations_of_user(BOB)
        .unwrap()
        .iter()
        .map(|(t, _)| t.id)
        .collect();
    assert_eq!(ids, [alpha, zed]);
}

#[test]
fn a_backup_carries_invitations_and_checks_them() {
    let env = env();
    let store = &env.store;
    let team = team_and_bob(&env);
    let sent = store.invite(team, BOB, Role::Owner, OWNER).unwrap();
    let snap = store.snapshot().unwrap();
    assert_eq!(snap.validate(), Ok(()));
    let elsewhere = tempfile::tempdir().unwrap();
    let (restored, integrity) =
        Store::create_from_snapshot(&elsewhere.path().join("restored"), &snap).unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    assert_eq!(restored.invitation(team, BOB).unwrap(), Some(sent));
    assert!(restored.membership(team, BOB).unwrap().is_none());
    assert_eq!(
        restored.accept_invitation(team, BOB).unwrap().role,
        Role::Owner
    );

    // An invitation filed under one team that names another is refused, as any record is.
    let key = keys::Key::new(team, Kind::Invitation).u32(BOB);
    let mut crossed = store.snapshot().unwrap();
    let i = crossed
        .entries
        .iter()
        .position(|(k, _)| k.as_slice() == key.as_ref())
        .unwrap();
    let mut value = crossed.entries[i].1.clone();
    value[..8].copy_from_slice(&(team + 1).to_le_bytes());
    crossed.entries[i].1 = value;
    let refused = crossed.validate().unwrap_err().to_string();
    assert!(
        refused.contains("invitation") && refused.contains("names team"),
        "{refused}"
    );
    // A corrupt one is named by its kind.
    store.raw().insert(key.as_ref(), &[0xff_u8; 3][..]).unwrap();
    let report = store.check_integrity().unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("invitation")),
        "{report:?}"
    );
}
