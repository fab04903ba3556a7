//! Pull requests with reviews and commits; metrics recomputed on write.

use super::*;

/// A team with a tracked repo `REPO`.
fn team(env: &Env) -> TeamId {
    let team = team_owned_by(&env.store, "A", 1000);
    github_credential(env, team, "gho_x");
    github_integration(env, team, "whsec");
    env.store.track_repo(team, REPO, "acme/widgets").unwrap();
    team
}

#[test]
fn pull_requests_need_their_tracked_repo() {
    let env = env();
    let t = team(&env);
    let err = env
        .store
        .put_pull_request(pr(t, REPO + 1, 1), vec![], vec![])
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("tracked repository")),
        "{err}"
    );
    let err = env
        .store
        .put_pull_request(pr(t + 7, REPO, 1), vec![], vec![])
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    assert_eq!(env.store.count_pull_requests(t).unwrap(), 0);
    env.store
        .put_pull_request(pr(t, REPO, 1), vec![], vec![])
        .unwrap();
    assert_eq!(env.store.pull_requests(t, Some(REPO)).unwrap().len(), 1);
    assert!(
        env.store
            .pull_requests(t, Some(REPO + 1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn reviews_and_commits_of_another_pr_are_rejected() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let foreign = [
        review(t, REPO, 2, 1, 2, 1_500),
        review(t, REPO + 1, 1, 1, 2, 1_500),
        review(t + 1, REPO, 1, 1, 2, 1_500),
    ];
    for r in foreign {
        let err = s
            .put_pull_request(pr(t, REPO, 1), vec![r], vec![])
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Rejected {
                    field: "pull request",
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = s
        .put_pull_request(pr(t, REPO, 1), vec![], vec![commit(t, REPO, 9, "abc", 1)])
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    assert!(s.pull_request(t, REPO, 1).unwrap().is_none());
    assert!(team_keys(s, t).iter().all(|k| k[8] != Kind::Review as u8));
}

#[test]
fn rewriting_a_pr_replaces_its_reviews_and_commits() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    s.put_pull_request(
        pr(t, REPO, 1),
        vec![
            review(t, REPO, 1, 10, 2, 1_500),
            review(t, REPO, 1, 11, 3, 1_600),
        ],
        vec![
            commit(t, REPO, 1, "aaa", 900),
            commit(t, REPO, 1, "bbb", 950),
        ],
    )
    .unwrap();
    // A neighbour PR whose reviews must survive the rewrite of PR 1.
    s.put_pull_request(
        pr(t, REPO, 2),
        vec![review(t, REPO, 2, 20, 2, 1_700)],
        vec![],
    )
    .unwrap();
    s.put_pull_request(
        pr(t, REPO, 1),
        vec![review(t, REPO, 1, 11, 3, 1_650)],
        vec![commit(t, REPO, 1, "ccc", 800)],
    )
    .unwrap();
    let reviews = s.reviews(t, REPO, 1).unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        (reviews[0].review_id, reviews[0].submitted_at),
        (11, Some(1_650))
    );
    let shas: Vec<String> = s
        .commits(t, REPO, 1)
        .unwrap()
        .into_iter()
        .map(|c| c.sha)
        .collect();
    assert_eq!(shas, ["ccc"]);
    assert_eq!(s.reviews(t, REPO, 2).unwrap().len(), 1);
    let stored = s.pull_request(t, REPO, 1).unwrap().unwrap();
    assert_eq!(stored.first_commit_at, Some(800));
    assert_eq!(stored.first_review_at, Some(1_650));
    // Rewriting with nothing clears them.
    s.put_pull_request(pr(t, REPO, 1), vec![], vec![]).unwrap();
    assert!(s.reviews(t, REPO, 1).unwrap().is_empty());
    assert!(s.commits(t, REPO, 1).unwrap().is_empty());
    let stored = s.pull_request(t, REPO, 1).unwrap().unwrap();
    assert_eq!((stored.first_review_at, stored.review_time), (None, None));
}

#[test]
fn metrics_are_computed_on_put_pull_request() {
    let env = env();
    let t = team(&env);
    let mut p = pr(t, REPO, 1);
    p.state = PrState::Merged;
    p.merged_at = Some(10_000);
    // Stale values from the caller are ignored.
    p.cycle_time = Some(-1);
    p.review_time = Some(-1);
    let mut bot = review(t, REPO, 1, 1, 99, 1_100);
    bot.reviewer_is_bot = true;
    let own = review(t, REPO, 1, 2, 1, 1_200); // by the author (github id 1)
    let real = review(t, REPO, 1, 3, 2, 1_900);
    let later = review(t, REPO, 1, 4, 3, 2_500);
    let stored = env
        .store
        .put_pull_request(
            p,
            vec![later, bot, own, real],
            vec![commit(t, REPO, 1, "a", 400)],
        )
        .unwrap();
    assert_eq!(stored.cycle_time, Some(9_000));
    assert_eq!(stored.first_review_at, Some(1_900));
    assert_eq!(stored.review_time, Some(900));
    assert_eq!(stored.first_commit_at, Some(400));
    assert_eq!(env.store.pull_request(t, REPO, 1).unwrap().unwrap(), stored);
}

#[test]
fn review_time_counts_from_leaving_draft_and_cycle_time_only_when_merged() {
    let env = env();
    let t = team(&env);
    let mut p = pr(t, REPO, 1);
    p.ready_at = Some(3_000);
    p.state = PrState::Closed;
    p.closed_at = Some(9_000);
    p.merged_at = None;
    let stored = env
        .store
        .put_pull_request(p, vec![review(t, REPO, 1, 1, 2, 3_400)], vec![])
        .unwrap();
    assert_eq!(stored.review_time, Some(400));
    assert_eq!(stored.cycle_time, None);
}

#[test]
fn put_review_adds_or_replaces_and_recomputes() {
    let env = env();
    let t = team(&env);
    let s = &env.store;
    let mut p = pr(t, REPO, 1);
    p.state = PrState::Merged;
    p.merged_at = Some(5_000);
    s.put_pull_request(p, vec![review(t, REPO, 1, 1, 2, 3_000)], vec![])
        .unwrap();
    assert_eq!(
        s.pull_request(t, REPO, 1).unwrap().unwrap().review_time,
        Some(2_000)
    );
    // An earlier review arrives by webhook.
    let updated = s.put_review(review(t, REPO, 1, 2, 3, 1_250)).unwrap();
    assert_eq!(
        (updated.first_review_at, updated.review_time),
        (Some(1_250), Some(250))
    );
    assert_eq!(updated.cycle_time, Some(4_000));
    assert_eq!(s.pull_request(t, REPO, 1).unwrap().unwrap(), updated);
    // The same review id again replaces, it does not add.
    let mut dismissed = review(t, REPO, 1, 2, 3, 1_250);
    dismissed.state = ReviewState::Pending;
    let updated = s.put_review(dismissed).unwrap();
    assert_eq!(s.reviews(t, REPO, 1).unwrap().len(), 2);
    assert_eq!(
        updated.review_time,
        Some(2_000),
        "a pending review does not count"
    );
}

#[test]
fn put_review_needs_its_pull_request() {
    let env = env();
    let t = team(&env);
    let err = env
        .store
        .put_review(review(t, REPO, 5, 1, 2, 1_000))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("#5")),
        "{err}"
    );
    assert!(env.store.reviews(t, REPO, 5).unwrap().is_empty());
}

