//! GitHub's published descriptions are the contract. A whole life of a team against the
//! simulator (connect, first sync, webhook-driven re-reads, a big pull request's follow-ups, a
//! renamed repository, a secret rotation, a disconnect), then every GraphQL document the daemon
//! actually sent (recorded by the simulator) is validated against GitHub's committed schema
//! with deprecated fields refused, and every REST call it made is found among the operations
//! of GitHub's committed OpenAPI description. A document or call added later cannot slip past.

use serde_json::json;
use std::time::Duration;
use tidemark_protocol::TeamRef;
use tidemark_tests::contract;
use tidemark_tests::harness::{
    Daemon, Sandbox, all_pull_requests, block_on_shared as block_on, connect,
    connect_team_and_track_all_with, ctx, first_sync_and_hooks, free_port, sim_control as control,
    small_org_sim, use_simulator_with_webhooks, wait_until,
};

fn team() -> TeamRef {
    TeamRef::Name("platform".into())
}

/// Every document the daemon can build, one of each shape, holds to the schema: no simulator
/// needed, so a new shape fails here first.
#[test]
fn every_document_shape_the_daemon_builds_is_valid_and_uses_nothing_deprecated() {
    let examples = tidemark_daemon::github::graphql::documents::examples();
    assert!(examples.len() >= 6);
    for (what, document, variables) in examples {
        if let Err(errors) = contract::graphql::validate(&document, &variables) {
            panic!("{what}: GitHub would refuse it: {errors:#?}\n{document}");
        }
        let deprecated = contract::graphql::deprecated_fields(&document);
        assert!(deprecated.is_empty(), "{what} uses {deprecated:?}");
    }
}

/// The check itself can fail: the query tidemark sent before this contract existed (the
/// deprecated 32-bit ids) is caught.
#[test]
fn the_old_32_bit_document_is_caught() {
    let old = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
        pullRequests(first: 5) { nodes { databaseId number reviews(first: 5) { nodes { databaseId } } } } } }";
    let vars = json!({"o": "acme", "n": "web"});
    assert!(
        contract::graphql::validate(old, &vars).is_ok(),
        "valid, only deprecated"
    );
    let mut deprecated = contract::graphql::deprecated_fields(old);
    deprecated.sort();
    assert_eq!(
        deprecated,
        ["PullRequest.databaseId", "PullRequestReview.databaseId"]
    );
    let unknown = "query { viewer { login nonsense } }";
    assert!(contract::graphql::validate(unknown, &json!({})).is_err());
    assert!(contract::openapi::operation("GET", "/repos/acme/web/nonsense").is_none());
}

