//! On-disk format: schema version, the v1 → v2 upgrade, refusals, the directory lock, closed
//! enums and corrupt records.

use super::super::schema::{
    CredentialV1, PullRequestV6, PullRequestV8, split_scopes, team_name_entry_key, team_name_key,
    version_key,
};
use super::*;
use crate::crypto::{self, Binding};
use std::collections::BTreeSet;

fn stored_version(store: &Store) -> Option<u32> {
    store
        .raw()
        .get(version_key())
        .unwrap()
        .map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap()))
}

/// Open a raw sled db the way a v1 tidemarkd left it, run `fill`, and close it.
fn write_raw(dir: &Path, fill: impl FnOnce(&sled::Db)) {
    let db = sled::Config::new().path(dir).open().unwrap();
    fill(&db);
    db.flush().unwrap();
}

#[test]
fn a_fresh_store_gets_the_current_schema_and_keeps_it() {
    let env = env();
    assert_eq!(stored_version(&env.store), Some(CURRENT_SCHEMA));
    assert_eq!(CURRENT_SCHEMA, 10);
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);
    let store = open(&path);
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    drop(store);
    drop(dir);
}

#[test]
fn a_v2_inbox_keeps_its_inline_bodies_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let team_id = 7;
    let old = |seq: u64, body: &[u8]| InboxEntry {
        team_id,
        seq,
        guid: format!("guid-{seq}"),
        event: "pull_request".into(),
        hook_id: Some(11),
        repo_id: Some(22),
        received_at: 1_700_000_000 + seq as i64,
        body: body.to_vec(),
    };
    let entries = [old(1, b"{\"action\":\"opened\"}"), old(2, b"second")];
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &2u32.to_be_bytes()).unwrap();
        let team = Team {
            id: team_id,
            name: "Platform".into(),
            created_at: 1_600_000_000,
        };
        db.insert(keys::Key::new(team_id, Kind::Team), encode(&team))
            .unwrap();
        db.insert(team_name_key("Platform"), encode(&team_id))
            .unwrap();
        for e in &entries {
            db.insert(keys::Key::new(team_id, Kind::Inbox).u64(e.seq), encode(e))
                .unwrap();
        }
    });
    let store = open(dir.path());
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    assert_eq!(store.inbox(team_id).unwrap(), entries);
    // New deliveries go to the spool and come back after the inline ones.
    let new = InboxEntry {
        body: vec![b'x'; 30_000],
        ..old(3, b"")
    };
    assert_eq!(
        store.inbox_add(std::slice::from_ref(&new)).unwrap(),
        [false]
    );
    let all = store.inbox(team_id).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2], new);
    assert_eq!(store.inbox_max_seq().unwrap(), 3);
}

