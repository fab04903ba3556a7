//! Webhook bodies of delivery data: `deployment`, `deployment_status`, `workflow_run`,
//! `release` and `issues`, in GitHub's payload shapes (`@octokit/webhooks-schemas`), rendered
//! from the world as it is when delivered. The REST shapes (`json_delivery.rs`) with what
//! webhooks add: a deployment event's `workflow` and `workflow_run` (null: no workflow made
//! it), a run's `workflow`, an issue's `label`.

use crate::sim::clock::iso;
use crate::sim::json::{Urls, node_id};
use crate::sim::json_delivery as jd;
use crate::sim::world::{Repo, WorkflowRun, World};
use serde_json::{Value, json};

/// The event's own part of the body (the caller adds `repository`, `organization`, `sender`),
/// with the sender's id; None when what it names is gone.
pub fn render(u: &Urls, w: &World, repo: &Repo, name: &str, p: &Value) -> Option<(Value, u64)> {
    let action = p["action"].as_str().unwrap_or_default();
    match name {
        "deployment" => {
            let d = w.deployments.get(&p["deployment_id"].as_u64()?)?;
            let b = json!({
                "action": action,
                "deployment": deployment(u, w, d),
                "workflow": null,
                "workflow_run": null,
            });
            Some((b, d.creator_id))
        }
        "deployment_status" => {
            let d = w.deployments.get(&p["deployment_id"].as_u64()?)?;
            let sid = p["status_id"].as_u64()?;
            let s = d.statuses.iter().find(|s| s.id == sid)?;
            let b = json!({
                "action": action,
                "deployment_status": jd::deployment_status(u, w, d, s),
                "deployment": deployment(u, w, d),
            });
            Some((b, s.creator_id))
        }
        "workflow_run" => {
            let run = w.runs.get(&p["run_id"].as_u64()?)?;
            let mut r = jd::workflow_run(u, w, run);
            // The webhook's run names the repositories the short way and keeps `conclusion`
            // null until completed.
            for key in ["repository", "head_repository"] {
                r[key] = repo_lite(u, w, repo);
            }
            let b = json!({
                "action": action,
                "workflow": workflow(u, w, repo, run),
                "workflow_run": r,
            });
            Some((b, run.actor_id))
        }
        "release" => {
            let rel = w.releases.get(&p["release_id"].as_u64()?)?;
            let mut release = jd::release(u, w, rel);
            // Webhooks' release has neither (its schema allows no other fields).
            for key in ["immutable", "updated_at"] {
                release.as_object_mut()?.remove(key);
            }
            let b = json!({ "action": action, "release": release });
            Some((b, rel.author_id))
        }
        "issues" => {
            let i = w.issue(repo.id, p["number"].as_u64()?).ok()?;
            let mut issue = jd::issue(u, w, i);
            // Webhooks' issue has no `closed_by` (its schema allows no other fields).
            issue.as_object_mut()?.remove("closed_by");
            let mut b = json!({ "action": action, "issue": issue });
            if let Some(l) = p["label"].as_str() {
                b["label"] = jd::label(u, w, repo.id, l);
            }
            if !p["changes"].is_null() {
                b["changes"] = p["changes"].clone();
            }
            Some((b, p["sender_id"].as_u64().unwrap_or(i.user_id)))
        }
        _ => None,
    }
}

/// A deployment as webhooks describe it: REST's, with `performed_via_github_app`.
fn deployment(u: &Urls, w: &World, d: &crate::sim::world::Deployment) -> Value {
    let mut v = jd::deployment(u, w, d);
    v["performed_via_github_app"] = Value::Null;
    v
}

fn workflow(u: &Urls, w: &World, repo: &Repo, run: &WorkflowRun) -> Value {
    let full = w.full_name(repo);
    json!({
        "badge_url": format!("{}/{full}/workflows/{}/badge.svg", u.web, run.name),
        "created_at": iso(repo.created_at),
        "html_url": format!("{}/{full}/blob/{}/{}", u.web, repo.default_branch, run.path),
        "id": run.workflow_id,
        "name": run.name,
        "node_id": node_id("Workflow", run.workflow_id),
        "path": run.path,
        "state": "active",
        "updated_at": iso(repo.created_at),
        "url": format!("{}/repos/{full}/actions/workflows/{}", u.api, run.workflow_id),
    })
}

/// `repo-lite`/`repository-lite`: the repository without its counts and dates.
fn repo_lite(u: &Urls, w: &World, repo: &Repo) -> Value {
    let mut v = crate::sim::json::repo(u, w, repo);
    if let Value::Object(m) = &mut v {
        let keep = |k: &str| REPO_LITE.contains(&k);
        m.retain(|k, _| keep(k));
    }
    v
}

