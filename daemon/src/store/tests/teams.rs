//! Teams, names, memberships and the team-deletion cascade.

use super::*;

#[test]
fn create_team_makes_the_owner_a_member() {
    let env = env();
    let team = team_owned_by(&env.store, "Platform", 1000);
    let m = env.store.membership(team, 1000).unwrap().unwrap();
    assert_eq!(m.role, Role::Owner);
    assert_eq!(m.team_id, team);
    let of_user = env.store.teams_of_user(1000).unwrap();
    assert_eq!(of_user.len(), 1);
    assert_eq!(of_user[0].0.name, "Platform");
    assert_eq!(of_user[0].1, Role::Owner);
    assert_eq!(env.store.team(team).unwrap().unwrap().name, "Platform");
}

#[test]
fn create_team_with_unknown_owner_fails_and_leaves_nothing() {
    let env = env();
    let before = all_keys(&env.store);
    let err = env.store.create_team("Ghosts", Some(77)).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref what) if what.contains("77")),
        "{err}"
    );
    assert_eq!(all_keys(&env.store), before);
    assert!(env.store.team_by_name("Ghosts").unwrap().is_none());
}

#[test]
fn team_names_are_unique_ignoring_case() {
    let env = env();
    let a = env.store.create_team("Platform", None).unwrap();
    for clash in ["Platform", "platform", "PLATFORM", "pLaTfOrM"] {
        let err = env.store.create_team(clash, None).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{clash}: {err}");
    }
    assert_eq!(
        env.store.team_by_name("PLATFORM").unwrap().unwrap().id,
        a.id
    );
    assert_eq!(env.store.teams().unwrap().len(), 1);
    // Not a prefix match: a longer name is a different team.
    env.store.create_team("Platform 2", None).unwrap();
    assert_eq!(env.store.teams().unwrap().len(), 2);
}

#[test]
fn invalid_team_names_are_rejected() {
    let env = env();
    let long = "x".repeat(tidemark_protocol::TEAM_NAME_MAX_CHARS + 1);
    for bad in [
        "",
        "   ",
        " lead",
        "trail ",
        "tab\there",
        "nl\nx",
        long.as_str(),
        "#1",
        "#platform",
        "zero\u{200B}width",
        "bidi\u{202E}rtl",
        "no\u{00A0}break",
    ] {
        let err = env.store.create_team(bad, None).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Rejected {
                    field: "team name",
                    ..
                }
            ),
            "{bad:?}: {err}"
        );
    }
    assert!(env.store.teams().unwrap().is_empty());
    let ok = "y".repeat(tidemark_protocol::TEAM_NAME_MAX_CHARS);
    env.store.create_team(&ok, None).unwrap();
    let t = env.store.create_team("Ünïcode team", None).unwrap();
    assert!(env.store.team_by_name("ünïcode TEAM").unwrap().is_some());
    let err = env.store.rename_team(t.id, "bad\u{7}", None).unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
}

#[test]
fn names_are_stored_in_nfc_so_two_spellings_are_one_team() {
    let env = env();
    let composed = env.store.create_team("\u{00E9}quipe", None).unwrap();
    let err = env.store.create_team("e\u{0301}quipe", None).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let t = env.store.create_team("Caf\u{0065}\u{0301}", None).unwrap();
    assert_eq!(t.name, "Caf\u{00E9}");
    assert_eq!(
        env.store
            .team_by_name("e\u{0301}QUIPE")
            .unwrap()
            .unwrap()
            .id,
        composed.id
    );
    let renamed = env.store.rename_team(t.id, "Ne\u{0301}", None).unwrap();
    assert_eq!(renamed.name, "N\u{00E9}");
}

