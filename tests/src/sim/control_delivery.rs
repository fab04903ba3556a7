//! `/_sim/repos/{name}/...` levers for delivery data, and its part of the truth. Each change
//! sends the webhooks GitHub would (the caller emits the returned events).
//!
//! - `POST deployments` `{ref?, environment?, task?, description?, creator?}` → `{id, sha}`
//!   (no `ref`: the default branch's head); `POST deployments/{id}/statuses`
//!   `{state, environment?, description?, creator?}` → `{id}`
//! - `POST runs` `{name, branch?, sha?, event?, path?, actor?, conclusion?}` → `{id, sha}`
//!   (with `conclusion`: started and completed at once); `POST runs/{id}/start`,
//!   `POST runs/{id}/complete` `{conclusion}`
//! - `POST releases` `{tag, target?, name?, body?, draft?, prerelease?, author?}` → `{id}`;
//!   `POST tags` `{name, target?, message?, tagger?}` → `{sha}` (annotated with `message`)
//! - `POST issues` `{title, body?, labels?, author?}` → `{number}`; `POST issues/{n}/close`
//!   `{reason?, by?}`, `reopen`, `label` / `unlabel` `{label}`, `edit` `{title?, body?}`
//! - `POST pulls/{n}/merge` takes `method` (`merge` | `squash`); `POST pulls/{n}/revert`
//!   `{by?}` → `{number}`; `POST pulls/{n}/label` / `unlabel` `{label}`

use super::clock::iso;
use super::world::{
    DeployState, Event, MergeMethod, NewDeployment, NewIssue, NewRelease, NewRun, World, WorldError,
};
use serde_json::{Value, json};

type Outcome = Result<(Value, Vec<Event>), WorldError>;

fn s(f: &Value, key: &str) -> Option<String> {
    f.get(key).and_then(Value::as_str).map(String::from)
}

fn required(f: &Value, key: &str) -> Result<String, WorldError> {
    s(f, key).ok_or_else(|| WorldError::Invalid(format!("{key} is required")))
}

fn number(n: &str, what: &str) -> Result<u64, WorldError> {
    n.parse()
        .map_err(|_| WorldError::NotFound(format!("{what} {n}")))
}

