//! The simulator's organization side: organization hooks (only for an owner with
//! `admin:org_hook`), `organization` events sent to them and never to repository hooks, the
//! caller's membership, repository permissions per caller, the token's scopes on every answer,
//! and an organization that restricts OAuth apps.

use super::shapes::{ORGANIZATION_FIELDS, USER_FIELDS};
use super::{Gh, assert_has, keys};
use crate::receiver::Receiver;
use crate::support::{set, small};
use serde_json::{Value, json};

/// The viewer's token with `admin:org_hook` as well.
fn org_hook_token(gh: &Gh) -> String {
    let login = gh.sim.viewer_login();
    tidemark_tests::sim::oauth::mint_token(
        &gh.sim.shared,
        &login,
        vec![
            "repo".into(),
            "read:org".into(),
            "read:user".into(),
            "admin:org_hook".into(),
        ],
    )
    .unwrap()
}

fn a_member(gh: &Gh) -> String {
    let w = gh.sim.world();
    let id = w
        .members
        .iter()
        .find(|(_, r)| r.as_str() == "member")
        .map(|(id, _)| *id)
        .unwrap();
    w.account(id).login.clone()
}

#[tokio::test]
async fn organization_events_go_to_org_hooks_only_in_githubs_shape() {
    let gh = Gh::new(small());
    let org_rx = Receiver::start();
    let repo_rx = Receiver::start();
    let path = format!("/orgs/{}/hooks", gh.org);
    let body = json!({
        "name": "web",
        "events": ["organization"],
        "config": { "url": org_rx.url, "content_type": "json", "secret": "s3cret" },
    });

    // Without admin:org_hook, or as a member who is no owner: 404, naming the scope.
    let r = gh.send(&gh.token, "POST", &path, Some(body.clone())).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers()["x-accepted-oauth-scopes"].to_str().unwrap(),
        "admin:org_hook"
    );
    let member = a_member(&gh);
    let member_token = tidemark_tests::sim::oauth::mint_token(
        &gh.sim.shared,
        &member,
        vec!["repo".into(), "read:org".into(), "admin:org_hook".into()],
    )
    .unwrap();
    let (status, _) = gh
        .api_as(&member_token, "POST", &path, Some(body.clone()))
        .await;
    assert_eq!(status, 404);

    // An owner with the scope: created, and pinged as an organization hook.
    let token = org_hook_token(&gh);
    let (status, hook) = gh.api_as(&token, "POST", &path, Some(body.clone())).await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["type"], "Organization");
    assert_eq!(hook["events"], json!(["organization"]));
    assert_eq!(hook["config"]["secret"], "********");
    let hook_id = hook["id"].as_u64().unwrap();
    let (status, again) = gh.api_as(&token, "POST", &path, Some(body)).await;
    assert_eq!(status, 422, "{again}");
    let got = org_rx.wait_for(1).await;
    assert_eq!(got[0].event(), "ping");
    assert_eq!(got[0].header("X-GitHub-Hook-ID"), hook_id.to_string());
    assert_eq!(
        got[0].header("X-GitHub-Hook-Installation-Target-Type"),
        "organization"
    );
    let org_id = gh.sim.world().org().id;
    assert_eq!(
        got[0].header("X-GitHub-Hook-Installation-Target-ID"),
        org_id.to_string()
    );
    let ping = got[0].json();
    assert_eq!(
        keys(&ping),
        set(&["zen", "hook_id", "hook", "organization", "sender"])
    );

    // A repository hook that asks for everything still never gets `organization`.
    let repo = gh.repo(0);
    let repo_hook = gh
        .create_hook(
            &repo,
            json!({ "url": repo_rx.url, "content_type": "json" }),
            &["*"],
        )
        .await;
    repo_rx.wait_for(1).await;

    gh.control("/_sim/members", json!({ "login": "new-person" }))
        .await;
    gh.http
        .delete(gh.url("/_sim/members/new-person"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let got = org_rx.wait_for(3).await;
    // Shaped as GitHub's `organization.member_added` example.
    for (d, action) in got[1..].iter().zip(["member_added", "member_removed"]) {
        assert_eq!(d.event(), "organization");
        assert_eq!(
            d.header("X-Hub-Signature-256"),
            tidemark_tests::sim::webhooks::signature_256("s3cret", &d.body)
        );
        let b = d.json();
        assert_eq!(b["action"], action);
        assert_eq!(
            keys(&b),
            set(&["action", "membership", "organization", "sender"])
        );
        assert_eq!(
            keys(&b["membership"]),
            set(&["url", "state", "role", "organization_url", "user"])
        );
        assert_eq!(b["membership"]["user"]["login"], "new-person");
        assert_has(&b["membership"]["user"], USER_FIELDS, "membership.user");
        assert_has(&b["organization"], ORGANIZATION_FIELDS, "organization");
    }
    // The repository hook got its ping and nothing else.
    assert!(
        repo_rx.all().iter().all(|d| d.event() == "ping"),
        "{:?}",
        repo_rx
            .all()
            .iter()
            .map(|d| d.event().to_string())
            .collect::<Vec<_>>()
    );
    let deliveries = gh.sim.world().deliveries.clone();
    assert!(
        deliveries
            .iter()
            .filter(|d| d.hook_id == repo_hook)
            .all(|d| d.event == "ping")
    );

    // Its deliveries are listed; PATCH and DELETE work as on a repository hook. (A delivery is
    // recorded once its answer is in, a moment after the receiver has it: wait for that.)
    crate::receiver::wait_until("the org hook's 3 recorded deliveries", || {
        gh.sim
            .world()
            .deliveries
            .iter()
            .filter(|d| d.hook_id == hook_id)
            .count()
            >= 3
    })
    .await;
    let (status, list) = gh
        .api_as(&token, "GET", &format!("{path}/{hook_id}/deliveries"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    let (status, patched) = gh
        .api_as(
            &token,
            "PATCH",
            &format!("{path}/{hook_id}"),
            Some(json!({ "events": ["organization", "member"] })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["events"], json!(["organization", "member"]));
    let (status, _) = gh
        .api_as(
            &token,
            "PATCH",
            &format!("{path}/{hook_id}/config"),
            Some(json!({ "secret": "new" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        gh.sim.world().org_hooks[&hook_id].secret.as_deref(),
        Some("new")
    );
    let (status, _) = gh
        .api_as(&token, "DELETE", &format!("{path}/{hook_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = gh
        .api_as(&token, "GET", &format!("{path}/{hook_id}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn membership_permissions_scopes_and_oauth_app_restrictions() {
    let gh = Gh::new(small());
    let org = gh.org.clone();
    let repo = gh.repo(0);

    // Every answer says the token's scopes.
    let r = gh.send(&gh.token, "GET", "/user", None).await;
    assert_eq!(
        r.headers()["x-oauth-scopes"].to_str().unwrap(),
        "repo, read:org, read:user"
    );
    gh.control("/_sim/tokens/scopes", json!({ "scopes": ["read:user"] }))
        .await;
    let r = gh.send(&gh.token, "GET", "/user", None).await;
    assert_eq!(r.headers()["x-oauth-scopes"].to_str().unwrap(), "read:user");
    gh.control(
        "/_sim/tokens/scopes",
        json!({ "scopes": ["repo", "read:org", "read:user"] }),
    )
    .await;

    // The viewer owns the org: role admin, admin of every repository.
    let (status, m) = gh
        .api("GET", &format!("/user/memberships/orgs/{org}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (m["state"].as_str(), m["role"].as_str()),
        (Some("active"), Some("admin"))
    );
    assert_eq!(m["user"]["login"], gh.sim.viewer_login().as_str());
    let (_, r) = gh.api("GET", &format!("/repos/{org}/{repo}"), None).await;
    assert_eq!(r["permissions"]["admin"], true);

    // A member: role member, no admin until made one of a repository (whose hooks hear of it).
    let member = a_member(&gh);
    let token = gh.sim.token_for(&member);
    let (_, m) = gh
        .api_as(
            &token,
            "GET",
            &format!("/user/memberships/orgs/{org}"),
            None,
        )
        .await;
    assert_eq!(m["role"], "member");
    let (_, r) = gh
        .api_as(&token, "GET", &format!("/repos/{org}/{repo}"), None)
        .await;
    assert_eq!(r["permissions"]["admin"], false);
    let (status, _) = gh
        .api_as(&token, "GET", &format!("/repos/{org}/{repo}/hooks"), None)
        .await;
    assert_eq!(status, 404);
    gh.control(
        &format!("/_sim/repos/{repo}/collaborators"),
        json!({ "login": member, "permission": "admin" }),
    )
    .await;
    let (_, r) = gh
        .api_as(&token, "GET", &format!("/repos/{org}/{repo}"), None)
        .await;
    assert_eq!(r["permissions"]["admin"], true);
    let (status, _) = gh
        .api_as(&token, "GET", &format!("/repos/{org}/{repo}/hooks"), None)
        .await;
    assert_eq!(status, 200);
    let (_, listed) = gh
        .api_as(
            &token,
            "GET",
            &format!("/orgs/{org}/repos?per_page=100"),
            None,
        )
        .await;
    let admin_of: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["permissions"]["admin"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(admin_of, [repo.as_str()]);
    let (status, _) = gh
        .api_as(&token, "GET", "/user/memberships/orgs/elsewhere", None)
        .await;
    assert_eq!(status, 404);

    // The org restricts OAuth apps: its resources answer GitHub's 403.
    gh.control("/_sim/org", json!({ "oauth_app_restrictions": true }))
        .await;
    for path in [
        format!("/orgs/{org}/repos"),
        format!("/repos/{org}/{repo}"),
        format!("/orgs/{org}/members"),
    ] {
        let (status, body): (_, Value) = gh.api("GET", &path, None).await;
        assert_eq!(status, 403, "{path}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "the `{org}` organization has enabled OAuth App access restrictions"
            )),
            "{message}"
        );
        assert_eq!(
            body["documentation_url"],
            "https://docs.github.com/articles/restricting-access-to-your-organization-s-data/"
        );
    }
    // The user's own resources are not the org's.
    let (status, _) = gh.api("GET", "/user", None).await;
    assert_eq!(status, 200);
    gh.control("/_sim/org", json!({ "oauth_app_restrictions": false }))
        .await;
    let (status, _) = gh.api("GET", &format!("/orgs/{org}/repos"), None).await;
    assert_eq!(status, 200);
}