#[test]
fn pr_numbers_do_not_leak_into_each_other() {
    // PR 1's review prefix must not match PR 256's or PR 1 of repo 2's keys.
    let env = env();
    let t = team(&env);
    let s = &env.store;
    env.store.track_repo(t, 256, "acme/other").unwrap();
    s.put_pull_request(
        pr(t, REPO, 1),
        vec![review(t, REPO, 1, 1, 2, 1_100)],
        vec![],
    )
    .unwrap();
    s.put_pull_request(
        pr(t, REPO, 256),
        vec![review(t, REPO, 256, 2, 2, 1_200)],
        vec![],
    )
    .unwrap();
    s.put_pull_request(pr(t, 256, 1), vec![review(t, 256, 1, 3, 2, 1_300)], vec![])
        .unwrap();
    assert_eq!(s.reviews(t, REPO, 1).unwrap().len(), 1);
    assert_eq!(s.reviews(t, REPO, 256).unwrap().len(), 1);
    assert_eq!(s.pull_requests(t, None).unwrap().len(), 3);
    assert_eq!(s.pull_requests(t, Some(256)).unwrap().len(), 1);
    s.put_pull_request(pr(t, REPO, 1), vec![], vec![]).unwrap();
    assert_eq!(s.reviews(t, REPO, 256).unwrap().len(), 1);
    assert_eq!(s.reviews(t, 256, 1).unwrap().len(), 1);
}

#[test]
fn reviews_by_bot_logins_do_not_count_even_unflagged() {
    // Design §4: bots are excluded by type or by the `[bot]` suffix.
    let env = env();
    let t = team(&env);
    let mut bot = review(t, REPO, 1, 1, 77, 1_100);
    bot.reviewer_login = Some("renovate[bot]".into());
    bot.reviewer_is_bot = false;
    let stored = env
        .store
        .put_pull_request(
            pr(t, REPO, 1),
            vec![bot, review(t, REPO, 1, 2, 2, 1_600)],
            vec![],
        )
        .unwrap();
    assert_eq!(stored.first_review_at, Some(1_600));
    assert_eq!(stored.review_time, Some(600));
}
