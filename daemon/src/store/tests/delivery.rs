//! Delivery records: kept for tracked repositories only, written once per change, carried by
//! snapshots, and deleted with the team's synced history.

use super::*;
use crate::store::{Compared, DeliverySettings, Deploy, DeploySource, DeployState, IssueRecord};

fn deploy(team: TeamId, repo: u64, id: &str, state: DeployState) -> Deploy {
    Deploy {
        team_id: team,
        repo_id: repo,
        source: DeploySource::Deployment,
        id: id.into(),
        sha: "1a2b3c4d5e6f".into(),
        name: "production".into(),
        branch: Some("main".into()),
        created_at: 1_000,
        state,
        finished_at: Some(1_100),
        detail: "status success".into(),
        updated_at: 1_100,
    }
}

#[test]
fn delivery_records_are_kept_for_tracked_repositories_and_go_with_the_history() {
    let env = env();
    let team = full_team(&env, "platform", 1000);
    let store = &env.store;
    let d = deploy(team, REPO, "DE_kwDOA1", DeployState::Success);
    let stranger = deploy(team, 999, "DE_kwDOA2", DeployState::Success);
    assert_eq!(store.put_deploys(team, &[d.clone(), stranger]).unwrap(), 1);
    // The same record again changes nothing.
    assert_eq!(
        store.put_deploys(team, std::slice::from_ref(&d)).unwrap(),
        0
    );
    let failed = Deploy {
        state: DeployState::Failure,
        ..d.clone()
    };
    assert_eq!(
        store
            .put_deploys(team, std::slice::from_ref(&failed))
            .unwrap(),
        1
    );
    assert_eq!(store.deploys(team, REPO).unwrap(), vec![failed.clone()]);
    assert!(store.deploys(team, 999).unwrap().is_empty());
    let too_long = deploy(team, REPO, &"x".repeat(600), DeployState::Success);
    assert!(store.put_deploys(team, &[too_long]).is_err());

    let issue = IssueRecord {
        team_id: team,
        repo_id: REPO,
        number: 7,
        title: "Checkout is down".into(),
        labels: vec!["incident".into()],
        created_at: 1_200,
        closed_at: None,
        updated_at: 1_200,
        body_shas: vec!["1a2b3c4".into()],
    };
    assert_eq!(
        store
            .put_issues(team, std::slice::from_ref(&issue))
            .unwrap(),
        1
    );
    assert_eq!(store.issues(team, REPO).unwrap(), vec![issue]);

    let compared = Compared {
        team_id: team,
        repo_id: REPO,
        base: "aaa1111".into(),
        head: "bbb2222".into(),
        commits: vec!["ccc3333".into()],
        truncated: false,
    };
    store.put_compare(&compared).unwrap();
    assert_eq!(
        store.compare(team, REPO, "aaa1111", "bbb2222").unwrap(),
        Some(compared)
    );
    assert_eq!(
        store.compare(team, REPO, "bbb2222", "aaa1111").unwrap(),
        None
    );

    let settings = DeliverySettings {
        team_id: team,
        production_pattern: "^live$".into(),
        workflow_pattern: "ship".into(),
        tag_pattern: "^v".into(),
        incident_label: "sev1".into(),
        hotfix_label: "hotfix".into(),
        signals: vec![(REPO, None)],
        updated_at: 5,
    };
    store.set_delivery_settings(&settings).unwrap();
    assert_eq!(
        store.delivery_settings(team).unwrap(),
        Some(settings.clone())
    );

    // A snapshot carries every kind, and its integrity check reads them.
    let snap = store.snapshot().unwrap();
    let (restored, integrity) =
        Store::create_from_snapshot(&env.dir.path().join("restored"), &snap).unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    assert_eq!(restored.deploys(team, REPO).unwrap(), vec![failed]);
    drop(restored);

    // Disconnecting with purge deletes the synced history, delivery included; the team's
    // own rules stay.
    store.disconnect_github(team, true).unwrap();
    assert!(store.deploys(team, REPO).unwrap().is_empty());
    assert!(store.issues(team, REPO).unwrap().is_empty());
    assert_eq!(
        store.compare(team, REPO, "aaa1111", "bbb2222").unwrap(),
        None
    );
    assert_eq!(store.delivery_settings(team).unwrap(), Some(settings));
}
