//! Deliveries of pull request, review, repository and member events: the right event, action and
//! fields, in order.

use super::shapes::*;
use super::{SECRET, assert_has, keys};
use crate::receiver::{Received, Receiver, wait_until};
use crate::support::{Gh, set, small};
use serde_json::{Value, json};
use tidemark_tests::sim::webhooks::signature_256;

/// Open, push, review, edit, merge: each delivery has the right event, action and fields.
#[tokio::test]
async fn pull_request_activity_is_delivered_in_order_in_githubs_shapes() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    gh.create_hook(
        &repo,
        json!({ "url": rx.url, "content_type": "json", "secret": SECRET }),
        &["pull_request", "pull_request_review", "push"],
    )
    .await;
    rx.wait_for(1).await; // the ping
    let (author, reviewer) = {
        let w = gh.sim.world();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        (people[1].clone(), people[2].clone())
    };
    let pulls = format!("/_sim/repos/{repo}/pulls");
    let opened = gh
        .control(
            &pulls,
            json!({ "author": author, "title": "Add things", "commits": 2 }),
        )
        .await;
    let n = opened["number"].as_u64().unwrap();
    gh.control(&format!("{pulls}/{n}/push"), json!({ "commits": 2 }))
        .await;
    gh.control(
        &format!("{pulls}/{n}/review"),
        json!({ "user": reviewer, "state": "approved", "body": "" }),
    )
    .await;
    gh.control(
        &format!("{pulls}/{n}/edit"),
        json!({ "title": "Add more things" }),
    )
    .await;
    gh.control(&format!("{pulls}/{n}/merge"), json!({})).await;

    let got = rx.wait_for(7).await;
    let seen: Vec<(String, Option<String>)> = got
        .iter()
        .map(|r| {
            let b = r.json();
            (
                r.event().to_string(),
                b["action"].as_str().map(String::from),
            )
        })
        .collect();
    let s = |e: &str, a: Option<&str>| (e.to_string(), a.map(String::from));
    assert_eq!(
        seen,
        vec![
            s("ping", None),
            s("pull_request", Some("opened")),
            s("push", None),
            s("pull_request", Some("synchronize")),
            s("pull_request_review", Some("submitted")),
            s("pull_request", Some("edited")),
            s("pull_request", Some("closed")),
        ]
    );
    for r in &got {
        assert_eq!(
            r.header("X-Hub-Signature-256"),
            signature_256(SECRET, &r.body)
        );
        let b = r.json();
        assert_has(&b["repository"], REPOSITORY_FIELDS, "repository");
        assert_eq!(keys(&b["organization"]), set(ORGANIZATION_FIELDS));
        assert_has(&b["sender"], USER_FIELDS, "sender");
    }

    // opened
    let b = got[1].json();
    assert_eq!(
        keys(&b),
        set(&[
            "action",
            "number",
            "pull_request",
            "repository",
            "organization",
            "sender"
        ])
    );
    assert_eq!(b["number"], n);
    assert_has(&b["pull_request"], PULL_REQUEST_FIELDS, "pull_request");
    assert_eq!(b["pull_request"]["state"], "open");
    assert_eq!(b["pull_request"]["merged"], false);
    assert_eq!(b["pull_request"]["commits"], 2);
    assert_eq!(b["sender"]["login"], author.as_str());
    assert!(
        b["pull_request"]["head"]["repo"]
            .get("permissions")
            .is_none(),
        "webhook repositories carry no permissions"
    );

    // push
    let push = got[2].json();
    assert_eq!(
        keys(&push),
        set(&[
            "ref",
            "before",
            "after",
            "created",
            "deleted",
            "forced",
            "base_ref",
            "compare",
            "commits",
            "head_commit",
            "repository",
            "pusher",
            "sender",
            "organization",
        ])
    );
    assert!(push["ref"].as_str().unwrap().starts_with("refs/heads/"));
    assert_eq!(push["created"], false);
    assert_eq!(push["deleted"], false);
    let commits = push["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 2);
    for c in commits {
        assert_eq!(keys(c), set(PUSH_COMMIT_FIELDS));
    }
    assert_eq!(push["head_commit"]["id"], push["after"]);
    assert_eq!(commits[1]["id"], push["after"]);
    assert_eq!(keys(&push["pusher"]), set(&["name", "email"]));
    assert_eq!(push["pusher"]["name"], author.as_str());
    // The push body's repository is GitHub's older rendering.
    let pr = &push["repository"];
    assert!(
        pr["created_at"].is_i64() && pr["pushed_at"].is_i64(),
        "{pr}"
    );
    assert!(pr["updated_at"].is_string());
    assert_has(pr, &["stargazers", "master_branch"], "push repository");
    assert_has(&pr["owner"], &["name", "email"], "push repository owner");

    // synchronize: before/after match the push.
    let sync = got[3].json();
    assert_eq!(sync["before"], push["before"]);
    assert_eq!(sync["after"], push["after"]);
    assert_eq!(sync["pull_request"]["head"]["sha"], push["after"]);
    assert_eq!(sync["pull_request"]["commits"], 4);

    // review: lowercase state, a pull request without merged or sizes.
    let rv = got[4].json();
    assert_eq!(
        keys(&rv),
        set(&[
            "action",
            "review",
            "pull_request",
            "repository",
            "organization",
            "sender"
        ])
    );
    assert_eq!(keys(&rv["review"]), set(REVIEW_FIELDS));
    assert_eq!(rv["review"]["state"], "approved");
    assert_eq!(rv["review"]["body"], Value::Null);
    assert_eq!(rv["review"]["user"]["login"], reviewer.as_str());
    assert_eq!(rv["sender"]["login"], reviewer.as_str());
    assert_has(
        &rv["pull_request"],
        REVIEW_PULL_REQUEST_FIELDS,
        "review's pull_request",
    );
    for absent in [
        "merged",
        "additions",
        "deletions",
        "commits",
        "changed_files",
    ] {
        assert!(
            rv["pull_request"].get(absent).is_none(),
            "a review's pull request has no {absent}"
        );
    }

    // edited: what changed.
    let ed = got[5].json();
    assert_eq!(ed["changes"], json!({ "title": { "from": "Add things" } }));
    assert_eq!(ed["pull_request"]["title"], "Add more things");

    // closed by merging.
    let closed = got[6].json();
    assert_eq!(closed["pull_request"]["merged"], true);
    assert_eq!(closed["pull_request"]["state"], "closed");
    assert!(closed["pull_request"]["merged_at"].is_string());
    assert_eq!(
        closed["sender"]["login"],
        gh.sim.viewer_login().as_str(),
        "merged by the viewer"
    );
}