#[test]
fn a_v1_store_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keyring();
    let mut ids = Vec::new();
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &1u32.to_be_bytes()).unwrap();
        for name in ["Platform", "Core", "core", "Web"] {
            // v1 allocated ids the same way (sled ids, 0 reserved).
            let id = db.generate_id().unwrap() + 1;
            let team = Team {
                id,
                name: name.into(),
                created_at: 1_600_000_000,
            };
            db.insert(keys::Key::new(id, Kind::Team), encode(&team))
                .unwrap();
            ids.push(id);
        }
        let cred = CredentialV1 {
            team_id: ids[0],
            provider: Provider::Github,
            access_token: crypto::encrypt(
                &keys,
                SecretField::AccessToken.binding(ids[0], Provider::Github),
                &Secret::new("gho_v1_token"),
            ),
            refresh_token: None,
            token_expires_at: None,
            scopes: "repo, read:org".into(),
            connected_by: None,
            created_at: 1_600_000_001,
            updated_at: 1_600_000_002,
        };
        let key = keys::Key::new(ids[0], Kind::Credential).u8(Provider::Github.code());
        db.insert(key, encode(&cred)).unwrap();
    });

    let store = open(dir.path());
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    assert_eq!(store.team_by_name("PLATFORM").unwrap().unwrap().id, ids[0]);
    assert_eq!(store.team_by_name("web").unwrap().unwrap().id, ids[3]);
    // Names that clashed ignoring case both survive, under distinct names.
    let core = store.team_by_name("core").unwrap().unwrap();
    assert_eq!((core.id, core.name.as_str()), (ids[1], "Core"));
    let renamed = store.team(ids[2]).unwrap().unwrap();
    assert_ne!(renamed.name.to_lowercase(), "core");
    assert_eq!(
        store.team_by_name(&renamed.name).unwrap().unwrap().id,
        ids[2]
    );
    assert_eq!(store.teams().unwrap().len(), 4);
    assert!(matches!(
        store.create_team("WEB", None),
        Err(StoreError::Conflict(_))
    ));
    // Scopes became a list; the sealed token still opens.
    let cred = store.credential(ids[0], Provider::Github).unwrap().unwrap();
    assert_eq!(cred.scopes, ["repo", "read:org"]);
    assert_eq!(
        (cred.created_at, cred.updated_at),
        (1_600_000_001, 1_600_000_002)
    );
    let token = store
        .credential_secret(&keys, &cred, SecretField::AccessToken)
        .unwrap();
    assert_eq!(token.unwrap().expose(), "gho_v1_token");
    // New ids do not collide with v1 ones.
    let fresh = store.create_team("Fresh", None).unwrap();
    assert!(!ids.contains(&fresh.id));
    // Reopening does not upgrade twice.
    drop(store);
    let store = open(dir.path());
    assert_eq!(
        store
            .credential(ids[0], Provider::Github)
            .unwrap()
            .unwrap()
            .scopes
            .len(),
        2
    );
    assert_eq!(store.teams().unwrap().len(), 5);
}

#[test]
fn scopes_split_on_commas_and_spaces() {
    assert_eq!(split_scopes("repo, read:org"), ["repo", "read:org"]);
    assert_eq!(
        split_scopes("repo,read:org  user"),
        ["repo", "read:org", "user"]
    );
    assert!(split_scopes("").is_empty());
    assert!(split_scopes(" , ").is_empty());
}

#[test]
fn a_newer_store_is_refused_with_advice_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &99u32.to_be_bytes()).unwrap();
        db.insert(team_name_key("future"), &[1u8; 8]).unwrap();
    });
    let err = try_open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 99,
                supported: CURRENT_SCHEMA,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("99") && msg.contains("newer"), "{msg}");
    assert!(
        msg.contains("run the newer tidemarkd") || msg.contains("backup"),
        "{msg}"
    );
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    // Refused twice in a row: nothing was rewritten.
    assert!(matches!(
        try_open(dir.path()),
        Err(StoreError::TooNew { .. })
    ));
}

#[test]
fn data_without_a_version_is_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    write_raw(dir.path(), |db| {
        db.insert(b"someone else's key", b"value").unwrap();
    });
    let err = try_open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("no schema version"), "{err}");
    // A mangled version is not ours either.
    let dir = tempfile::tempdir().unwrap();
    write_raw(dir.path(), |db| {
        db.insert(version_key(), b"v2").unwrap();
    });
    assert!(matches!(
        try_open(dir.path()),
        Err(StoreError::NotOurs { .. })
    ));
}

#[test]
fn a_second_open_of_the_same_dir_is_locked() {
    let env = env();
    let err = Store::open(env.dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::Locked(ref p) if p == env.dir.path()),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("in use by another process") && msg.contains("tidemarkd"),
        "{msg}"
    );
    // The first handle still works.
    env.store.create_team("Still fine", None).unwrap();
}

