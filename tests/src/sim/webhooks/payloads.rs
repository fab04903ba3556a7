//! Webhook bodies in GitHub's shapes, field for field as in `@octokit/webhooks-examples`:
//! `pull_request`, `pull_request_review`, `push`, `repository`, `member` and `ping`, and for
//! organization hooks `organization` and their `ping`. Every repository hook's body has
//! `repository`, `organization` (the simulator's repositories all belong to its org) and
//! `sender`; an organization hook's has no `repository`.
//!
//! Where webhooks differ from REST: a review's `state` is lowercase and its `body` is null when
//! empty; the pull request inside a `pull_request_review` body has no `merged`, `additions`,
//! `deletions` (the REST list shape); repositories carry no `permissions`; and `push` renders its
//! repository the old way (`created_at`/`pushed_at` as Unix integers, `url` on the web host,
//! owner with `name`/`email`).

use crate::sim::clock::iso;
use crate::sim::json::{self, Urls};
use crate::sim::world::{Account, Commit, Event, ORG_LEVEL, Pull, Repo, World};
use serde_json::{Value, json};

/// GitHub lists at most this many commits in a `push` body (the compare API has the rest).
pub const PUSH_COMMITS_CAP: usize = 2048;

/// What GitHub says in a `ping`.
const ZEN: &[&str] = &[
    "Design for failure.",
    "Keep it logically awesome.",
    "Speak like a human.",
    "Half measures are as bad as nothing at all.",
    "Anything added dilutes everything else.",
    "Mind your words, they are important.",
    "Non-blocking is better than blocking.",
    "Favor focus over features.",
    "Approachable is better than simple.",
    "Practicality beats purity.",
    "Avoid administrative distraction.",
    "Encourage flow.",
    "Responsive is better than fast.",
    "It's not fully shipped until it's fast.",
];

/// The body for `event`, or None when what it names is gone (a pull request of a deleted repo).
pub fn render(u: &Urls, w: &World, event: &Event) -> Option<Value> {
    if event.repo_id == ORG_LEVEL {
        return org_level(u, w, event);
    }
    let repo = w
        .repos
        .get(&event.repo_id)
        .or_else(|| w.deleted_repos.get(&event.repo_id))?;
    let p = &event.payload;
    let action = p["action"].as_str().unwrap_or_default();
    let mut body = match event.name.as_str() {
        "pull_request" => {
            let pull = w.pull(repo.id, p["number"].as_u64()?).ok()?;
            let mut b = json!({
                "action": action,
                "number": pull.number,
                "pull_request": pull_request(u, w, pull, true),
            });
            for key in ["before", "after", "changes"] {
                if !p[key].is_null() {
                    b[key] = p[key].clone();
                }
            }
            if let Some(l) = p["label"].as_str() {
                b["label"] = crate::sim::json_delivery::label(u, w, repo.id, l);
            }
            with_sender(b, u, w, p["sender_id"].as_u64())
        }
        "deployment" | "deployment_status" | "workflow_run" | "release" | "issues" => {
            let (b, sender) = super::delivery::render(u, w, repo, &event.name, p)?;
            with_sender(b, u, w, Some(sender))
        }
        "pull_request_review" => {
            let pull = w.pull(repo.id, p["number"].as_u64()?).ok()?;
            let review_id = p["review_id"].as_u64()?;
            let rv = pull.reviews.iter().find(|r| r.id == review_id)?;
            let mut review = json::review(u, w, pull, rv);
            review["state"] = Value::String(rv.state.lower().into());
            if rv.body.is_empty() {
                review["body"] = Value::Null;
            }
            let b = json!({
                "action": action,
                "review": review,
                "pull_request": pull_request(u, w, pull, false),
            });
            // Submitted by the reviewer; dismissed by an admin (the viewer, in the simulator).
            let sender = if action == "submitted" {
                rv.user_id
            } else {
                w.viewer_id
            };
            with_sender(b, u, w, Some(sender))
        }
        "push" => push(u, w, repo, p)?,
        "repository" => {
            let mut b = json!({ "action": action });
            if let Some(from) = p["renamed_from"].as_str() {
                b["changes"] = json!({ "repository": { "name": { "from": from } } });
            }
            with_sender(b, u, w, None)
        }
        "member" => {
            let member = w.accounts.get(&p["member_id"].as_u64()?)?;
            let mut b = json!({ "action": action, "member": json::user(u, member) });
            if action == "added" {
                let to = if p["role"] == "admin" {
                    "admin"
                } else {
                    "write"
                };
                b["changes"] = json!({ "permission": { "to": to } });
            }
            with_sender(b, u, w, None)
        }
        "ping" => {
            let hook_id = p["hook_id"].as_u64()?;
            let hook = w.hooks.get(&hook_id)?;
            let zen = ZEN[(hook_id as usize) % ZEN.len()];
            let b = json!({ "zen": zen, "hook_id": hook_id, "hook": json::hook(u, w, hook) });
            with_sender(b, u, w, p["sender_id"].as_u64())
        }
        _ => {
            // Anything else: what the world said, in the common frame.
            with_sender(p.clone(), u, w, p["sender_id"].as_u64())
        }
    };
    if event.name != "push" {
        body["repository"] = repository(u, w, repo);
    }
    body["organization"] = json::org_simple(u, w);
    Some(body)
}

