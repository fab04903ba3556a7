//! Who did what when: bots as GraphQL shows them, and the timeline against the world's events.

use super::Gql;
use crate::sim::clock;
use crate::sim::world::TimelineKind;
use serde_json::{Value, json};

/// Bots: GraphQL logins have no `[bot]` suffix, the type is Bot, inline fragments pick fields.
#[tokio::test]
async fn bots_are_bots_without_the_rest_suffix() {
    let g = Gql::default_org();
    let (repo, number, login, id) = {
        let w = g.world();
        let p = w
            .pulls
            .values()
            .find(|p| w.account(p.user_id).is_bot)
            .expect("a bot PR");
        let a = w.account(p.user_id);
        (
            w.repos[&p.repo_id].name.clone(),
            p.number,
            a.login.clone(),
            a.id,
        )
    };
    assert!(login.ends_with("[bot]"));
    let q = "query($o: String!, $n: String!, $num: Int!) { repository(owner: $o, name: $n) {
        pullRequest(number: $num) { author { __typename login url
          ... on Bot { id databaseId } ... on User { email } } } } }";
    let a = g
        .query(q, json!({"o": g.org(), "n": repo, "num": number}))
        .await;
    let author = &a.data()["repository"]["pullRequest"]["author"];
    let bare = login.trim_end_matches("[bot]");
    assert_eq!(author["__typename"], "Bot");
    assert_eq!(author["login"], bare);
    assert_eq!(author["databaseId"], id);
    assert_eq!(author["id"], crate::sim::json::node_id("Bot", id));
    assert_eq!(author["url"], format!("http://sim.test/apps/{bare}"));
    assert!(author.get("email").is_none());
}

/// Ready-for-review (and the other events) come back with the world's times and actors; a
/// merge also records a close, as on GitHub.
#[tokio::test]
async fn timeline_items_carry_the_worlds_events() {
    let g = Gql::default_org();
    let (name, id) = g.repo(1);
    let q = "query($o: String!, $n: String!, $after: String) { repository(owner: $o, name: $n) {
        pullRequests(first: 20, after: $after) { pageInfo { hasNextPage endCursor } nodes { number
          ready: timelineItems(first: 10, itemTypes: [READY_FOR_REVIEW_EVENT]) {
            totalCount nodes { __typename ... on ReadyForReviewEvent { createdAt actor { login } } } }
          events: timelineItems(first: 50, itemTypes: [CONVERT_TO_DRAFT_EVENT, CLOSED_EVENT, REOPENED_EVENT, MERGED_EVENT]) {
            nodes { __typename
              ... on ClosedEvent { createdAt } ... on ReopenedEvent { createdAt }
              ... on MergedEvent { createdAt mergeRefName commit { oid } } } } } } } }";
    let mut after = Value::Null;
    let mut seen_ready = 0;
    let mut checked = 0;
    loop {
        let a = g
            .query(q, json!({"o": g.org(), "n": name, "after": after}))
            .await;
        let conn = a.data()["repository"]["pullRequests"].clone();
        let w = g.world();
        for n in conn["nodes"].as_array().unwrap() {
            let p = w.pull(id, n["number"].as_u64().unwrap()).unwrap();
            let ready: Vec<Value> = p
                .timeline
                .iter()
                .filter(|e| e.kind == TimelineKind::ReadyForReview)
                .map(|e| json!({"__typename": "ReadyForReviewEvent", "createdAt": clock::iso(e.at),
                                "actor": {"login": w.account(e.actor_id).login.trim_end_matches("[bot]")}}))
                .collect();
            seen_ready += ready.len();
            assert_eq!(n["ready"]["totalCount"], ready.len());
            assert_eq!(n["ready"]["nodes"], Value::Array(ready));
            let mut events = Vec::new();
            for e in &p.timeline {
                let at = clock::iso(e.at);
                match e.kind {
                    TimelineKind::Closed => {
                        events.push(json!({"__typename": "ClosedEvent", "createdAt": at}))
                    }
                    TimelineKind::Reopened => {
                        events.push(json!({"__typename": "ReopenedEvent", "createdAt": at}))
                    }
                    TimelineKind::Merged => {
                        events.push(json!({"__typename": "MergedEvent", "createdAt": at, "mergeRefName": p.base_ref,
                                           "commit": {"oid": p.merge_commit_sha}}));
                        events.push(json!({"__typename": "ClosedEvent", "createdAt": at}));
                    }
                    TimelineKind::ConvertedToDraft => {
                        events.push(json!({"__typename": "ConvertToDraftEvent"}))
                    }
                    TimelineKind::ReadyForReview => {}
                }
            }
            assert_eq!(
                n["events"]["nodes"],
                Value::Array(events),
                "PR {}",
                p.number
            );
            checked += 1;
        }
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(checked, 40);
    assert!(
        seen_ready > 0,
        "the repo has PRs that went from draft to ready"
    );
}

/// Without `itemTypes` the timeline interleaves commits, reviews and events by time.
#[tokio::test]
async fn an_unfiltered_timeline_interleaves_everything_in_time_order() {
    let g = Gql::default_org();
    let (repo, number, count) = {
        let w = g.world();
        let p = w
            .pulls
            .values()
            .find(|p| p.merged() && !p.reviews.is_empty() && p.commits.len() < 20)
            .unwrap();
        let count = p.commits.len() + p.reviews.len() + p.timeline.len() + 1;
        (w.repos[&p.repo_id].name.clone(), p.number, count)
    };
    let q = "query($o: String!, $n: String!, $num: Int!) { repository(owner: $o, name: $n) {
        pullRequest(number: $num) { timelineItems(first: 100) { totalCount nodes { __typename
          ... on PullRequestCommit { commit { committedDate } }
          ... on PullRequestReview { submittedAt }
          ... on MergedEvent { createdAt } ... on ClosedEvent { createdAt }
          ... on ReadyForReviewEvent { createdAt } ... on ReopenedEvent { createdAt } } } } } }";
    let a = g
        .query(q, json!({"o": g.org(), "n": repo, "num": number}))
        .await;
    let items = &a.data()["repository"]["pullRequest"]["timelineItems"];
    assert_eq!(items["totalCount"], count);
    let times: Vec<&str> = items["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["commit"]["committedDate"]
                .as_str()
                .or(n["submittedAt"].as_str())
                .or(n["createdAt"].as_str())
                .unwrap()
        })
        .collect();
    assert_eq!(times.len(), count);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let kinds: Vec<&str> = items["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["__typename"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"PullRequestCommit") && kinds.contains(&"PullRequestReview"));
    assert_eq!(
        kinds.last(),
        Some(&"ClosedEvent"),
        "a merge's close comes right after it"
    );
}