/// A store written before names were checked may hold a team named `#1`: it keeps working by
/// its id (rename, delete), and `#1` as an id still means team 1, never the team named `#1`.
#[test]
fn an_old_team_named_like_an_id_stays_reachable_by_its_id() {
    let env = env();
    let platform = env.store.create_team("platform", None).unwrap();
    let old = env.store.create_team("old", None).unwrap();
    {
        // As an older tidemarkd wrote it: the record and the name index entry.
        let mut w = env.store.writer();
        w.remove(super::super::schema::team_name_entry_key("old", old.id));
        let legacy = Team {
            name: "#1".into(),
            ..old.clone()
        };
        w.put(keys::Key::new(old.id, Kind::Team), &legacy);
        w.put(
            super::super::schema::team_name_entry_key("#1", old.id),
            &old.id,
        );
        w.commit().unwrap();
    }
    assert_eq!(env.store.team(old.id).unwrap().unwrap().name, "#1");
    assert_eq!(
        env.store.team(platform.id).unwrap().unwrap().name,
        "platform"
    );
    // Its owner renames it by id to a name that is allowed.
    let fixed = env.store.rename_team(old.id, "legacy", None).unwrap();
    assert_eq!(fixed.name, "legacy");
    assert_eq!(
        env.store.team_by_name("legacy").unwrap().unwrap().id,
        old.id
    );
    assert!(env.store.teams_by_name("#1").unwrap().is_empty());
    env.store.delete_team(old.id).unwrap();
    assert_eq!(env.store.teams().unwrap(), vec![platform]);
}

#[test]
fn rename_moves_the_name_index() {
    let env = env();
    let t = env.store.create_team("Old", None).unwrap();
    let renamed = env.store.rename_team(t.id, "New", None).unwrap();
    assert_eq!(renamed.name, "New");
    assert!(env.store.team_by_name("old").unwrap().is_none());
    assert_eq!(env.store.team_by_name("new").unwrap().unwrap().id, t.id);
    assert_eq!(global_keys(&env.store, Kind::TeamName).len(), 1);
    // The old name is free again.
    env.store.create_team("OLD", None).unwrap();
}

