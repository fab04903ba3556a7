//! Every webhook the simulator can send, delivered to a receiver and checked against GitHub's
//! payload schema for its event and action.

use super::config;
use crate::receiver::Receiver;
use crate::support::Gh;
use serde_json::json;
use std::collections::BTreeSet;
use tidemark_tests::contract::webhooks;

#[tokio::test]
async fn every_webhook_the_simulator_sends_matches_githubs_schema() {
    let gh = Gh::new(config());
    let rx = Receiver::start();
    let org = gh.org.clone();
    let (repo, doomed, people) = {
        let w = gh.sim.world();
        let names: Vec<String> = w.repos.values().map(|r| r.name.clone()).collect();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        (names[0].clone(), names[1].clone(), people)
    };
    let events = json!([
        "pull_request",
        "pull_request_review",
        "push",
        "repository",
        "member"
    ]);
    for name in [&repo, &doomed] {
        let config = json!({ "url": rx.url, "content_type": "json", "secret": "s" });
        let (status, hook) = gh
            .api_as(
                &gh.token,
                "POST",
                &format!("/repos/{org}/{name}/hooks"),
                Some(json!({ "config": config, "events": events })),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
    }
    let pulls = format!("/_sim/repos/{repo}/pulls");
    let (author, reviewer) = (&people[1], &people[2]);
    let n = gh
        .control(
            &pulls,
            json!({ "author": author, "title": "Add", "commits": 2 }),
        )
        .await["number"]
        .as_u64()
        .unwrap();
    let pr = format!("{pulls}/{n}");
    gh.control(&format!("{pr}/push"), json!({ "commits": 2 }))
        .await;
    let review = gh
        .control(
            &format!("{pr}/review"),
            json!({ "user": reviewer, "state": "changes_requested", "body": "No." }),
        )
        .await;
    gh.control(
        &format!("{pr}/dismiss"),
        json!({ "review_id": review["id"] }),
    )
    .await;
    gh.control(
        &format!("{pr}/review"),
        json!({ "user": reviewer, "state": "commented", "body": "" }),
    )
    .await;
    gh.control(
        &format!("{pr}/review"),
        json!({ "user": reviewer, "state": "approved", "body": "" }),
    )
    .await;
    gh.control(&format!("{pr}/edit"), json!({ "title": "Add more" }))
        .await;
    gh.control(&format!("{pr}/draft"), json!({})).await;
    gh.control(&format!("{pr}/ready"), json!({})).await;
    gh.control(&format!("{pr}/close"), json!({})).await;
    gh.control(&format!("{pr}/reopen"), json!({})).await;
    gh.control(&format!("{pr}/merge"), json!({ "by": people[0] }))
        .await;
    gh.control(
        &pulls,
        json!({ "author": author, "title": "Wip", "draft": true }),
    )
    .await;
    // A bot's pull request, reviewed by a bot: their logins in URLs.
    let bot = gh
        .control(
            &pulls,
            json!({ "author": "dependabot[bot]", "title": "Bump" }),
        )
        .await["number"]
        .as_u64()
        .unwrap();
    gh.control(
        &format!("{pulls}/{bot}/review"),
        json!({ "user": "renovate[bot]", "state": "commented", "body": "" }),
    )
    .await;
    // Org members come and go (organization events, which repository hooks never get); a
    // repository's collaborators are its `member` events.
    gh.control("/_sim/members", json!({ "login": "newcomer" }))
        .await;
    gh.control("/_sim/members", json!({ "login": "boss", "role": "admin" }))
        .await;
    for name in [&repo, &doomed] {
        let collaborators = format!("/_sim/repos/{name}/collaborators");
        gh.control(&collaborators, json!({ "login": "newcomer" }))
            .await;
        gh.control(
            &collaborators,
            json!({ "login": "boss", "permission": "admin" }),
        )
        .await;
        let r = gh
            .http
            .delete(gh.url(&format!("{collaborators}/newcomer")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let r = gh
        .http
        .delete(gh.url("/_sim/members/newcomer"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    gh.control(&format!("/_sim/repos/{doomed}/archive"), json!({}))
        .await;
    gh.control(
        &format!("/_sim/repos/{doomed}/archive"),
        json!({ "archived": false }),
    )
    .await;
    gh.control(
        &format!("/_sim/repos/{doomed}/rename"),
        json!({ "name": "renamed" }),
    )
    .await;
    let r = gh
        .http
        .delete(gh.url("/_sim/repos/renamed"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // 2 pings, then for `repo`: opened, push + synchronize, 3 reviews and a dismissal, edited,
    // converted_to_draft, ready_for_review, closed, reopened, closed (merged), opened (draft),
    // the bot's opened and its review, 3 member events; for `doomed`: 3 member events,
    // archived, unarchived, renamed, deleted.
    let expected = 2 + 19 + 7;
    let got = rx.wait_for(expected).await;
    let mut failures = Vec::new();
    let mut kinds = BTreeSet::new();
    for d in &got {
        let body = d.json();
        let action = body["action"].as_str().unwrap_or("-").to_string();
        if let Err(e) = webhooks::validate(d.event(), &body) {
            failures.push(format!("{}.{action}:\n  {}", d.event(), e.join("\n  ")));
        }
        kinds.insert(format!("{}.{action}", d.event()));
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let want: BTreeSet<String> = [
        "ping.-",
        "push.-",
        "pull_request.opened",
        "pull_request.synchronize",
        "pull_request.edited",
        "pull_request.converted_to_draft",
        "pull_request.ready_for_review",
        "pull_request.closed",
        "pull_request.reopened",
        "pull_request_review.submitted",
        "pull_request_review.dismissed",
        "member.added",
        "member.removed",
        "repository.archived",
        "repository.unarchived",
        "repository.renamed",
        "repository.deleted",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(kinds, want);
}