#[test]
fn closed_enums_parse_only_their_names() {
    fn check<T>(all: &[T], bad: &[&str])
    where
        T: std::str::FromStr<Err = InvalidValue> + std::fmt::Display + PartialEq + std::fmt::Debug,
    {
        for v in all {
            assert_eq!(&v.to_string().parse::<T>().unwrap(), v);
        }
        for b in bad {
            let err = b.parse::<T>().unwrap_err();
            assert_eq!(err.value, *b);
            assert_eq!(err.allowed.len(), all.len());
            assert!(err.to_string().contains("allowed values are"), "{err}");
        }
    }
    check(Role::ALL, &["Owner", "", "root", "admin "]);
    check(Provider::ALL, &["GitHub", "gitlab", " jira"]);
    check(SyncStatus::ALL, &["done", "Complete", "failed"]);
    check(PrState::ALL, &["draft", "MERGED", "merged!"]);
    check(ReviewState::ALL, &["APPROVED", "changes-requested", "lgtm"]);
    assert_eq!(Role::ALL.len(), 3);
    assert_eq!(
        Provider::ALL,
        [Provider::Github, Provider::Jira, Provider::Slack]
    );
    assert_eq!("owner".parse::<Role>(), Ok(Role::Owner));
    assert_eq!("syncing".parse::<SyncStatus>(), Ok(SyncStatus::Syncing));
    assert_eq!("merged".parse::<PrState>(), Ok(PrState::Merged));
    assert_eq!(
        ReviewState::from_github("APPROVED"),
        Ok(ReviewState::Approved)
    );
    assert_eq!(
        ReviewState::from_github("CHANGES_REQUESTED"),
        Ok(ReviewState::ChangesRequested)
    );
    assert_eq!(
        ReviewState::from_github("commented"),
        Ok(ReviewState::Commented)
    );
    assert!(ReviewState::from_github("LGTM").is_err());
    let err = "boss".parse::<Role>().unwrap_err();
    assert_eq!(err.field, "Role");
    assert_eq!(
        err.to_string(),
        "'boss' is not a valid Role: allowed values are owner, admin, member"
    );
}

/// Encode `a` and `b` (equal but for one enum field), and return `a`'s bytes with that enum's
/// 4-byte discriminant replaced by an impossible one.
fn bad_discriminant<T: serde::Serialize>(a: &T, b: &T) -> Vec<u8> {
    let (mut x, y) = (encode(a), encode(b));
    assert_eq!(x.len(), y.len());
    let at = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q)
        .expect("they differ");
    x[at..at + 4].copy_from_slice(&77u32.to_le_bytes());
    x
}

#[test]
fn an_invalid_enum_discriminant_on_disk_is_corrupt_naming_the_kind() {
    let env = env();
    let t = full_team(&env, "A", 1000);
    let s = &env.store;
    let raw = s.raw();
    let expect_corrupt = |r: Result<(), StoreError>, kind: Kind| {
        let err = r.expect_err(kind.name());
        assert!(
            matches!(err, StoreError::Corrupt { kind: k, .. } if k == kind.name()),
            "{err}"
        );
        assert!(err.to_string().contains(kind.name()), "{err}");
    };

    let m = s.membership(t, 1000).unwrap().unwrap();
    let bytes = bad_discriminant(
        &m,
        &Membership {
            role: Role::Member,
            ..m.clone()
        },
    );
    raw.insert(super::super::teams::membership_key(t, 1000), bytes)
        .unwrap();
    expect_corrupt(s.membership(t, 1000).map(drop), Kind::Membership);
    expect_corrupt(s.teams_of_user(1000).map(drop), Kind::Membership);

    let c = s.credential(t, Provider::Github).unwrap().unwrap();
    let bytes = bad_discriminant(
        &c,
        &IntegrationCredential {
            provider: Provider::Slack,
            ..c.clone()
        },
    );
    raw.insert(
        super::super::integrations::credential_key(t, Provider::Github),
        bytes,
    )
    .unwrap();
    expect_corrupt(
        s.credential(t, Provider::Github).map(drop),
        Kind::Credential,
    );

    let gi = s.github_integration(t).unwrap().unwrap();
    let bytes = bad_discriminant(
        &gi,
        &GitHubIntegration {
            sync_status: SyncStatus::Error,
            ..gi.clone()
        },
    );
    let gkey = keys::Key::new(t, Kind::GitHubIntegration).u8(Provider::Github.code());
    raw.insert(gkey, bytes).unwrap();
    expect_corrupt(s.github_integration(t).map(drop), Kind::GitHubIntegration);

    let p = s.pull_request(t, REPO, 1).unwrap().unwrap();
    let bytes = bad_discriminant(
        &p,
        &PullRequest {
            state: PrState::Merged,
            ..p.clone()
        },
    );
    raw.insert(keys::Key::new(t, Kind::PullRequest).u64(REPO).u64(1), bytes)
        .unwrap();
    expect_corrupt(s.pull_request(t, REPO, 1).map(drop), Kind::PullRequest);
    expect_corrupt(s.pull_requests(t, None).map(drop), Kind::PullRequest);

    let r = s.reviews(t, REPO, 1).unwrap().remove(0);
    let bytes = bad_discriminant(
        &r,
        &PrReview {
            state: ReviewState::Dismissed,
            ..r.clone()
        },
    );
    let rkey = keys::Key::new(t, Kind::Review)
        .u64(REPO)
        .u64(1)
        .u64(r.review_id);
    raw.insert(rkey, bytes).unwrap();
    expect_corrupt(s.reviews(t, REPO, 1).map(drop), Kind::Review);
}