/// An organization hook's body: `organization` (`member_added`, `member_removed`) or its
/// `ping`. No `repository`; `organization` and `sender` as always.
fn org_level(u: &Urls, w: &World, event: &Event) -> Option<Value> {
    let p = &event.payload;
    let mut body = match event.name.as_str() {
        "organization" => {
            let member = w.accounts.get(&p["member_id"].as_u64()?)?;
            let org = w.org();
            json!({
                "action": p["action"],
                "membership": {
                    "url": format!("{}/orgs/{}/memberships/{}", u.api, org.login, member.login),
                    "state": "active",
                    "role": p["role"].as_str().unwrap_or("member"),
                    "organization_url": format!("{}/orgs/{}", u.api, org.login),
                    "user": json::user(u, member),
                },
            })
        }
        "ping" => {
            let hook_id = p["hook_id"].as_u64()?;
            let hook = w.org_hooks.get(&hook_id)?;
            let zen = ZEN[(hook_id as usize) % ZEN.len()];
            json!({ "zen": zen, "hook_id": hook_id, "hook": json::org_hook(u, w, hook) })
        }
        _ => p.clone(),
    };
    body["organization"] = json::org_simple(u, w);
    Some(with_sender(body, u, w, p["sender_id"].as_u64()))
}

/// `sender`: the account (the viewer when the event does not say who).
fn with_sender(mut b: Value, u: &Urls, w: &World, sender: Option<u64>) -> Value {
    let id = sender
        .filter(|id| w.accounts.contains_key(id))
        .unwrap_or(w.viewer_id);
    b["sender"] = json::user(u, w.account(id));
    b
}

/// A repository as webhooks show it: the REST shape without `permissions` (they are the caller's,
/// and a webhook has no caller), with `license` and `custom_properties`.
pub fn repository(u: &Urls, w: &World, r: &Repo) -> Value {
    let mut v = json::repo(u, w, r);
    adapt_repo(&mut v);
    v
}

fn adapt_repo(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("permissions");
        m.entry("license").or_insert(Value::Null);
        m.entry("custom_properties").or_insert_with(|| json!({}));
    }
}

/// The pull request in a `pull_request` (`full`) or `pull_request_review` (list shape) body,
/// its branches' repositories in webhook shape.
pub fn pull_request(u: &Urls, w: &World, p: &Pull, full: bool) -> Value {
    let mut v = json::pull(u, w, p, full);
    for side in ["head", "base"] {
        adapt_repo(&mut v[side]["repo"]);
    }
    v
}

/// The e-mail GitHub shows for an account: its public one, else its noreply address.
fn email_of(a: &Account) -> String {
    a.email
        .clone()
        .unwrap_or_else(|| format!("{}+{}@users.noreply.github.com", a.id, a.login))
}

