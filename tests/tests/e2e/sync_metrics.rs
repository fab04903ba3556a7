//! Metrics of a small fixed org, synced from the simulator, against values worked out by hand
//! from design §4.

use tidemark_protocol::{
    Distribution, MetricsGrouping, MetricsQuery, PrQuery, PrState, SyncStatus, TeamRef,
};
use tidemark_tests::harness::{
    Daemon, Sandbox, connect, connect_team_and_track_all, ctx, small_org_sim, use_simulator,
};
use tidemark_tests::sim::world::{NewPull, ReviewState};

const H: i64 = 3_600;
const T: i64 = 1_750_000_000;

fn new_pull(author: &str, draft: bool) -> NewPull {
    NewPull {
        author: author.into(),
        title: format!("by {author}"),
        body: String::new(),
        draft,
        commits: 1,
    }
}

fn d(count: u64, p50: i64, p75: i64, p90: i64) -> Distribution {
    Distribution {
        count,
        p50: Some(p50),
        p75: Some(p75),
        p90: Some(p90),
    }
}

#[test]
fn metrics_of_a_small_org_match_the_definitions() {
    let sim = small_org_sim(1, 0, 3);
    let (alice, bob) = {
        let mut w = sim.world();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        let (alice, bob) = (people[0].clone(), people[1].clone());
        let repo = w.repos.values().next().unwrap().id;
        // A: one commit an hour... (a minute) before opening; first review 2 h after; merged 5 h after.
        let (a, _) = w.open_pull(repo, new_pull(&alice, false), T).unwrap();
        w.submit_review(repo, a, &bob, ReviewState::Approved, "", T + 2 * H)
            .unwrap();
        w.merge_pull(repo, a, &bob, T + 5 * H).unwrap();
        // B: opened as a draft, ready 3 h later; the author's own comment does not count; a
        // bot's neither; bob... alice reviews 1 h after ready; merged 4 h after that.
        let (b, _) = w.open_pull(repo, new_pull(&bob, true), T + 10 * H).unwrap();
        w.set_draft(repo, b, false, T + 13 * H).unwrap();
        w.submit_review(repo, b, &bob, ReviewState::Commented, "me", T + 13 * H + 60)
            .unwrap();
        w.submit_review(
            repo,
            b,
            "dependabot[bot]",
            ReviewState::Commented,
            "bot",
            T + 13 * H + 120,
        )
        .unwrap();
        w.submit_review(
            repo,
            b,
            &alice,
            ReviewState::ChangesRequested,
            "no",
            T + 14 * H,
        )
        .unwrap();
        w.merge_pull(repo, b, &alice, T + 18 * H).unwrap();
        // C: a bot's PR, merged in 1 h: left out unless bots are asked for.
        let (c, _) = w
            .open_pull(repo, new_pull("dependabot[bot]", false), T + 20 * H)
            .unwrap();
        w.merge_pull(repo, c, &alice, T + 21 * H).unwrap();
        // D: open, only its author commented.
        let (dd, _) = w
            .open_pull(repo, new_pull(&alice, false), T + 30 * H)
            .unwrap();
        w.submit_review(repo, dd, &alice, ReviewState::Commented, "wip", T + 31 * H)
            .unwrap();
        (alice, bob)
    };

    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let team = TeamRef::Name("platform".into());
    let (prs, by_team, with_bots, by_member) = tidemark_tests::harness::block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        connect_team_and_track_all(&client, "platform")
            .await
            .unwrap();
        client
            .sync_start(ctx(), team.clone())
            .await
            .unwrap()
            .unwrap();
        loop {
            let p = client
                .sync_status(ctx(), team.clone(), 2_000)
                .await
                .unwrap()
                .unwrap();
            if !p.running {
                assert_eq!(p.status, SyncStatus::Complete, "{p:?}");
                break;
            }
        }
        let query = |by, include_bots| MetricsQuery {
            team: team.clone(),
            since: None,
            by,
            include_bots,
        };
        let prs = client
            .pull_requests(
                ctx(),
                PrQuery {
                    team: team.clone(),
                    repo: None,
                    state: None,
                    limit: 0,
                },
            )
            .await
            .unwrap()
            .unwrap();
        let by_team = client
            .metrics(ctx(), query(MetricsGrouping::Team, false))
            .await
            .unwrap()
            .unwrap();
        let with_bots = client
            .metrics(ctx(), query(MetricsGrouping::Team, true))
            .await
            .unwrap()
            .unwrap();
        let by_member = client
            .metrics(ctx(), query(MetricsGrouping::Member, false))
            .await
            .unwrap()
            .unwrap();
        (prs, by_team, with_bots, by_member)
    });

    // Per pull request (newest first: D, C, B, A).
    assert_eq!(prs.len(), 4);
    let [d_, c, b, a] = [&prs[0], &prs[1], &prs[2], &prs[3]];
    assert_eq!(
        (a.state, a.cycle_time, a.review_time),
        (PrState::Merged, Some(5 * H), Some(2 * H))
    );
    assert_eq!(a.ready_at, Some(a.created_at));
    assert_eq!(
        b.ready_at,
        Some(T + 13 * H),
        "opened as a draft: ready when it left draft"
    );
    assert_eq!((b.cycle_time, b.review_time), (Some(8 * H), Some(H)));
    assert_eq!(
        b.first_review_at,
        Some(T + 14 * H),
        "not the author's, not the bot's"
    );
    assert!(c.author_is_bot);
    assert_eq!(
        (d_.state, d_.review_time, d_.cycle_time),
        (PrState::Open, None, None)
    );
    assert_eq!(a.additions + a.deletions, 15);

    // The team, bots left out: A and B merged (plus D open).
    let row = &by_team[0];
    assert_eq!((row.key.as_str(), row.prs, row.merged), ("platform", 3, 2));
    assert_eq!(row.cycle_time, d(2, 5 * H, 8 * H, 8 * H));
    assert_eq!(row.review_time, d(2, H, 2 * H, 2 * H));
    assert_eq!(row.pickup, row.review_time);
    // coding = ready − first commit: A's and D's commits a minute before opening; B's a minute
    // before opening, three hours before ready.
    assert_eq!(row.coding, d(3, 60, 3 * H + 60, 3 * H + 60));
    // review = merged − first review: A 3 h, B 4 h.
    assert_eq!(row.review, d(2, 3 * H, 4 * H, 4 * H));
    assert_eq!(row.size, d(3, 15, 15, 15));
    // With bots: C's hour joins.
    assert_eq!(
        (with_bots[0].prs, with_bots[0].cycle_time),
        (4, d(3, 5 * H, 8 * H, 8 * H))
    );
    // Per member.
    let keys: Vec<&str> = by_member.iter().map(|r| r.key.as_str()).collect();
    let mut want = vec![alice.as_str(), bob.as_str()];
    want.sort();
    assert_eq!(keys, want);
    let alice_row = by_member.iter().find(|r| r.key == alice).unwrap();
    assert_eq!(
        (alice_row.prs, alice_row.merged, alice_row.cycle_time),
        (2, 1, d(1, 5 * H, 5 * H, 5 * H))
    );
}