#[test]
fn a_binding_names_its_record() {
    // The error messages of the secret tests rely on this shape.
    let b: Binding<'_> = SecretField::WebhookSecret.binding(7, Provider::Github);
    assert_eq!(b.to_string(), "team #7 github webhook_secret");
}

#[test]
fn v1_case_clashes_never_overwrite_another_teams_name() {
    // "Core" gets renamed to "Core (<id>)" on upgrade; a v1 team already called that must keep
    // its own index entry, and every team must stay listed and findable.
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &1u32.to_be_bytes()).unwrap();
        let first = db.generate_id().unwrap() + 1;
        let second = db.generate_id().unwrap() + 1;
        let third = db.generate_id().unwrap() + 1;
        for (id, name) in [
            (first, "core".to_string()),
            (second, "Core".into()),
            (third, format!("core ({second})")),
        ] {
            let team = Team {
                id,
                name,
                created_at: 1,
            };
            db.insert(keys::Key::new(id, Kind::Team), encode(&team))
                .unwrap();
            ids.push(id);
        }
    });
    let store = open(dir.path());
    let teams = store.teams().unwrap();
    let listed: BTreeSet<TeamId> = teams.iter().map(|t| t.id).collect();
    assert_eq!(listed, ids.iter().copied().collect(), "{teams:?}");
    let names: BTreeSet<String> = teams.iter().map(|t| t.name.to_lowercase()).collect();
    assert_eq!(names.len(), 3, "names unique ignoring case: {teams:?}");
    for t in &teams {
        assert_eq!(store.team_by_name(&t.name).unwrap().unwrap().id, t.id);
    }
    assert_eq!(global_keys(&store, Kind::TeamName).len(), 3);
}

/// A v4 store recorded every received delivery in sled (an inbox record pointing into the spool,
/// and its id as `DeliverySeen`); v5 keeps waiting ones in the spool only and `DeliverySeen`
/// means applied. After the upgrade the waiting one still waits (and its id is still a
/// duplicate), the applied one stays applied, and sled holds no inbox records.
#[test]
fn a_v4_inbox_moves_into_the_spool_and_nothing_waiting_is_lost() {
    use crate::store::spool::FrameMeta;
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let meta = |seq: u64, guid: &str| FrameMeta {
        team_id: team,
        seq,
        guid: guid.into(),
        event: "pull_request".into(),
        hook_id: Some(3),
        repo_id: Some(4),
        received_at: 1_700_000_000,
        body_sha256: None,
    };
    let refs = env
        .store
        .spool
        .lock()
        .unwrap()
        .append(&[(meta(1, "applied"), b"one"), (meta(2, "waiting"), b"two")])
        .unwrap();
    let seen = |guid: &str| keys::Key::new(team, Kind::DeliverySeen).bytes(guid.as_bytes());
    let raw = env.store.raw();
    for guid in ["applied", "waiting"] {
        let s = DeliverySeen {
            team_id: team,
            received_at: 1_700_000_000,
        };
        raw.insert(seen(guid), encode(&s)).unwrap();
    }
    let record = InboxRecord {
        team_id: team,
        seq: 2,
        guid: "waiting".into(),
        event: "pull_request".into(),
        hook_id: Some(3),
        repo_id: Some(4),
        received_at: 1_700_000_000,
        body: StoredBody::Spooled(refs[1]),
    };
    raw.insert(keys::Key::new(team, Kind::Inbox).u64(2), encode(&record))
        .unwrap();
    raw.insert(version_key(), &4u32.to_be_bytes()).unwrap();
    env.store.flush().unwrap();
    // A handle of its own: it holds sled's lock until dropped.
    drop(raw);
    let path = env.dir.path().to_path_buf();
    let Env { store, dir, .. } = env;
    drop(store);

    let store = open(&path);
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    let waiting = store.inbox(team).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].seq, waiting[0].body.as_slice()),
        (2, &b"two"[..])
    );
    assert!(store.delivery_seen(team, "waiting").unwrap());
    assert!(store.delivery_seen(team, "applied").unwrap());
    assert!(
        store
            .raw()
            .scan_prefix(keys::Key::new(team, Kind::Inbox))
            .next()
            .is_none()
    );
    // Applying it records it applied; after another restart nothing waits.
    store.inbox_done(&waiting[0], None).unwrap();
    store.flush().unwrap();
    drop(store);
    let store = open(&path);
    assert!(store.inbox(team).unwrap().is_empty());
    assert_eq!(store.inbox_max_seq().unwrap(), 2);
    drop(dir);
}