fn push(u: &Urls, w: &World, repo: &Repo, p: &Value) -> Option<Value> {
    let full_name = w.full_name(repo);
    let web = format!("{}/{full_name}", u.web);
    let before = p["before"].as_str()?.to_string();
    let after = p["after"].as_str()?.to_string();
    let zeros = "0".repeat(40);
    let shas: Vec<&str> = p["commit_shas"]
        .as_array()?
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    // The commits live on a pull request's branch: find them there.
    let found: Vec<&Commit> = shas
        .iter()
        .filter_map(|sha| {
            w.repo_pulls(repo.id)
                .flat_map(|pr| pr.commits.iter())
                .find(|c| c.sha == *sha)
        })
        .collect();
    let commit_json = |c: &Commit| {
        let username = c
            .author_user_id
            .and_then(|id| w.accounts.get(&id))
            .map(|a| a.login.clone());
        let person =
            json!({ "name": c.author_name, "email": c.author_email, "username": username });
        json!({
            "id": c.sha,
            "tree_id": crate::sim::world::sha_for(&format!("tree-{}", c.sha)),
            "distinct": true,
            "message": c.message,
            "timestamp": iso(c.committed_at),
            "url": format!("{web}/commit/{}", c.sha),
            "author": person,
            "committer": person,
            "added": [],
            "removed": [],
            "modified": [format!("src/{}.rs", &c.sha[..8])],
        })
    };
    // More than the cap: GitHub lists only part; we keep the newest, head commit included.
    let skip = found.len().saturating_sub(PUSH_COMMITS_CAP);
    let commits: Vec<Value> = found.iter().skip(skip).map(|c| commit_json(c)).collect();
    let head_commit = found
        .iter()
        .find(|c| c.sha == after)
        .map(|c| commit_json(c))
        .unwrap_or(Value::Null);
    let pusher_id = p["pusher_id"]
        .as_u64()
        .filter(|id| w.accounts.contains_key(id));
    let pusher = w.account(pusher_id.unwrap_or(w.viewer_id));
    let short = |s: &str| s[..s.len().min(12)].to_string();
    let ref_name = p["ref"].as_str()?.to_string();
    let compare = if before == zeros {
        format!(
            "{web}/compare/{}",
            ref_name.rsplit('/').next().unwrap_or("")
        )
    } else {
        format!("{web}/compare/{}...{}", short(&before), short(&after))
    };
    let b = json!({
        "ref": ref_name,
        "before": before,
        "after": after,
        "created": before == zeros,
        "deleted": after == zeros,
        "forced": false,
        "base_ref": null,
        "compare": compare,
        "commits": commits,
        "head_commit": head_commit,
        "pusher": { "name": pusher.login, "email": email_of(pusher) },
        "repository": push_repository(u, w, repo),
    });
    Some(with_sender(b, u, w, pusher_id))
}

