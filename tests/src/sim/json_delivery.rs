//! Delivery data in GitHub's REST shapes (shared with webhook payloads, which adjust them):
//! deployments and their statuses, workflow runs, releases, tags, comparisons, issues and
//! labels, field for field as in GitHub's OpenAPI examples.

use super::clock::iso;
use super::json::{Urls, node_id, repo, user};
use super::world::git::GitCommit;
use super::world::{
    Commit, Deployment, DeploymentStatus, Issue, Release, Repo, Tag, WorkflowRun, World,
};
use serde_json::{Value, json};

fn repo_api(u: &Urls, w: &World, r: &Repo) -> String {
    format!("{}/repos/{}", u.api, w.full_name(r))
}

fn user_of(u: &Urls, w: &World, id: u64) -> Value {
    w.accounts.get(&id).map_or(Value::Null, |a| user(u, a))
}

pub fn deployment(u: &Urls, w: &World, d: &Deployment) -> Value {
    let r = &w.repos[&d.repo_id];
    let api = repo_api(u, w, r);
    json!({
        "url": format!("{api}/deployments/{}", d.id),
        "id": d.id,
        "node_id": node_id("Deployment", d.id),
        "sha": d.sha,
        "ref": d.ref_name,
        "task": d.task,
        "payload": {},
        "original_environment": d.original_environment,
        "environment": d.environment(),
        "description": if d.description.is_empty() { Value::Null } else { json!(d.description) },
        "creator": user_of(u, w, d.creator_id),
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "statuses_url": format!("{api}/deployments/{}/statuses", d.id),
        "repository_url": api,
        "transient_environment": false,
        "production_environment": d.production(),
    })
}

pub fn deployment_status(u: &Urls, w: &World, d: &Deployment, s: &DeploymentStatus) -> Value {
    let r = &w.repos[&d.repo_id];
    let api = repo_api(u, w, r);
    json!({
        "url": format!("{api}/deployments/{}/statuses/{}", d.id, s.id),
        "id": s.id,
        "node_id": node_id("DeploymentStatus", s.id),
        "state": s.state.lower(),
        "creator": user_of(u, w, s.creator_id),
        "description": s.description,
        "environment": s.environment,
        // GitHub's default is "", which its own description (format `uri`) refuses: the
        // simulator, held to the description, points at the repository's deployments.
        "target_url": format!("{}/{}/deployments", u.web, w.full_name(r)),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
        "deployment_url": format!("{api}/deployments/{}", d.id),
        "repository_url": api,
    })
}

/// The commit a run was made for, as the run's `head_commit` describes it.
fn head_commit(w: &World, run: &WorkflowRun) -> Value {
    let c = find_commit(w, run.repo_id, &run.head_sha);
    let (message, at, name, email) = c.map_or_else(
        || (String::new(), run.created_at, String::new(), String::new()),
        |c| {
            (
                c.message.clone(),
                c.committed_at,
                c.author_name.clone(),
                c.author_email.clone(),
            )
        },
    );
    json!({
        "id": run.head_sha,
        "tree_id": super::world::sha_for(&format!("tree-{}", run.head_sha)),
        "message": message,
        "timestamp": iso(at),
        "author": { "name": name, "email": email },
        "committer": { "name": "GitHub", "email": "noreply@github.com" },
    })
}

/// A commit of a repository: its history's, else a pull request's.
pub fn find_commit<'w>(w: &'w World, repo_id: u64, sha: &str) -> Option<&'w Commit> {
    if let Some(c) = w.history(repo_id).and_then(|h| h.get(sha)) {
        return Some(&c.commit);
    }
    w.repo_pulls(repo_id)
        .flat_map(|p| &p.commits)
        .find(|c| c.sha == sha)
}