/// v7: who merged a pull request is part of its record. A v6 store's pull requests come through
/// whole, with who merged them unknown, and their repository's checkpoint is set back so that
/// the next sync reads them all again (and learns it).
#[test]
fn a_v6_store_keeps_its_pull_requests_and_reads_them_again_to_learn_who_merged() {
    let dir = tempfile::tempdir().unwrap();
    let (team_id, repo) = (3, 501);
    let old = |number: u64, merged: bool| PullRequestV6 {
        team_id,
        repo_id: repo,
        number,
        github_id: 3_000_000_000 + number,
        title: format!("PR {number}"),
        state: if merged {
            PrState::Merged
        } else {
            PrState::Open
        },
        is_draft: false,
        author_github_id: Some(11),
        author_login: Some("alice".into()),
        author_member_id: Some(4),
        created_at: 1_700_000_000,
        ready_at: Some(1_700_000_000),
        updated_at: 1_700_000_900,
        merged_at: merged.then_some(1_700_000_900),
        closed_at: merged.then_some(1_700_000_900),
        additions: 7,
        deletions: 3,
        first_commit_at: Some(1_699_999_000),
        first_review_at: Some(1_700_000_100),
        cycle_time: merged.then_some(900),
        review_time: Some(100),
    };
    let olds = [old(1, true), old(2, false)];
    let cursor = SyncCursor {
        team_id,
        repo_id: repo,
        cursor: Some("Y3Vyc29yOjE=".into()),
        updated_at: Some(1_700_000_900),
        pull_requests_seen: 2,
        complete: true,
    };
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &6u32.to_be_bytes()).unwrap();
        let team = Team {
            id: team_id,
            name: "platform".into(),
            created_at: 1_600_000_000,
        };
        db.insert(keys::Key::new(team_id, Kind::Team), encode(&team))
            .unwrap();
        db.insert(team_name_entry_key("platform", team_id), encode(&team_id))
            .unwrap();
        for pr in &olds {
            let key = keys::Key::new(team_id, Kind::PullRequest)
                .u64(repo)
                .u64(pr.number);
            db.insert(key, encode(pr)).unwrap();
        }
        db.insert(
            keys::Key::new(team_id, Kind::SyncCursor).u64(repo),
            encode(&cursor),
        )
        .unwrap();
    });
    let store = open(dir.path());
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    let integrity = store.check_integrity().unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    let prs = store.pull_requests(team_id, None).unwrap();
    assert_eq!(prs.len(), 2);
    for (have, want) in prs.iter().zip(&olds) {
        assert_eq!(*have, PullRequest::from(PullRequestV8::from(want.clone())));
        assert_eq!(have.merged_at, want.merged_at, "intact");
        assert_eq!(have.merged_by_login, None, "not known until read again");
        assert_eq!(have.merged_by_github_id, None);
    }
    // Read again from the start at the next sync; what was stored stays the floor.
    assert_eq!(
        store.sync_cursor(team_id, repo).unwrap(),
        Some(SyncCursor {
            cursor: None,
            complete: false,
            ..cursor
        })
    );
}