#[test]
fn everything_the_daemon_sends_github_is_in_githubs_published_descriptions() {
    let sim = small_org_sim(2, 8, 4);
    let port = free_port();
    let sandbox = Sandbox::new();
    let start = |n: usize| {
        Daemon::start_with(&sandbox, n, |cmd| {
            let addr = format!("127.0.0.1:{port}");
            use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
            // The browser flow's secret, so disconnect revokes the token too.
            cmd.env("GITHUB_CLIENT_SECRET", &sim.shared.config.client_secret);
        })
    };
    let daemon = start(0);
    let client = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        // With `admin:org_hook` (the viewer owns the org): an organization hook too.
        connect_team_and_track_all_with(&client, "platform", true)
            .await
            .unwrap();
        first_sync_and_hooks(&client, team(), |r| r.webhook_id.is_some())
            .await
            .unwrap();
        client
    });
    wait_until(Duration::from_secs(30), "the organization hook", || {
        sim.recorded()
            .endpoints
            .contains_key("POST /orgs/{org}/hooks")
            .then_some(())
    });
    // A member joins: GitHub tells the organization hook, the daemon reads the members again.
    let members_before = block_on(client.members(ctx(), team()))
        .unwrap()
        .unwrap()
        .len();
    control(&sim, "/_sim/members", json!({"login": "newcomer"}));
    wait_until(Duration::from_secs(30), "the new member by webhook", || {
        let members = block_on(client.members(ctx(), team())).unwrap().unwrap();
        (members.len() > members_before).then_some(())
    });

    // Webhook-driven re-reads: a new pull request too big for one page (follow-ups of its
    // commits and reviews), reviewed many times.
    let (repo, people) = {
        let w = sim.world();
        let repo = w.repos.values().next().unwrap().name.clone();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .filter(|l| !l.ends_with("[bot]"))
            .collect();
        (repo, people)
    };
    let n = control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": people[0], "title": "A big one", "commits": 60}),
    )["number"]
        .as_u64()
        .unwrap();
    for i in 0..22 {
        control(
            &sim,
            &format!("/_sim/repos/{repo}/pulls/{n}/review"),
            json!({"user": people[1 + i % (people.len() - 1)], "state": "commented"}),
        );
    }
    wait_until(Duration::from_secs(30), "the big PR read whole", || {
        let prs = block_on(all_pull_requests(&client, team())).unwrap();
        prs.into_iter()
            .find(|p| p.title == "A big one" && p.reviews >= 22 && p.commits >= 60)
    });

    // A renamed repository (read again by id), a rotated secret, a sync on demand, and a
    // disconnect (hooks deleted, token revoked).
    control(
        &sim,
        &format!("/_sim/repos/{repo}/rename"),
        json!({"name": format!("{repo}-renamed")}),
    );
    wait_until(Duration::from_secs(30), "the rename followed", || {
        let repos = block_on(client.tracked_repos(ctx(), team()))
            .unwrap()
            .unwrap();
        repos
            .iter()
            .any(|r| r.full_name.ends_with(&format!("/{repo}-renamed")))
            .then_some(())
    });
    block_on(client.webhook_rotate_secret(ctx(), team()))
        .unwrap()
        .unwrap();
    block_on(async {
        client.sync_start(ctx(), team()).await.unwrap().unwrap();
        while client
            .sync_status(ctx(), team(), 5_000)
            .await
            .unwrap()
            .unwrap()
            .running
        {}
    });
    // A restart: self-healing checks each hook and asks for its recent deliveries.
    daemon.stop();
    let daemon = start(1);
    let client = block_on(connect(&daemon.socket)).unwrap();
    wait_until(
        Duration::from_secs(30),
        "self-healing to list deliveries",
        || {
            sim.recorded()
                .endpoints
                .keys()
                .any(|k| k.ends_with("/deliveries"))
                .then_some(())
        },
    );
    block_on(client.github_disconnect(ctx(), team(), false))
        .unwrap()
        .unwrap();

    let recorded = sim.recorded();
    let mut failures = Vec::new();
    for (document, variables) in &recorded.graphql {
        if let Err(errors) = contract::graphql::validate(document, variables) {
            failures.push(format!(
                "refused by GitHub's schema: {errors:?}\n{document}"
            ));
        }
        let deprecated = contract::graphql::deprecated_fields(document);
        if !deprecated.is_empty() {
            failures.push(format!("deprecated {deprecated:?} in\n{document}"));
        }
    }
    let mut operations = std::collections::BTreeSet::new();
    for (key, (method, path)) in &recorded.endpoints {
        match contract::openapi::operation(method, path) {
            Some(op) => {
                operations.insert(op.id.clone());
            }
            None => failures.push(format!(
                "{key} ({method} {path}) is not in GitHub's REST description"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // What this run covered, for the record (and so a run that sent nothing cannot pass).
    println!(
        "contract: {} distinct GraphQL documents validated, {} REST operations checked: {:?}",
        recorded.graphql.len(),
        operations.len(),
        operations
    );
    assert!(recorded.graphql.len() >= 5, "{:?}", recorded.graphql.keys());
    assert!(operations.len() >= 9, "{operations:?}");
}