/// The repository in a `push` body: GitHub still renders it the old way.
pub fn push_repository(u: &Urls, w: &World, r: &Repo) -> Value {
    let mut v = repository(u, w, r);
    let org = w.org();
    v["created_at"] = json!(r.created_at);
    v["pushed_at"] = json!(r.pushed_at);
    v["url"] = v["html_url"].clone();
    v["owner"]["name"] = json!(org.login);
    v["owner"]["email"] = Value::Null;
    v["stargazers"] = v["stargazers_count"].clone();
    v["master_branch"] = json!(r.default_branch);
    v["organization"] = json!(org.login);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{OrgSpec, generate};
    use crate::sim::world::{NewPull, ReviewState};

    fn world() -> (Urls, World) {
        let spec = OrgSpec {
            repos: 2,
            prs_per_repo: 2,
            members: 4,
            now: 1_760_000_000,
            ..OrgSpec::default()
        };
        let urls = Urls {
            web: "http://sim".into(),
            api: "http://sim".into(),
        };
        (urls, generate(&spec))
    }

    fn people(w: &World) -> Vec<String> {
        w.members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect()
    }

    fn open(w: &mut World, repo_id: u64, author: &str) -> (u64, Vec<Event>) {
        let spec = NewPull {
            author: author.into(),
            title: "t".into(),
            body: String::new(),
            draft: false,
            commits: 1,
        };
        w.open_pull(repo_id, spec, 1_760_000_100).unwrap()
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    }

    #[test]
    fn every_kind_renders_with_repository_organization_and_sender() {
        let (u, mut w) = world();
        let repo_id = *w.repos.keys().next().unwrap();
        let p = people(&w);
        let mut events = Vec::new();
        let (n, ev) = open(&mut w, repo_id, &p[1]);
        events.extend(ev);
        events.extend(w.push_commits(repo_id, n, 2, None, 1_760_000_200).unwrap());
        let (rid, ev) = w
            .submit_review(repo_id, n, &p[2], ReviewState::Approved, "", 1_760_000_300)
            .unwrap();
        // Rendered when dispatched, right after the change.
        let review = render(&u, &w, &ev[0]).unwrap();
        assert_eq!(review["review"]["state"], "approved");
        assert!(review["pull_request"].get("merged").is_none());
        events.extend(ev);
        events.extend(w.dismiss_review(repo_id, n, rid, 1_760_000_400).unwrap());
        events.extend(w.merge_pull(repo_id, n, &p[0], 1_760_000_500).unwrap());
        let newcomer = w
            .add_member("newcomer", crate::sim::world::OrgRole::Member, 0)
            .unwrap();
        // An org member added: the org's hooks hear of it, no repository's.
        assert!(
            newcomer.iter().all(|e| e.repo_id == ORG_LEVEL),
            "{newcomer:?}"
        );
        let org = render(&u, &w, &newcomer[0]).unwrap();
        assert_eq!(
            keys(&org),
            ["action", "membership", "organization", "sender"]
        );
        assert_eq!(org["action"], "member_added");
        assert_eq!(org["membership"]["user"]["login"], "newcomer");
        events.extend(w.add_collaborator(repo_id, "newcomer", false).unwrap());
        events.extend(w.rename_repo(repo_id, "other-name", 1_760_000_600).unwrap());
        for e in events.iter().filter(|e| e.repo_id == repo_id) {
            let b = render(&u, &w, e).unwrap_or_else(|| panic!("{} renders", e.name));
            for common in ["repository", "organization", "sender"] {
                assert!(b.get(common).is_some(), "{} has {common}", e.name);
            }
            assert!(b["repository"].get("permissions").is_none());
        }
        let dismissed = render(&u, &w, &events[4]).unwrap();
        assert_eq!(dismissed["action"], "dismissed");
        assert_eq!(dismissed["review"]["state"], "dismissed");
        let merged = render(&u, &w, &events[5]).unwrap();
        assert_eq!(merged["pull_request"]["merged"], true);
        assert_eq!(merged["sender"]["login"], p[0].as_str());
        let renamed = render(&u, &w, events.last().unwrap()).unwrap();
        assert_eq!(
            keys(&renamed),
            ["action", "changes", "organization", "repository", "sender"]
        );
    }

    #[test]
    fn push_lists_at_most_2048_commits_and_keeps_the_head() {
        let (u, mut w) = world();
        let repo_id = *w.repos.keys().next().unwrap();
        let p = people(&w);
        let (n, _) = open(&mut w, repo_id, &p[1]);
        let events = w
            .push_commits(repo_id, n, 2_100, None, 1_760_000_200)
            .unwrap();
        let push = render(&u, &w, &events[0]).unwrap();
        let commits = push["commits"].as_array().unwrap();
        assert_eq!(commits.len(), PUSH_COMMITS_CAP);
        assert_eq!(commits.last().unwrap()["id"], push["after"]);
        assert_eq!(push["head_commit"]["id"], push["after"]);
        assert!(push["repository"]["created_at"].is_i64());
    }

    #[test]
    fn a_deleted_repository_is_still_described() {
        let (u, mut w) = world();
        let repo_id = *w.repos.keys().next().unwrap();
        let name = w.repos[&repo_id].name.clone();
        let (_, events) = w.delete_repo(repo_id).unwrap();
        let b = render(&u, &w, &events[0]).unwrap();
        assert_eq!(b["action"], "deleted");
        assert_eq!(b["repository"]["name"], name.as_str());
        // A pull request of a repository that is gone renders nothing.
        let gone = Event {
            name: "pull_request".into(),
            repo_id,
            payload: json!({ "action": "opened", "number": 1 }),
        };
        assert!(render(&u, &w, &gone).is_none());
    }
}