pub fn workflow_run(u: &Urls, w: &World, run: &WorkflowRun) -> Value {
    let r = &w.repos[&run.repo_id];
    let api = repo_api(u, w, r);
    let full = w.full_name(r);
    let runs = format!("{api}/actions/runs/{}", run.id);
    let actor = user_of(u, w, run.actor_id);
    // A run of a push to a pull request's branch lists the pull request; the default
    // branch's runs list none, as on GitHub.
    let pull_requests: Vec<Value> = w
        .repo_pulls(run.repo_id)
        .filter(|p| p.open && p.head_ref == run.head_branch)
        .map(|p| {
            json!({
                "id": p.id, "number": p.number, "url": format!("{api}/pulls/{}", p.number),
                "head": { "ref": p.head_ref, "sha": p.head_sha(),
                          "repo": { "id": r.id, "url": api, "name": r.name } },
                "base": { "ref": p.base_ref, "sha": w.history(r.id).map_or("", |h| h.head()),
                          "repo": { "id": r.id, "url": api, "name": r.name } },
            })
        })
        .collect();
    json!({
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "check_suite_id": run.id + 1,
        "check_suite_node_id": node_id("CheckSuite", run.id + 1),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "run_number": run.run_number,
        "event": run.event,
        "display_title": run.display_title,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": runs,
        "html_url": format!("{}/{full}/actions/runs/{}", u.web, run.id),
        "pull_requests": pull_requests,
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at),
        "actor": actor,
        "triggering_actor": actor,
        "run_attempt": run.run_attempt,
        "referenced_workflows": [],
        "run_started_at": iso(run.run_started_at),
        "jobs_url": format!("{runs}/jobs"),
        "logs_url": format!("{runs}/logs"),
        "check_suite_url": format!("{api}/check-suites/{}", run.id + 1),
        "artifacts_url": format!("{runs}/artifacts"),
        "cancel_url": format!("{runs}/cancel"),
        "rerun_url": format!("{runs}/rerun"),
        "previous_attempt_url": Value::Null,
        "workflow_url": format!("{api}/actions/workflows/{}", run.workflow_id),
        "head_commit": head_commit(w, run),
        "repository": repo(u, w, r),
        "head_repository": repo(u, w, r),
    })
}

pub fn release(u: &Urls, w: &World, rel: &Release) -> Value {
    let r = &w.repos[&rel.repo_id];
    let api = repo_api(u, w, r);
    let full = w.full_name(r);
    json!({
        "url": format!("{api}/releases/{}", rel.id),
        "html_url": format!("{}/{full}/releases/tag/{}", u.web, rel.tag_name),
        "assets_url": format!("{api}/releases/{}/assets", rel.id),
        "upload_url": format!("{}/repos/{full}/releases/{}/assets{{?name,label}}", u.api, rel.id),
        "tarball_url": format!("{api}/tarball/{}", rel.tag_name),
        "zipball_url": format!("{api}/zipball/{}", rel.tag_name),
        "id": rel.id,
        "node_id": node_id("Release", rel.id),
        "tag_name": rel.tag_name,
        "target_commitish": rel.target_commitish,
        "name": rel.name,
        "body": rel.body,
        "draft": rel.draft,
        "prerelease": rel.prerelease,
        "immutable": false,
        "created_at": iso(rel.created_at),
        "updated_at": iso(rel.published_at.unwrap_or(rel.created_at)),
        "published_at": rel.published_at.map(iso),
        "author": user_of(u, w, rel.author_id),
        "assets": [],
    })
}

/// A tag as `GET /repos/{owner}/{repo}/tags` lists it.
pub fn tag(u: &Urls, w: &World, t: &Tag) -> Value {
    let r = &w.repos[&t.repo_id];
    let api = repo_api(u, w, r);
    let full = w.full_name(r);
    json!({
        "name": t.name,
        "commit": { "sha": t.commit_sha, "url": format!("{api}/commits/{}", t.commit_sha) },
        "zipball_url": format!("{}/{full}/zipball/{}", u.web, t.name),
        "tarball_url": format!("{}/{full}/tarball/{}", u.web, t.name),
        "node_id": node_id("Ref", u64::from_str_radix(&t.commit_sha[..12], 16).unwrap_or(0)),
    })
}

