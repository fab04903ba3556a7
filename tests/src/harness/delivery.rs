//! One-line levers on the simulator's delivery data for end-to-end tests (issue 17), each a
//! `/_sim/repos/{repo}/...` call (see `sim::control_delivery`) that sends GitHub's webhooks.
//! `repo` is the repository's name in the simulated org.

use super::sim_control;
use crate::sim::Sim;
use serde_json::{Value, json};

fn id(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

fn sha(v: &Value) -> String {
    v["sha"]
        .as_str()
        .unwrap_or_else(|| panic!("no sha in {v}"))
        .to_string()
}

/// Merge pull request `number` with `method` (`merge` or `squash`): its merge commit's sha.
pub fn merge_pr(sim: &Sim, repo: &str, number: u64, method: &str) -> String {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/pulls/{number}/merge"),
        json!({ "method": method }),
    );
    sha(&v)
}

/// GitHub's Revert button on merged pull request `number`: the revert pull request's number.
pub fn revert_pr(sim: &Sim, repo: &str, number: u64) -> u64 {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/pulls/{number}/revert"),
        json!({}),
    );
    id(&v, "number")
}

pub fn label_pr(sim: &Sim, repo: &str, number: u64, label: &str) {
    sim_control(
        sim,
        &format!("/_sim/repos/{repo}/pulls/{number}/label"),
        json!({ "label": label }),
    );
}

/// A deployment of `git_ref` (None: the default branch's head) to `environment`: (id, sha).
pub fn deploy(sim: &Sim, repo: &str, git_ref: Option<&str>, environment: &str) -> (u64, String) {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/deployments"),
        json!({ "ref": git_ref, "environment": environment }),
    );
    (id(&v, "id"), sha(&v))
}

/// A status (`success`, `failure`, `error`, `in_progress`, ...) of deployment `id`: its id.
pub fn deployment_status(sim: &Sim, repo: &str, deployment: u64, state: &str) -> u64 {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/deployments/{deployment}/statuses"),
        json!({ "state": state }),
    );
    id(&v, "id")
}

/// A workflow run `name` on `branch` (None: the default branch) at its head, completed with
/// `conclusion` when given: (id, sha).
pub fn workflow_run(
    sim: &Sim,
    repo: &str,
    name: &str,
    branch: Option<&str>,
    conclusion: Option<&str>,
) -> (u64, String) {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/runs"),
        json!({ "name": name, "branch": branch, "conclusion": conclusion }),
    );
    (id(&v, "id"), sha(&v))
}

pub fn complete_run(sim: &Sim, repo: &str, run: u64, conclusion: &str) {
    sim_control(
        sim,
        &format!("/_sim/repos/{repo}/runs/{run}/complete"),
        json!({ "conclusion": conclusion }),
    );
}

/// Publish release `tag` (the tag made at the default branch's head if new): its id.
pub fn release(sim: &Sim, repo: &str, tag: &str) -> u64 {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/releases"),
        json!({ "tag": tag }),
    );
    id(&v, "id")
}

/// Push tag `name` at `target` (None: the default branch's head), annotated with `message`
/// when given: the commit's sha.
pub fn push_tag(
    sim: &Sim,
    repo: &str,
    name: &str,
    target: Option<&str>,
    message: Option<&str>,
) -> String {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/tags"),
        json!({ "name": name, "target": target, "message": message }),
    );
    sha(&v)
}

/// Open an issue with `labels`: its number.
pub fn open_issue(sim: &Sim, repo: &str, title: &str, labels: &[&str]) -> u64 {
    let v = sim_control(
        sim,
        &format!("/_sim/repos/{repo}/issues"),
        json!({ "title": title, "labels": labels }),
    );
    id(&v, "number")
}

pub fn close_issue(sim: &Sim, repo: &str, number: u64) {
    sim_control(
        sim,
        &format!("/_sim/repos/{repo}/issues/{number}/close"),
        json!({}),
    );
}

pub fn label_issue(sim: &Sim, repo: &str, number: u64, label: &str) {
    sim_control(
        sim,
        &format!("/_sim/repos/{repo}/issues/{number}/label"),
        json!({ "label": label }),
    );
}