#[test]
fn rename_to_own_name_in_other_case_keeps_the_index() {
    let env = env();
    let t = env.store.create_team("platform", None).unwrap();
    let renamed = env.store.rename_team(t.id, "Platform", None).unwrap();
    assert_eq!(renamed.name, "Platform");
    assert_eq!(env.store.team(t.id).unwrap().unwrap().name, "Platform");
    assert_eq!(
        env.store.team_by_name("PLATFORM").unwrap().unwrap().id,
        t.id
    );
    assert_eq!(global_keys(&env.store, Kind::TeamName).len(), 1);
    let err = env.store.create_team("pLATFORM", None).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

#[test]
fn rename_onto_another_team_conflicts_and_changes_nothing() {
    let env = env();
    let a = env.store.create_team("Alpha", None).unwrap();
    let b = env.store.create_team("Beta", None).unwrap();
    let before = all_keys(&env.store);
    let err = env.store.rename_team(a.id, "BETA", None).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(all_keys(&env.store), before);
    assert_eq!(env.store.team_by_name("alpha").unwrap().unwrap().id, a.id);
    assert_eq!(env.store.team_by_name("beta").unwrap().unwrap().id, b.id);
    let err = env.store.rename_team(999, "Gamma", None).unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

#[test]
fn teams_are_listed_by_name_ignoring_case() {
    let env = env();
    for name in ["charlie", "Alpha", "bravo"] {
        env.store.create_team(name, None).unwrap();
    }
    let names: Vec<String> = env
        .store
        .teams()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Alpha", "bravo", "charlie"]);
}

#[test]
fn delete_team_cascades_everything_and_touches_no_other_team() {
    let env = env();
    let doomed = full_team(&env, "Doomed", 1000);
    let kept = full_team(&env, "Kept", 1001);
    // A second member of the doomed team who also belongs to the kept team.
    env.store.upsert_user(1002, "carol").unwrap();
    env.store
        .set_membership(doomed, 1002, Role::Member)
        .unwrap();
    env.store.set_membership(kept, 1002, Role::Admin).unwrap();

    let kept_before: Vec<(Vec<u8>, Vec<u8>)> = env
        .store
        .raw()
        .iter()
        .map(|kv| kv.unwrap())
        .filter(|(k, _)| !k.starts_with(&keys::team_prefix(doomed)))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let doomed_keys = team_keys(&env.store, doomed);
    // Every kind a full team has, so the cascade is really tested on all of them.
    let kinds: std::collections::BTreeSet<u8> = doomed_keys.iter().map(|k| k[8]).collect();
    for kind in [
        Kind::Team,
        Kind::Membership,
        Kind::Credential,
        Kind::GitHubIntegration,
        Kind::TrackedRepo,
        Kind::TeamMember,
        Kind::MemberByGithubId,
        Kind::MemberByEmail,
        Kind::PullRequest,
        Kind::Review,
        Kind::Commit,
    ] {
        assert!(
            kinds.contains(&(kind as u8)),
            "fixture lacks {}",
            kind.name()
        );
    }

    let removed = env.store.delete_team(doomed).unwrap();
    assert_eq!(removed, doomed_keys.len() as u64);
    assert!(team_keys(&env.store, doomed).is_empty());
    assert!(env.store.team(doomed).unwrap().is_none());
    assert!(env.store.team_by_name("doomed").unwrap().is_none());
    assert!(env.store.teams_of_user(1000).unwrap().is_empty());
    let carol: Vec<TeamId> = env
        .store
        .teams_of_user(1002)
        .unwrap()
        .iter()
        .map(|(t, _)| t.id)
        .collect();
    assert_eq!(carol, [kept]);
    // No global key mentions the doomed team any more.
    for key in global_keys(&env.store, Kind::UserTeam) {
        assert_ne!(keys::read_u64(&key, keys::ID_OFFSET + 4), Some(doomed));
    }
    // Everything outside the doomed team's space is byte-identical, minus exactly its three
    // global entries (name index and two user-team index entries).
    let after: Vec<(Vec<u8>, Vec<u8>)> = env
        .store
        .raw()
        .iter()
        .map(|kv| kv.unwrap())
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let gone: Vec<&(Vec<u8>, Vec<u8>)> = kept_before
        .iter()
        .filter(|kv| !after.contains(kv))
        .collect();
    assert_eq!(gone.len(), 3, "{gone:?}");
    assert!(after.iter().all(|kv| kept_before.contains(kv)));
    // The users themselves stay.
    assert!(env.store.user(1000).unwrap().is_some());
}

#[test]
fn delete_missing_team_is_not_found() {
    let env = env();
    assert!(matches!(
        env.store.delete_team(42),
        Err(StoreError::NotFound(_))
    ));
    assert!(env.store.team(keys::GLOBAL).unwrap().is_none());
}

#[test]
fn memberships_set_change_and_remove() {
    let env = env();
    let team = team_owned_by(&env.store, "Core", 1000);
    env.store.upsert_user(1001, "bob").unwrap();
    let m = env.store.set_membership(team, 1001, Role::Member).unwrap();
    let changed = env.store.set_membership(team, 1001, Role::Admin).unwrap();
    assert_eq!(changed.role, Role::Admin);
    assert_eq!(
        changed.created_at, m.created_at,
        "a role change keeps the join time"
    );
    assert_eq!(env.store.memberships(team).unwrap().len(), 2);
    assert_eq!(env.store.teams_of_user(1001).unwrap()[0].1, Role::Admin);

    env.store.remove_membership(team, 1001).unwrap();
    assert!(env.store.membership(team, 1001).unwrap().is_none());
    assert!(env.store.teams_of_user(1001).unwrap().is_empty());
    assert!(global_keys(&env.store, Kind::UserTeam).len() == 1);
    assert!(matches!(
        env.store.remove_membership(team, 1001),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        env.store.set_membership(team, 4040, Role::Member),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        env.store.set_membership(team + 100, 1001, Role::Member),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn teams_of_user_lists_every_team_by_name() {
    let env = env();
    let b = team_owned_by(&env.store, "bravo", 1000);
    let a = env.store.create_team("Alpha", None).unwrap().id;
    env.store.create_team("Other", None).unwrap();
    env.store.set_membership(a, 1000, Role::Member).unwrap();
    let teams = env.store.teams_of_user(1000).unwrap();
    let got: Vec<(TeamId, Role)> = teams.iter().map(|(t, r)| (t.id, *r)).collect();
    assert_eq!(got, [(a, Role::Member), (b, Role::Owner)]);
}

#[test]
fn a_corrupt_membership_does_not_block_deleting_its_team() {
    let env = env();
    let store = &env.store;
    store.upsert_user(1000, "alice").unwrap();
    let team = store.create_team("doomed", Some(1000)).unwrap();
    let key = super::keys::Key::new(team.id, Kind::Membership).u32(1000);
    store.raw().insert(key.as_ref(), &[0xff_u8; 3][..]).unwrap();
    assert!(
        store.memberships(team.id).is_err(),
        "the membership is corrupt"
    );
    store.delete_team(team.id).unwrap();
    assert!(store.team(team.id).unwrap().is_none());
    assert!(
        store.teams_of_user(1000).unwrap().is_empty(),
        "the user-team index entry went too"
    );
}

#[test]
fn the_last_owner_can_be_neither_removed_nor_demoted() {
    let env = env();
    let store = &env.store;
    let team = team_owned_by(store, "Core", 1000);
    store.upsert_user(1001, "bob").unwrap();
    let last_owner = |r: Result<_>| matches!(r, Err(StoreError::Rejected { field: "user", reason }) if reason.contains("last owner"));
    assert!(last_owner(store.remove_membership(team, 1000).map(drop)));
    assert!(last_owner(
        store.set_membership(team, 1000, Role::Admin).map(drop)
    ));
    assert_eq!(
        store.membership(team, 1000).unwrap().unwrap().role,
        Role::Owner
    );
    // With a second owner, either may go.
    store.set_membership(team, 1001, Role::Owner).unwrap();
    store.set_membership(team, 1000, Role::Member).unwrap();
    assert!(last_owner(store.remove_membership(team, 1001).map(drop)));
    store.remove_membership(team, 1000).unwrap();
    let owners: Vec<u32> = store
        .memberships(team)
        .unwrap()
        .iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.uid)
        .collect();
    assert_eq!(owners, [1001]);
}

/// Team ids are typed by people (`--team '#2'`): they come from the store's own counter, so
/// they stay 1, 2, 3 across restarts (sled's id generator jumps by about a million after one).
#[test]
fn team_ids_are_1_2_3_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        let store = open(dir.path());
        ids.push(store.create_team(name, None).unwrap().id);
        // Something else drawing sled ids (people) must not move team ids either.
        store.next_id().unwrap();
        store.flush().unwrap();
    }
    assert_eq!(ids, [1, 2, 3]);
}

#[test]
fn a_deleted_teams_id_is_never_handed_out_again() {
    let env = env();
    let one = env.store.create_team("one", None).unwrap().id;
    let two = env.store.create_team("two", None).unwrap().id;
    env.store.delete_team(two).unwrap();
    let three = env.store.create_team("three", None).unwrap().id;
    assert_eq!((one, two, three), (1, 2, 3));
}

/// A store from before the counter (ids from sled's generator) goes on after its highest team.
#[test]
fn a_store_without_the_counter_continues_after_its_highest_team() {
    let env = env();
    let old = Team {
        id: 2_000_001,
        name: "old".into(),
        created_at: 1_600_000_000,
    };
    env.store
        .raw()
        .insert(keys::Key::new(old.id, Kind::Team), encode(&old))
        .unwrap();
    assert_eq!(env.store.create_team("new", None).unwrap().id, 2_000_002);
    assert_eq!(env.store.create_team("newer", None).unwrap().id, 2_000_003);
}

/// The counter is a record like any other: a backup carries it, so a restored store does not
/// give out the id of a team deleted before the backup.
#[test]
fn a_restored_store_goes_on_counting_team_ids() {
    let env = env();
    env.store.create_team("one", None).unwrap();
    let two = env.store.create_team("two", None).unwrap().id;
    env.store.delete_team(two).unwrap();
    let snapshot = env.store.snapshot().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let (restored, integrity) =
        Store::create_from_snapshot(&elsewhere.path().join("store"), &snapshot).unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    assert_eq!(restored.create_team("three", None).unwrap().id, 3);
}