/// The fields of GitHub's `repository-lite`.
const REPO_LITE: &[&str] = &[
    "archive_url",
    "assignees_url",
    "blobs_url",
    "branches_url",
    "collaborators_url",
    "comments_url",
    "commits_url",
    "compare_url",
    "contents_url",
    "contributors_url",
    "deployments_url",
    "description",
    "downloads_url",
    "events_url",
    "fork",
    "forks_url",
    "full_name",
    "git_commits_url",
    "git_refs_url",
    "git_tags_url",
    "hooks_url",
    "html_url",
    "id",
    "issue_comment_url",
    "issue_events_url",
    "issues_url",
    "keys_url",
    "labels_url",
    "languages_url",
    "merges_url",
    "milestones_url",
    "name",
    "node_id",
    "notifications_url",
    "owner",
    "private",
    "pulls_url",
    "releases_url",
    "stargazers_url",
    "statuses_url",
    "subscribers_url",
    "subscription_url",
    "tags_url",
    "teams_url",
    "trees_url",
    "url",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{OrgSpec, generate};
    use crate::sim::world::{
        DeployState, Event, MergeMethod, NewDeployment, NewIssue, NewPull, NewRelease, NewRun,
    };

    /// Every delivery event and action the simulator sends, rendered and checked against
    /// GitHub's schema for it.
    #[test]
    fn every_delivery_event_matches_githubs_schema() {
        let spec = OrgSpec {
            repos: 2,
            prs_per_repo: 3,
            members: 4,
            now: 1_760_000_000,
            ..OrgSpec::default()
        };
        let u = Urls {
            web: "http://sim".into(),
            api: "http://sim".into(),
        };
        let mut w = generate(&spec);
        let repo_id = *w.repos.keys().next().unwrap();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        let t = 1_760_000_100;
        let mut seen = std::collections::BTreeSet::new();
        let mut failures = Vec::new();
        // Rendered as soon as made, as the simulator delivers them.
        let mut check = |w: &World, events: Vec<Event>| {
            for e in events {
                let body = crate::sim::webhooks::payloads::render(&u, w, &e).expect("renders");
                let action = body["action"].as_str().unwrap_or("").to_string();
                seen.insert(format!("{}.{action}", e.name));
                if let Err(errors) = crate::contract::webhooks::validate(&e.name, &body) {
                    failures.push(format!("{}.{action}: {errors:#?}", e.name));
                }
            }
        };
        let pull = NewPull {
            author: people[1].clone(),
            title: "Speed up".into(),
            body: String::new(),
            draft: false,
            commits: 2,
        };
        let (n, ev) = w.open_pull(repo_id, pull, t).unwrap();
        check(&w, ev);
        let ev = w.label_pull(repo_id, n, "hotfix", true, t).unwrap();
        check(&w, ev);
        let ev = w.label_pull(repo_id, n, "hotfix", false, t).unwrap();
        check(&w, ev);
        let ev = w
            .merge_pull_with(repo_id, n, &people[2], MergeMethod::Squash, t)
            .unwrap();
        check(&w, ev);
        let (_, ev) = w.open_revert(repo_id, n, &people[2], t).unwrap();
        check(&w, ev);
        let (d, ev) = w
            .create_deployment(repo_id, NewDeployment::default(), t)
            .unwrap();
        check(&w, ev);
        for s in DeployState::ALL {
            let ev = w
                .add_deployment_status(repo_id, d, s, None, "", None, t)
                .unwrap()
                .1;
            check(&w, ev);
        }
        let run = NewRun {
            name: "Deploy".into(),
            ..NewRun::default()
        };
        let (r, ev) = w.create_run(repo_id, run, t).unwrap();
        check(&w, ev);
        let ev = w.advance_run(r, None, t).unwrap();
        check(&w, ev);
        let ev = w.advance_run(r, Some("failure"), t).unwrap();
        check(&w, ev);
        for (tag, prerelease, draft) in [
            ("v1", false, false),
            ("v2-rc", true, false),
            ("v3", false, true),
        ] {
            let rel = NewRelease {
                tag: tag.into(),
                prerelease,
                draft,
                ..NewRelease::default()
            };
            let ev = w.publish_release(repo_id, rel, t).unwrap().1;
            check(&w, ev);
        }
        let issue = NewIssue {
            title: "Down".into(),
            labels: vec!["incident".into()],
            ..NewIssue::default()
        };
        let (i, ev) = w.open_issue(repo_id, issue, t).unwrap();
        check(&w, ev);
        let ev = w
            .edit_issue(repo_id, i, Some("Checkout down"), None, t)
            .unwrap();
        check(&w, ev);
        let ev = w.label_issue(repo_id, i, "sev1", true, t).unwrap();
        check(&w, ev);
        let ev = w.label_issue(repo_id, i, "sev1", false, t).unwrap();
        check(&w, ev);
        let ev = w.set_issue_open(repo_id, i, false, None, None, t).unwrap();
        check(&w, ev);
        let ev = w.set_issue_open(repo_id, i, true, None, None, t).unwrap();
        check(&w, ev);

        assert!(failures.is_empty(), "{}", failures.join("\n"));
        for want in [
            "deployment.created",
            "deployment_status.created",
            "workflow_run.requested",
            "workflow_run.in_progress",
            "workflow_run.completed",
            "release.created",
            "release.published",
            "release.released",
            "release.prereleased",
            "issues.opened",
            "issues.labeled",
            "issues.unlabeled",
            "issues.edited",
            "issues.closed",
            "issues.reopened",
            "pull_request.labeled",
            "pull_request.unlabeled",
        ] {
            assert!(seen.contains(want), "{want} not sent: {seen:?}");
        }
    }
}
