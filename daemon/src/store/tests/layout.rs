//! Key layout: every team-owned key starts with the team's id, everything else with zeros.

use super::*;
use std::collections::BTreeSet;

const GLOBAL_KINDS: [Kind; 4] = [Kind::Meta, Kind::User, Kind::TeamName, Kind::UserTeam];

fn is_kind(byte: u8, kinds: &[Kind]) -> bool {
    kinds.iter().any(|k| *k as u8 == byte)
}

/// The team a record claims to belong to, decoded by the kind byte of its key.
fn record_team(store: &Store, key: &[u8]) -> TeamId {
    let kind = key[8];
    let value = store.raw().get(key).unwrap().unwrap();
    macro_rules! team_of {
        ($($k:ident => $t:ty, $f:ident);+ $(;)?) => {
            $(if kind == Kind::$k as u8 {
                return decode::<$t>(Kind::$k, &value).unwrap().$f;
            })+
        };
    }
    team_of! {
        Team => Team, id;
        Membership => Membership, team_id;
        Credential => IntegrationCredential, team_id;
        GitHubIntegration => GitHubIntegration, team_id;
        TrackedRepo => TrackedRepository, team_id;
        TeamMember => TeamMember, team_id;
        PullRequest => PullRequest, team_id;
        Review => PrReview, team_id;
        Commit => Commit, team_id;
        Invitation => Invitation, team_id;
    }
    // Index entries hold a member id of the same team.
    assert!(
        is_kind(kind, &[Kind::MemberByGithubId, Kind::MemberByEmail]),
        "kind {kind:#x}"
    );
    let team = keys::read_u64(key, 0).unwrap();
    let id: u64 = decode(Kind::MemberByGithubId, &value).unwrap();
    assert!(store.member(team, id).unwrap().is_some());
    team
}

#[test]
fn every_key_of_a_team_starts_with_its_id() {
    let env = env();
    let a = full_team(&env, "A", 1000);
    let before: BTreeSet<Vec<u8>> = all_keys(&env.store).into_iter().collect();
    let b = full_team(&env, "B", 1001);
    // A's owner invited into B: the invitation is B's.
    env.store.invite(b, 1000, Role::Member, 1001).unwrap();
    env.store
        .upsert_member(
            b,
            MemberInput {
                email: Some("x@y.z".into()),
                ..MemberInput::default()
            },
        )
        .unwrap();
    env.store
        .set_github_sync_status(b, SyncStatus::Complete, None)
        .unwrap();
    let added: Vec<Vec<u8>> = all_keys(&env.store)
        .into_iter()
        .filter(|k| !before.contains(k))
        .collect();
    assert!(added.len() > 15, "{} keys", added.len());
    for key in &added {
        let team = keys::read_u64(key, 0).unwrap();
        if team == keys::GLOBAL {
            // B's global entries: the owner, the name index and the user's team index.
            assert!(is_kind(key[8], &GLOBAL_KINDS), "{key:?}");
        } else {
            assert_eq!(team, b, "{key:?}");
            assert_eq!(record_team(&env.store, key), b, "{key:?}");
        }
    }
    // Every key of the whole store: zeros + a global kind, or an existing team + a team kind
    // whose record says the same team.
    for key in all_keys(&env.store) {
        assert!(key.len() > 8, "{key:?}");
        let team = keys::read_u64(&key, 0).unwrap();
        if team == keys::GLOBAL {
            assert!(is_kind(key[8], &GLOBAL_KINDS), "{key:?}");
        } else {
            assert!(!is_kind(key[8], &GLOBAL_KINDS), "{key:?}");
            assert!([a, b].contains(&team));
            assert_eq!(record_team(&env.store, &key), team);
        }
    }
}

#[test]
fn global_keys_are_the_counter_the_version_users_and_indexes() {
    let env = env();
    let a = full_team(&env, "A", 1000);
    let globals: Vec<Vec<u8>> = all_keys(&env.store)
        .into_iter()
        .filter(|k| k[..8] == [0; 8])
        .collect();
    let kinds: Vec<u8> = globals.iter().map(|k| k[8]).collect();
    assert_eq!(
        kinds,
        [
            Kind::Meta as u8,
            Kind::Meta as u8,
            Kind::User as u8,
            Kind::TeamName as u8,
            Kind::UserTeam as u8
        ],
        "sorted by kind: the team id counter, version, user 1000, name 'a', user 1000 in team A"
    );
    assert_eq!(&globals[0][9..], b"next_team_id");
    assert_eq!(&globals[1][9..], b"schema_version");
    let globals = &globals[1..];
    assert_eq!(keys::read_u32(&globals[1], keys::ID_OFFSET), Some(1000));
    assert_eq!(&globals[2][9..11], b"a\0");
    assert_eq!(keys::read_u64(&globals[2], 11), Some(a));
    assert_eq!(keys::read_u32(&globals[3], keys::ID_OFFSET), Some(1000));
    assert_eq!(keys::read_u64(&globals[3], keys::ID_OFFSET + 4), Some(a));
}

#[test]
fn keys_are_big_endian_so_teams_sort_apart() {
    let k = keys::Key::new(0x0102_0304_0506_0708, Kind::Review)
        .u64(9)
        .u32(3)
        .u8(4)
        .into_vec();
    assert_eq!(
        k,
        [
            1, 2, 3, 4, 5, 6, 7, 8, 0x21, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 4
        ]
    );
    assert_eq!(keys::team_prefix(256), [0, 0, 0, 0, 0, 0, 1, 0]);
    // Team 1's highest key still sorts before team 2's lowest.
    let hi = keys::Key::new(1, Kind::Commit)
        .bytes(&[0xff; 64])
        .into_vec();
    let lo = keys::Key::new(2, Kind::Meta).into_vec();
    assert!(hi < lo);
    assert_eq!(keys::read_u64(&k, 0), Some(0x0102_0304_0506_0708));
    assert_eq!(keys::read_u64(&k, 20), None);
}

#[test]
fn team_ids_are_never_the_global_space() {
    let env = env();
    let mut seen = BTreeSet::new();
    for i in 0..20 {
        let t = env.store.create_team(&format!("t{i}"), None).unwrap();
        assert_ne!(t.id, keys::GLOBAL);
        assert!(seen.insert(t.id), "id {} reused", t.id);
    }
}