#[tokio::test]
async fn closing_without_merging_and_dismissing_a_review() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(1);
    gh.create_hook(
        &repo,
        json!({ "url": rx.url, "content_type": "json" }),
        &["*"],
    )
    .await;
    rx.wait_for(1).await;
    let people: Vec<String> = {
        let w = gh.sim.world();
        w.members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect()
    };
    let pulls = format!("/_sim/repos/{repo}/pulls");
    let n = gh.control(&pulls, json!({ "author": people[1] })).await["number"]
        .as_u64()
        .unwrap();
    let review = gh
        .control(
            &format!("{pulls}/{n}/review"),
            json!({ "user": people[2], "state": "changes_requested", "body": "no" }),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    gh.control(
        &format!("{pulls}/{n}/dismiss"),
        json!({ "review_id": review }),
    )
    .await;
    gh.control(&format!("{pulls}/{n}/close"), json!({})).await;
    let got = rx.wait_for(5).await;
    let submitted = got[2].json();
    assert_eq!(submitted["review"]["state"], "changes_requested");
    assert_eq!(submitted["review"]["body"], "no");
    let dismissed = got[3].json();
    assert_eq!(got[3].event(), "pull_request_review");
    assert_eq!(dismissed["action"], "dismissed");
    assert_eq!(dismissed["review"]["state"], "dismissed");
    let closed = got[4].json();
    assert_eq!(closed["action"], "closed");
    assert_eq!(closed["pull_request"]["merged"], false);
    // A hook without a secret gets no signature.
    assert!(!got[4].headers.contains_key("x-hub-signature-256"));
}

#[tokio::test]
async fn repository_and_member_events() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    let repo_id = gh.sim.world().repos.values().next().unwrap().id;
    let hook_id = gh
        .create_hook(
            &repo,
            json!({ "url": rx.url, "content_type": "json" }),
            &["repository", "member"],
        )
        .await;
    rx.wait_for(1).await;
    gh.control(
        &format!("/_sim/repos/{repo}/rename"),
        json!({ "name": "renamed" }),
    )
    .await;
    // An org member added: no repository hook hears of it (organization hooks do).
    gh.control("/_sim/members", json!({ "login": "new-person" }))
        .await;
    // A collaborator added to the repository: `member`.
    gh.control(
        "/_sim/repos/renamed/collaborators",
        json!({ "login": "new-person", "permission": "write" }),
    )
    .await;
    gh.control("/_sim/repos/renamed/archive", json!({ "archived": true }))
        .await;
    gh.control("/_sim/repos/renamed/archive", json!({ "archived": false }))
        .await;
    let r = gh
        .http
        .delete(gh.url("/_sim/repos/renamed"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let got = rx.wait_for(6).await;
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();

    assert_eq!(got[1].event(), "repository");
    assert_eq!(bodies[1]["action"], "renamed");
    assert_eq!(
        bodies[1]["changes"],
        json!({ "repository": { "name": { "from": repo } } })
    );
    assert_eq!(bodies[1]["repository"]["name"], "renamed");
    assert_eq!(
        keys(&bodies[1]),
        set(&["action", "changes", "repository", "organization", "sender"])
    );

    assert_eq!(got[2].event(), "member");
    assert_eq!(bodies[2]["action"], "added");
    assert_eq!(
        bodies[2]["changes"],
        json!({ "permission": { "to": "write" } })
    );
    assert_eq!(bodies[2]["member"]["login"], "new-person");
    assert_has(&bodies[2]["member"], USER_FIELDS, "member");
    assert_eq!(
        keys(&bodies[2]),
        set(&[
            "action",
            "member",
            "changes",
            "repository",
            "organization",
            "sender"
        ])
    );

    assert_eq!(bodies[3]["action"], "archived");
    assert_eq!(bodies[3]["repository"]["archived"], true);
    assert_eq!(bodies[4]["action"], "unarchived");
    assert_eq!(
        keys(&bodies[4]),
        set(&["action", "repository", "organization", "sender"])
    );

    // Deleted: still described, then the hook goes with the repository.
    assert_eq!(bodies[5]["action"], "deleted");
    assert_eq!(bodies[5]["repository"]["id"], repo_id);
    assert_eq!(bodies[5]["repository"]["name"], "renamed");
    wait_until("the deleted repository's hook to go", || {
        !gh.sim.world().hooks.contains_key(&hook_id)
    })
    .await;
}