/// A delivery lever of repository `repo_id`, or None when `rest` is not one.
pub fn mutation(
    w: &mut World,
    method: &str,
    repo_id: u64,
    rest: &[&str],
    f: &Value,
    t: i64,
) -> Option<Outcome> {
    let none = || json!({});
    let out = match (method, rest) {
        ("POST", ["deployments"]) => (|| {
            let spec = NewDeployment {
                git_ref: s(f, "ref"),
                environment: s(f, "environment").unwrap_or_default(),
                task: s(f, "task").unwrap_or_default(),
                description: s(f, "description").unwrap_or_default(),
                creator: s(f, "creator"),
            };
            let (id, ev) = w.create_deployment(repo_id, spec, t)?;
            Ok((json!({ "id": id, "sha": w.deployments[&id].sha }), ev))
        })(),
        ("POST", ["deployments", id, "statuses"]) => (|| {
            let id = number(id, "deployment")?;
            let state = required(f, "state")?;
            let state = DeployState::parse(&state)
                .ok_or_else(|| WorldError::Invalid(format!("state: not {state}")))?;
            let (sid, ev) = w.add_deployment_status(
                repo_id,
                id,
                state,
                s(f, "environment"),
                &s(f, "description").unwrap_or_default(),
                s(f, "creator").as_deref(),
                t,
            )?;
            Ok((json!({ "id": sid }), ev))
        })(),
        ("POST", ["runs"]) => (|| {
            let spec = NewRun {
                name: required(f, "name")?,
                path: s(f, "path"),
                branch: s(f, "branch"),
                sha: s(f, "sha"),
                event: s(f, "event"),
                actor: s(f, "actor"),
            };
            let (id, mut ev) = w.create_run(repo_id, spec, t)?;
            if let Some(c) = s(f, "conclusion") {
                ev.extend(w.advance_run(id, None, t)?);
                ev.extend(w.advance_run(id, Some(&c), t)?);
            }
            Ok((json!({ "id": id, "sha": w.runs[&id].head_sha }), ev))
        })(),
        ("POST", ["runs", id, action]) => (|| {
            let id = number(id, "workflow run")?;
            if w.runs.get(&id).is_none_or(|r| r.repo_id != repo_id) {
                return Err(WorldError::NotFound(format!("workflow run {id}")));
            }
            let ev = match *action {
                "start" => w.advance_run(id, None, t)?,
                "complete" => {
                    let mut ev = Vec::new();
                    if w.runs[&id].status == "requested" {
                        ev.extend(w.advance_run(id, None, t)?);
                    }
                    ev.extend(w.advance_run(id, Some(&required(f, "conclusion")?), t)?);
                    ev
                }
                other => return Err(WorldError::Invalid(format!("unknown run action {other}"))),
            };
            Ok((none(), ev))
        })(),
        ("POST", ["releases"]) => (|| {
            let spec = NewRelease {
                tag: required(f, "tag")?,
                target: s(f, "target"),
                name: s(f, "name"),
                body: s(f, "body").unwrap_or_default(),
                draft: f["draft"].as_bool().unwrap_or(false),
                prerelease: f["prerelease"].as_bool().unwrap_or(false),
                author: s(f, "author"),
            };
            let (id, ev) = w.publish_release(repo_id, spec, t)?;
            Ok((json!({ "id": id }), ev))
        })(),
        ("POST", ["tags"]) => (|| {
            let name = required(f, "name")?;
            let tag = w.push_tag(
                repo_id,
                &name,
                s(f, "target").as_deref(),
                s(f, "message").as_deref(),
                s(f, "tagger").as_deref(),
                t,
            )?;
            Ok((json!({ "sha": tag.commit_sha }), Vec::new()))
        })(),
        ("POST", ["issues"]) => (|| {
            let labels = f["labels"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let spec = NewIssue {
                author: s(f, "author"),
                title: required(f, "title")?,
                body: s(f, "body").unwrap_or_default(),
                labels,
            };
            let (n, ev) = w.open_issue(repo_id, spec, t)?;
            Ok((json!({ "number": n }), ev))
        })(),
        ("POST", ["issues", n, action]) => (|| {
            let n = number(n, "issue")?;
            let ev = match *action {
                "close" => w.set_issue_open(
                    repo_id,
                    n,
                    false,
                    s(f, "reason").as_deref(),
                    s(f, "by").as_deref(),
                    t,
                )?,
                "reopen" => w.set_issue_open(repo_id, n, true, None, s(f, "by").as_deref(), t)?,
                "label" => w.label_issue(repo_id, n, &required(f, "label")?, true, t)?,
                "unlabel" => w.label_issue(repo_id, n, &required(f, "label")?, false, t)?,
                "edit" => w.edit_issue(
                    repo_id,
                    n,
                    s(f, "title").as_deref(),
                    s(f, "body").as_deref(),
                    t,
                )?,
                other => return Err(WorldError::Invalid(format!("unknown issue action {other}"))),
            };
            Ok((none(), ev))
        })(),
        ("POST", ["pulls", n, "merge"]) => (|| {
            let n = number(n, "pull request")?;
            let by = s(f, "by").unwrap_or_else(|| w.account(w.viewer_id).login.clone());
            let method = match s(f, "method") {
                None => MergeMethod::Merge,
                Some(m) => MergeMethod::parse(&m)
                    .ok_or_else(|| WorldError::Invalid("method: merge or squash".into()))?,
            };
            let ev = w.merge_pull_with(repo_id, n, &by, method, t)?;
            let sha = w.pull(repo_id, n)?.merge_commit_sha.clone();
            Ok((json!({ "sha": sha }), ev))
        })(),
        ("POST", ["pulls", n, "revert"]) => (|| {
            let n = number(n, "pull request")?;
            let by = s(f, "by").unwrap_or_else(|| w.account(w.viewer_id).login.clone());
            let (number, ev) = w.open_revert(repo_id, n, &by, t)?;
            Ok((json!({ "number": number }), ev))
        })(),
        ("POST", ["pulls", n, action @ ("label" | "unlabel")]) => (|| {
            let n = number(n, "pull request")?;
            let ev = w.label_pull(repo_id, n, &required(f, "label")?, *action == "label", t)?;
            Ok((none(), ev))
        })(),
        _ => return None,
    };
    Some(out)
}

/// Delivery data for `truth`: deployments with their statuses, runs, releases, tags, issues
/// and each repository's default branch (its head and first-parent chain, oldest first).
pub fn truth(w: &World) -> Value {
    let deployments: Vec<Value> = w
        .deployments
        .values()
        .map(|d| {
            json!({
                "id": d.id, "repo_id": d.repo_id, "sha": d.sha, "ref": d.ref_name, "task": d.task,
                "environment": d.environment(), "original_environment": d.original_environment,
                "creator_id": d.creator_id, "created_at": d.created_at, "updated_at": d.updated_at,
                "statuses": d.statuses.iter().map(|s| json!({
                    "id": s.id, "state": s.state.lower(), "environment": s.environment,
                    "created_at": s.created_at, "creator_id": s.creator_id,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let runs: Vec<Value> = w
        .runs
        .values()
        .map(|r| {
            json!({
                "id": r.id, "repo_id": r.repo_id, "name": r.name, "path": r.path,
                "head_branch": r.head_branch, "head_sha": r.head_sha, "event": r.event,
                "status": r.status, "conclusion": r.conclusion, "run_attempt": r.run_attempt,
                "run_number": r.run_number, "created_at": r.created_at, "updated_at": r.updated_at,
                "run_started_at": r.run_started_at, "display_title": r.display_title,
            })
        })
        .collect();
    let releases: Vec<Value> = w
        .releases
        .values()
        .map(|r| {
            let sha = w
                .tags
                .get(&(r.repo_id, r.tag_name.clone()))
                .map(|t| &t.commit_sha);
            json!({
                "id": r.id, "repo_id": r.repo_id, "tag_name": r.tag_name, "name": r.name,
                "draft": r.draft, "prerelease": r.prerelease, "created_at": r.created_at,
                "published_at": r.published_at, "tag_commit": sha,
            })
        })
        .collect();
    let tags: Vec<Value> = w
        .tags
        .values()
        .map(|t| {
            json!({
                "repo_id": t.repo_id, "name": t.name, "commit_sha": t.commit_sha,
                "annotated": t.annotated.is_some(),
                "tagger_date": t.annotated.as_ref().map(|a| a.tagged_at),
            })
        })
        .collect();
    let issues: Vec<Value> = w
        .issues
        .values()
        .map(|i| {
            json!({
                "id": i.id, "repo_id": i.repo_id, "number": i.number, "title": i.title,
                "body": i.body, "state": if i.open { "OPEN" } else { "CLOSED" },
                "labels": i.labels, "author_id": i.user_id, "created_at": i.created_at,
                "updated_at": i.updated_at, "closed_at": i.closed_at,
            })
        })
        .collect();
    let branches: Vec<Value> = w
        .git
        .iter()
        .map(|(repo_id, h)| {
            json!({
                "repo_id": repo_id,
                "head": h.head(),
                "mainline": h.mainline.iter().map(|(at, sha)| json!({ "sha": sha, "at": iso(*at) })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "deployments": deployments,
        "runs": runs,
        "releases": releases,
        "tags": tags,
        "issues": issues,
        "default_branches": branches,
    })
}