/// v8 only adds kinds: a v7 store comes through as it was, and records of the new kinds can be
/// written and read in it afterwards.
#[test]
fn a_v7_store_is_bumped_to_v8_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let team_id = 3;
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &7u32.to_be_bytes()).unwrap();
        let team = Team {
            id: team_id,
            name: "platform".into(),
            created_at: 1_600_000_000,
        };
        db.insert(keys::Key::new(team_id, Kind::Team), encode(&team))
            .unwrap();
        db.insert(team_name_entry_key("platform", team_id), encode(&team_id))
            .unwrap();
    });
    let store = open(dir.path());
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    assert_eq!(
        store.team_by_name("platform").unwrap().map(|t| t.id),
        Some(team_id)
    );
    let integrity = store.check_integrity().unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
}

/// v9: a v8 pull request comes through with what it held, its merge commit, branches and
/// labels unknown, and its repository is read again from the start at the next sync.
#[test]
fn a_v8_store_keeps_its_pull_requests_and_reads_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let (team_id, repo) = (3, 5_000_000_000);
    let old = PullRequestV8 {
        team_id,
        repo_id: repo,
        number: 9,
        github_id: 4_000_000_009,
        title: "Add a cache".into(),
        state: PrState::Merged,
        is_draft: false,
        author_github_id: Some(11),
        author_login: Some("alice".into()),
        author_member_id: Some(4),
        created_at: 1_700_000_000,
        ready_at: Some(1_700_000_000),
        updated_at: 1_700_000_900,
        merged_at: Some(1_700_000_900),
        closed_at: Some(1_700_000_900),
        additions: 7,
        deletions: 3,
        first_commit_at: Some(1_699_999_000),
        first_review_at: Some(1_700_000_100),
        cycle_time: Some(900),
        review_time: Some(100),
        merged_by_login: Some("bob".into()),
        merged_by_github_id: Some(12),
    };
    let cursor = SyncCursor {
        team_id,
        repo_id: repo,
        cursor: Some("Y3Vyc29yOjE=".into()),
        updated_at: Some(1_700_000_900),
        pull_requests_seen: 1,
        complete: true,
    };
    write_raw(dir.path(), |db| {
        db.insert(version_key(), &8u32.to_be_bytes()).unwrap();
        let team = Team {
            id: team_id,
            name: "platform".into(),
            created_at: 1_600_000_000,
        };
        db.insert(keys::Key::new(team_id, Kind::Team), encode(&team))
            .unwrap();
        db.insert(team_name_entry_key("platform", team_id), encode(&team_id))
            .unwrap();
        let key = keys::Key::new(team_id, Kind::PullRequest).u64(repo).u64(9);
        db.insert(key, encode(&old)).unwrap();
        db.insert(
            keys::Key::new(team_id, Kind::SyncCursor).u64(repo),
            encode(&cursor),
        )
        .unwrap();
    });
    let store = open(dir.path());
    assert_eq!(stored_version(&store), Some(CURRENT_SCHEMA));
    let integrity = store.check_integrity().unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    let prs = store.pull_requests(team_id, None).unwrap();
    assert_eq!(prs.len(), 1);
    let pr = &prs[0];
    assert_eq!(pr.merged_by_login.as_deref(), Some("bob"), "kept");
    assert_eq!(pr.first_commit_at, Some(1_699_999_000), "kept");
    assert_eq!(pr.merge_commit_sha, None, "not known until read again");
    assert_eq!((pr.base_ref.as_ref(), pr.head_ref.as_ref()), (None, None));
    assert!(pr.labels.is_empty());
    assert_eq!(
        store.sync_cursor(team_id, repo).unwrap(),
        Some(SyncCursor {
            cursor: None,
            complete: false,
            ..cursor
        })
    );
}
