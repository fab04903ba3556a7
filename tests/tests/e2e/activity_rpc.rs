//! The two RPCs the TUI's team screen added (protocol v5), against the simulator's truth after a
//! real sync: reviews given per reviewer (others' pull requests only) and a pull request's
//! timeline of commits and reviews.

use std::collections::BTreeMap;
use tidemark_protocol::{TeamRef, TimelineKind};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on, cli_connect_track_all_and_sync, connect, ctx, small_org_sim,
    use_simulator,
};

#[test]
fn reviewers_and_timelines_match_the_simulator() {
    let sim = small_org_sim(2, 8, 5);
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let socket = daemon.socket.clone();
    let repos = cli_connect_track_all_and_sync(&socket, &sim, "platform");

    // The truth: reviews by people (not bots) on pull requests they did not open.
    let (expected, sample) = {
        let w = sim.world();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for pull in w.pulls.values() {
            for review in &pull.reviews {
                let reviewer = w.account(review.user_id);
                if review.user_id != pull.user_id && !reviewer.is_bot {
                    *counts.entry(reviewer.login.clone()).or_default() += 1;
                }
            }
        }
        let pull = w
            .pulls
            .values()
            .filter(|p| {
                repos
                    .iter()
                    .any(|r| r.ends_with(&format!("/{}", w.repos[&p.repo_id].name)))
            })
            // GitHub lists 250 commits at most: take one it lists whole.
            .filter(|p| p.commits.len() <= 250)
            .max_by_key(|p| p.reviews.len() * 10 + p.commits.len())
            .unwrap()
            .clone();
        let repo = format!(
            "{}/{}",
            w.org.as_ref().unwrap().login,
            w.repos[&pull.repo_id].name
        );
        let logins: BTreeMap<u64, String> = w
            .accounts
            .values()
            .map(|a| (a.id, a.login.clone()))
            .collect();
        (counts, (repo, pull, logins))
    };
    assert!(!expected.is_empty(), "the simulated org has reviews");

    let (reviewers, timeline) = block_on(async {
        let c = connect(&socket).await.unwrap();
        let team = TeamRef::Name("platform".into());
        let reviewers = c
            .reviewers(ctx(), team.clone(), None)
            .await
            .unwrap()
            .unwrap();
        let (repo, pull, _) = &sample;
        let timeline = c
            .pull_request_timeline(ctx(), team, repo.clone(), pull.number)
            .await
            .unwrap()
            .unwrap();
        (reviewers, timeline)
    });
    let got: BTreeMap<String, u64> = reviewers
        .iter()
        .filter(|r| !r.is_bot)
        .map(|r| (r.login.clone(), r.reviews))
        .collect();
    assert_eq!(got, expected);
    assert!(reviewers.windows(2).all(|w| w[0].reviews >= w[1].reviews));

    let (_, pull, logins) = sample;
    let mut want: Vec<(i64, String)> = pull
        .commits
        .iter()
        .map(|c| (c.authored_at, format!("commit {}", &c.sha[..7])))
        .chain(pull.reviews.iter().map(|r| {
            (
                r.submitted_at,
                format!("review {} {}", logins[&r.user_id], r.state.lower()),
            )
        }))
        .collect();
    want.sort();
    let mut have: Vec<(i64, String)> = timeline
        .events
        .iter()
        .map(|e| {
            let what = match &e.kind {
                TimelineKind::Commit { sha } => format!("commit {sha}"),
                TimelineKind::Review { reviewer, state } => {
                    format!("review {} {state}", reviewer.clone().unwrap_or_default())
                }
            };
            (e.at, what)
        })
        .collect();
    have.sort();
    assert_eq!(have, want);
    assert!(!timeline.commits_truncated);
    assert!(timeline.events.windows(2).all(|w| w[0].at <= w[1].at));
}
