//! Tracked repositories.

use super::*;

/// A team with a GitHub credential and integration, no repos.
fn connected(env: &Env) -> TeamId {
    let team = team_owned_by(&env.store, "A", 1000);
    github_credential(env, team, "gho_x");
    github_integration(env, team, "whsec");
    team
}

#[test]
fn repo_full_names_follow_github_rules() {
    let owner39 = "a".repeat(39);
    let owner40 = "a".repeat(40);
    let repo100 = "r".repeat(100);
    let repo101 = "r".repeat(101);
    let good = [
        "acme/widgets".to_string(),
        "a/b".into(),
        "Acme-Corp/my_repo.rs".into(),
        "a-b-c/.github".into(),
        "a/..x".into(),
        format!("{owner39}/x"),
        format!("acme/{repo100}"),
    ];
    for name in &good {
        assert_eq!(validate_repo_full_name(name), Ok(()), "{name}");
    }
    let bad = [
        "".to_string(),
        "acme".into(),
        "/widgets".into(),
        "acme/".into(),
        "../x".into(),
        "a/..".into(),
        "a/.".into(),
        "-a/b".into(),
        "a-/b".into(),
        "a_b/c".into(),
        "a.b/c".into(),
        "a/b/c".into(),
        "a/b c".into(),
        "a /b".into(),
        "a/b\n".into(),
        "ac\u{e9}/b".into(),
        "a/r\u{e9}po".into(),
        format!("{owner40}/x"),
        format!("acme/{repo101}"),
    ];
    for name in &bad {
        assert!(validate_repo_full_name(name).is_err(), "{name:?} accepted");
    }
}

#[test]
fn track_repo_rejects_bad_names_before_anything_else() {
    let env = env();
    let team = connected(&env);
    let err = env.store.track_repo(team, 1, "../etc").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Rejected {
                field: "repository name",
                ..
            }
        ),
        "{err}"
    );
    assert!(env.store.tracked_repos(team).unwrap().is_empty());
}

#[test]
fn tracking_needs_the_github_integration() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let err = env.store.track_repo(team, 1, "acme/widgets").unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("GitHub integration")),
        "{err}"
    );
    // A credential alone is not enough either.
    github_credential(&env, team, "gho_x");
    assert!(matches!(
        env.store.track_repo(team, 1, "acme/widgets"),
        Err(StoreError::NotFound(_))
    ));
    github_integration(&env, team, "whsec");
    let repo = env.store.track_repo(team, 1, "acme/widgets").unwrap();
    assert!(repo.is_active);
    assert_eq!(repo.sync_status, SyncStatus::Pending);
    assert_eq!(env.store.tracked_repo(team, 1).unwrap(), Some(repo));
}

#[test]
fn one_tracked_repo_per_team_and_github_id() {
    let env = env();
    let team = connected(&env);
    env.store.track_repo(team, 7, "acme/widgets").unwrap();
    let err = env.store.track_repo(team, 7, "acme/renamed").unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(
        env.store.tracked_repo(team, 7).unwrap().unwrap().full_name,
        "acme/widgets"
    );
    // The same GitHub repo may be tracked by another team.
    let other = team_owned_by(&env.store, "B", 1001);
    github_credential(&env, other, "gho_y");
    github_integration(&env, other, "whsec2");
    env.store.track_repo(other, 7, "acme/widgets").unwrap();
    assert_eq!(env.store.tracked_repos(team).unwrap().len(), 1);
    assert_eq!(env.store.tracked_repos(other).unwrap().len(), 1);
}

#[test]
fn tracked_repos_are_listed_by_name_and_untracked_one_by_one() {
    let env = env();
    let team = connected(&env);
    env.store.track_repo(team, 3, "acme/zeta").unwrap();
    env.store.track_repo(team, 1, "Acme/Beta").unwrap();
    env.store.track_repo(team, 2, "acme/alpha").unwrap();
    let names: Vec<String> = env
        .store
        .tracked_repos(team)
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    assert_eq!(names, ["acme/alpha", "Acme/Beta", "acme/zeta"]);
    let gone = env.store.untrack_repo(team, 1).unwrap();
    assert_eq!(gone.full_name, "Acme/Beta");
    assert!(env.store.tracked_repo(team, 1).unwrap().is_none());
    assert!(matches!(
        env.store.untrack_repo(team, 1),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(env.store.tracked_repos(team).unwrap().len(), 2);
}

#[test]
fn repo_sync_status_round_trips() {
    let env = env();
    let team = connected(&env);
    env.store.track_repo(team, 1, "acme/a").unwrap();
    let r = env
        .store
        .set_repo_sync_status(team, 1, SyncStatus::Syncing, None)
        .unwrap();
    assert_eq!((r.sync_status, r.last_sync_at), (SyncStatus::Syncing, None));
    let r = env
        .store
        .set_repo_sync_status(team, 1, SyncStatus::Complete, None)
        .unwrap();
    assert!(r.last_sync_at.is_some());
    assert_eq!(env.store.tracked_repo(team, 1).unwrap().unwrap(), r);
    assert!(matches!(
        env.store
            .set_repo_sync_status(team, 2, SyncStatus::Complete, None),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn repos_go_with_the_integration_and_can_be_tracked_again() {
    let env = env();
    let team = connected(&env);
    for id in 1..=5 {
        env.store
            .track_repo(team, id, &format!("acme/r{id}"))
            .unwrap();
    }
    env.store.delete_credential(team, Provider::Github).unwrap();
    assert!(
        team_keys(&env.store, team)
            .iter()
            .all(|k| k[8] != Kind::TrackedRepo as u8)
    );
    github_credential(&env, team, "gho_again");
    assert!(matches!(
        env.store.track_repo(team, 1, "acme/r1"),
        Err(StoreError::NotFound(_))
    ));
    github_integration(&env, team, "whsec");
    env.store.track_repo(team, 1, "acme/r1").unwrap();
    assert_eq!(env.store.tracked_repos(team).unwrap().len(), 1);
}

/// Why a repository has no webhook: kept with its first time while it repeats, gone with the
/// repository (tracked again, it starts clean) and with the integration.
#[test]
fn a_hook_problem_is_kept_with_its_first_time_and_goes_with_the_repository() {
    let env = env();
    let store = &env.store;
    let team = connected(&env);
    // Not tracked: nothing is written.
    store.set_hook_problem(team, 5, "refused").unwrap();
    assert!(store.hook_problem(team, 5).unwrap().is_none());
    store.track_repo(team, 5, "acme/api").unwrap();
    store.set_hook_problem(team, 5, "refused").unwrap();
    let first = store.hook_problem(team, 5).unwrap().unwrap();
    assert_eq!(first.problem, "refused");
    store.set_hook_problem(team, 5, "refused").unwrap();
    assert_eq!(
        store.hook_problem(team, 5).unwrap().unwrap().since,
        first.since
    );
    store.clear_hook_problem(team, 5).unwrap();
    assert!(store.hook_problem(team, 5).unwrap().is_none());
    store.set_hook_problem(team, 5, "refused again").unwrap();
    store.untrack_repo(team, 5).unwrap();
    store.track_repo(team, 5, "acme/api").unwrap();
    assert!(store.hook_problem(team, 5).unwrap().is_none());
    store.set_hook_problem(team, 5, "refused").unwrap();
    store.disconnect_github(team, false).unwrap();
    assert!(
        team_keys(store, team)
            .iter()
            .all(|k| k[8] != Kind::HookProblem as u8)
    );
}