/// A commit of the history with all its parents (the `commit` shape of compare and lists).
pub fn git_commit(u: &Urls, w: &World, r: &Repo, c: &GitCommit) -> Value {
    let mut v = super::json::commit(u, w, r, &c.commit, None);
    let api = repo_api(u, w, r);
    v["parents"] = c
        .parents
        .iter()
        .map(|sha| json!({ "url": format!("{api}/commits/{sha}"), "sha": sha, "html_url": format!("{}/{}/commit/{sha}", u.web, w.full_name(r)) }))
        .collect();
    v
}

pub fn label(u: &Urls, w: &World, repo_id: u64, name: &str) -> Value {
    let r = &w.repos[&repo_id];
    let Some(l) = w.labels.get(&(repo_id, name.to_lowercase())) else {
        return Value::Null;
    };
    json!({
        "id": l.id,
        "node_id": node_id("Label", l.id),
        "url": format!("{}/labels/{}", repo_api(u, w, r), l.name),
        "name": l.name,
        "description": l.description,
        "color": l.color,
        "default": false,
    })
}

/// An issue as REST lists it (`pull_request`: the pull request's links when it is one).
pub fn issue(u: &Urls, w: &World, i: &Issue) -> Value {
    let r = &w.repos[&i.repo_id];
    let api = repo_api(u, w, r);
    let full = w.full_name(r);
    let base = format!("{api}/issues/{}", i.number);
    json!({
        "id": i.id,
        "node_id": node_id("Issue", i.id),
        "url": base,
        "repository_url": api,
        "labels_url": format!("{base}/labels{{/name}}"),
        "comments_url": format!("{base}/comments"),
        "events_url": format!("{base}/events"),
        "html_url": format!("{}/{full}/issues/{}", u.web, i.number),
        "number": i.number,
        "state": if i.open { "open" } else { "closed" },
        "state_reason": i.state_reason,
        "title": i.title,
        "body": if i.body.is_empty() { Value::Null } else { json!(i.body) },
        "user": user_of(u, w, i.user_id),
        "labels": i.labels.iter().map(|l| label(u, w, i.repo_id, l)).collect::<Vec<_>>(),
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": 0,
        "closed_at": i.closed_at.map(iso),
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "closed_by": i.closed_by.map_or(Value::Null, |id| user_of(u, w, id)),
        "author_association": super::json::association(w, i.user_id),
        "reactions": {
            "url": format!("{base}/reactions"), "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
        },
    })
}

/// A pull request as the issues API lists it: an issue with a `pull_request` key.
pub fn pull_as_issue(u: &Urls, w: &World, p: &super::world::Pull) -> Value {
    let r = &w.repos[&p.repo_id];
    let full = w.full_name(r);
    let as_issue = Issue {
        id: p.id,
        repo_id: p.repo_id,
        number: p.number,
        title: p.title.clone(),
        body: p.body.clone(),
        user_id: p.user_id,
        open: p.open,
        state_reason: (!p.open).then(|| "completed".to_string()),
        labels: p.labels.clone(),
        created_at: p.created_at,
        updated_at: p.updated_at,
        closed_at: p.closed_at,
        closed_by: p.merged_by,
    };
    let mut v = issue(u, w, &as_issue);
    // A pull request's issue has an id of its own on GitHub; the simulator reuses the pull
    // request's (they never meet: different kinds, different endpoints).
    v["html_url"] = json!(format!("{}/{full}/pull/{}", u.web, p.number));
    v["draft"] = json!(p.draft);
    v["pull_request"] = json!({
        "url": format!("{}/repos/{full}/pulls/{}", u.api, p.number),
        "html_url": format!("{}/{full}/pull/{}", u.web, p.number),
        "diff_url": format!("{}/{full}/pull/{}.diff", u.web, p.number),
        "patch_url": format!("{}/{full}/pull/{}.patch", u.web, p.number),
        "merged_at": p.merged_at.map(iso),
    });
    v
}
