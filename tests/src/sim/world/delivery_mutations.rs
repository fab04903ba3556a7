//! Mutations of delivery data: merges into the default branch's history, reverts, labels,
//! deployments and their statuses, workflow runs, releases and tags (issues: `issue_mutations.rs`). Each returns the
//! webhook events GitHub would send; `webhooks/payloads.rs` renders them when delivered.

use super::delivery::{
    DeployState, Deployment, DeploymentStatus, Label, MergeMethod, Release, Tag, TagObject,
    WorkflowRun, label_color,
};
use super::git::History;
use super::{Commit, Event, IdKind, Pull, TimelineEvent, TimelineKind, World, WorldError};
use super::{WorldResult, new_commit, sha_for};
use serde_json::json;

/// What the control API needs to create a deployment.
#[derive(Debug, Clone, Default)]
pub struct NewDeployment {
    /// A branch, a tag or a sha; None: the default branch (its head).
    pub git_ref: Option<String>,
    pub environment: String,
    pub task: String,
    pub description: String,
    /// Login; None: the viewer.
    pub creator: Option<String>,
}

/// What the control API needs to start a workflow run.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub name: String,
    /// The workflow file; None: `.github/workflows/<name in lower case, dashed>.yml`.
    pub path: Option<String>,
    /// None: the default branch.
    pub branch: Option<String>,
    /// None: the branch's head.
    pub sha: Option<String>,
    /// None: `push`.
    pub event: Option<String>,
    pub actor: Option<String>,
}

/// What the control API needs to publish a release.
#[derive(Debug, Clone, Default)]
pub struct NewRelease {
    pub tag: String,
    /// The branch or sha the tag is made from when it does not exist (None: default branch).
    pub target: Option<String>,
    pub name: Option<String>,
    pub body: String,
    pub draft: bool,
    pub prerelease: bool,
    pub author: Option<String>,
}

pub(super) fn invalid(why: impl Into<String>) -> WorldError {
    WorldError::Invalid(why.into())
}

impl World {
    /// A repository's history, made (with its first commit) when first needed.
    pub fn history_mut(&mut self, repo_id: u64) -> WorldResult<&mut History> {
        let repo = self
            .repos
            .get(&repo_id)
            .ok_or_else(|| WorldError::NotFound(format!("repository {repo_id}")))?;
        let at = repo.created_at;
        let owner = self.org().login.clone();
        Ok(self.git.entry(repo_id).or_insert_with(|| {
            History::new(Commit {
                sha: sha_for(&format!("root-{repo_id}")),
                message: "Initial commit".into(),
                author_name: owner,
                author_email: "noreply@github.com".into(),
                author_user_id: None,
                authored_at: at,
                committed_at: at,
                additions: 1,
                deletions: 0,
            })
        }))
    }

    /// The commit a merge puts on the default branch: a merge commit by the merger, or the
    /// squash of the pull request's commits by its author.
    fn merge_commit(&self, p: &Pull, by: u64, method: MergeMethod, at: i64) -> Commit {
        let (message, who) = match method {
            MergeMethod::Merge => (
                format!(
                    "Merge pull request #{} from {}/{}\n\n{}",
                    p.number,
                    self.org().login,
                    p.head_ref,
                    p.title
                ),
                by,
            ),
            MergeMethod::Squash => {
                let list: Vec<String> = p
                    .commits
                    .iter()
                    .map(|c| format!("* {}", c.message))
                    .collect();
                (
                    format!("{} (#{})\n\n{}", p.title, p.number, list.join("\n\n")),
                    p.user_id,
                )
            }
        };
        let mut c = new_commit(
            self.account(who),
            &format!("merge-{}", p.id),
            at,
            p.additions(),
            p.deletions(),
        );
        c.sha = p
            .merge_commit_sha
            .clone()
            .unwrap_or_else(|| sha_for(&format!("merge-{}", p.id)));
        c.message = message;
        c
    }

    /// Put a merged pull request on its repository's default branch.
    pub(super) fn record_merge(&mut self, repo_id: u64, number: u64) -> WorldResult<()> {
        let p = self.pull(repo_id, number)?.clone();
        let (Some(at), Some(by)) = (p.merged_at, p.merged_by) else {
            return Err(invalid("pull request is not merged"));
        };
        let method = p.merge_method.unwrap_or(MergeMethod::Merge);
        let commit = self.merge_commit(&p, by, method, at);
        let h = self.history_mut(repo_id)?;
        let base = h.head().to_string();
        let parents = match method {
            MergeMethod::Merge => {
                let tip = h.add_branch(&p.commits, p.created_at);
                std::iter::once(base).chain(tip).collect()
            }
            MergeMethod::Squash => vec![base],
        };
        let sha = commit.sha.clone();
        h.add(commit, parents);
        h.advance(sha, at);
        Ok(())
    }

    /// Merge with `method` (`merge_pull` merges with a merge commit).
    pub fn merge_pull_with(
        &mut self,
        repo_id: u64,
        number: u64,
        by: &str,
        method: MergeMethod,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let by = self.account_by_login(by)?.id;
        let pull = self.pull_mut(repo_id, number)?;
        if !pull.open {
            return Err(invalid("pull request is not open"));
        }
        if pull.draft {
            return Err(invalid("pull request is still a draft"));
        }
        pull.open = false;
        pull.closed_at = Some(at);
        pull.merged_at = Some(at);
        pull.merged_by = Some(by);
        pull.merge_method = Some(method);
        pull.merge_commit_sha = Some(sha_for(&format!("merge-{}", pull.id)));
        pull.updated_at = at;
        pull.timeline.push(TimelineEvent {
            kind: TimelineKind::Merged,
            at,
            actor_id: by,
        });
        self.record_merge(repo_id, number)?;
        if let Some(repo) = self.repos.get_mut(&repo_id) {
            repo.pushed_at = at;
        }
        Ok(vec![self.pull_event(repo_id, number, "closed", by)])
    }

    /// GitHub's "Revert" button on a merged pull request: a new pull request titled
    /// `Revert "<title>"` from branch `revert-<number>-<head branch>`, one commit that reverts
    /// the merge commit, opened by `by`.
    pub fn open_revert(
        &mut self,
        repo_id: u64,
        number: u64,
        by: &str,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let original = self.pull(repo_id, number)?.clone();
        let Some(merge_sha) = original
            .merge_commit_sha
            .clone()
            .filter(|_| original.merged())
        else {
            return Err(invalid("only a merged pull request can be reverted"));
        };
        let title = format!("Revert \"{}\"", original.title);
        let repo_name = self.repos[&repo_id].name.clone();
        let body = format!("Reverts {}/{repo_name}#{number}", self.org().login);
        let spec = super::NewPull {
            author: by.to_string(),
            title: title.clone(),
            body,
            draft: false,
            commits: 1,
        };
        let head_ref = format!("revert-{number}-{}", original.head_ref);
        let (n, events) = self.open_pull_from(repo_id, spec, Some(head_ref), at)?;
        let pull = self.pull_mut(repo_id, n)?;
        let c = &mut pull.commits[0];
        c.message = format!("{title}\n\nThis reverts commit {merge_sha}.");
        c.additions = original.deletions();
        c.deletions = original.additions();
        Ok((n, events))
    }

    /// A repository's label, made with GitHub's defaults when first used.
    pub fn ensure_label(&mut self, repo_id: u64, name: &str, at: i64) -> WorldResult<Label> {
        self.repo_mut(repo_id)?;
        let key = (repo_id, name.to_lowercase());
        if let Some(l) = self.labels.get(&key) {
            return Ok(l.clone());
        }
        let id = self.next_id(IdKind::Label);
        let label = Label {
            id,
            repo_id,
            name: name.to_string(),
            color: label_color(&name.to_lowercase()),
            description: None,
            created_at: at,
        };
        self.labels.insert(key, label.clone());
        Ok(label)
    }

    /// Add (`on`) or remove a label of a pull request: `pull_request` `labeled`/`unlabeled`.
    pub fn label_pull(
        &mut self,
        repo_id: u64,
        number: u64,
        label: &str,
        on: bool,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let label = self.ensure_label(repo_id, label, at)?.name;
        let sender = self.viewer_id;
        let pull = self.pull_mut(repo_id, number)?;
        if !toggle(&mut pull.labels, &label, on) {
            return Ok(Vec::new());
        }
        pull.updated_at = at;
        let action = if on { "labeled" } else { "unlabeled" };
        let mut event = self.pull_event(repo_id, number, action, sender);
        event.payload["label"] = json!(label);
        Ok(vec![event])
    }

    /// The commit a ref names (the repository's history made first if need be).
    pub fn resolve_ref(&mut self, repo_id: u64, git_ref: Option<&str>) -> WorldResult<String> {
        self.history_mut(repo_id)?;
        self.resolve_ref_ro(repo_id, git_ref)
            .ok_or_else(|| invalid(format!("No ref found for: {}", git_ref.unwrap_or_default())))
    }

    /// The commit a ref names: the default branch (None, or its name) is its head; else a tag,
    /// a pull request's head branch, or a known sha (or a prefix of one).
    pub fn resolve_ref_ro(&self, repo_id: u64, git_ref: Option<&str>) -> Option<String> {
        let repo = self.repos.get(&repo_id)?;
        let h = self.history(repo_id)?;
        let Some(r) = git_ref.filter(|r| *r != repo.default_branch) else {
            return Some(h.head().to_string());
        };
        let r = r
            .strip_prefix("refs/tags/")
            .or(r.strip_prefix("refs/heads/"))
            .unwrap_or(r);
        if let Some(t) = self.tags.get(&(repo_id, r.to_string())) {
            return Some(t.commit_sha.clone());
        }
        if r == repo.default_branch {
            return Some(h.head().to_string());
        }
        if let Some(p) = self.repo_pulls(repo_id).find(|p| p.open && p.head_ref == r) {
            return Some(p.head_sha());
        }
        if let Some(c) = h.resolve(r) {
            return Some(c.commit.sha.clone());
        }
        // A pull request's commit (its branch, merged or not).
        self.repo_pulls(repo_id)
            .flat_map(|p| &p.commits)
            .find(|c| c.sha == r)
            .map(|c| c.sha.clone())
    }

    pub(super) fn login_or_viewer(&self, login: Option<&str>) -> WorldResult<u64> {
        match login {
            Some(l) => Ok(self.account_by_login(l)?.id),
            None => Ok(self.viewer_id),
        }
    }

    pub fn create_deployment(
        &mut self,
        repo_id: u64,
        spec: NewDeployment,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let creator = self.login_or_viewer(spec.creator.as_deref())?;
        let sha = self.resolve_ref(repo_id, spec.git_ref.as_deref())?;
        let default = self.repos[&repo_id].default_branch.clone();
        let id = self.next_id(IdKind::Deployment);
        let task = if spec.task.is_empty() {
            "deploy".to_string()
        } else {
            spec.task
        };
        let environment = if spec.environment.is_empty() {
            "production".to_string()
        } else {
            spec.environment
        };
        self.deployments.insert(
            id,
            Deployment {
                id,
                repo_id,
                sha,
                ref_name: spec.git_ref.unwrap_or(default),
                task,
                original_environment: environment,
                description: spec.description,
                creator_id: creator,
                created_at: at,
                updated_at: at,
                statuses: Vec::new(),
            },
        );
        let event = Event {
            name: "deployment".into(),
            repo_id,
            payload: json!({ "action": "created", "deployment_id": id, "sender_id": creator }),
        };
        Ok((id, vec![event]))
    }

    /// A new status of a deployment (`environment` None: the deployment's current one):
    /// `deployment_status` `created`, except for `inactive` (see below).
    #[allow(clippy::too_many_arguments)]
    pub fn add_deployment_status(
        &mut self,
        repo_id: u64,
        deployment_id: u64,
        state: DeployState,
        environment: Option<String>,
        description: &str,
        creator: Option<&str>,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let creator = self.login_or_viewer(creator)?;
        let id = self.next_id(IdKind::DeploymentStatus);
        let d = self
            .deployments
            .get_mut(&deployment_id)
            .filter(|d| d.repo_id == repo_id)
            .ok_or_else(|| WorldError::NotFound(format!("deployment {deployment_id}")))?;
        let environment = environment.unwrap_or_else(|| d.environment().to_string());
        d.statuses.push(DeploymentStatus {
            id,
            state,
            environment,
            description: description.to_string(),
            creator_id: creator,
            created_at: at,
        });
        d.updated_at = at;
        // GitHub's `deployment_status` payload has no `inactive` state (its schema's enum
        // leaves it out): such a status is made without a webhook.
        if state == DeployState::Inactive {
            return Ok((id, Vec::new()));
        }
        let event = Event {
            name: "deployment_status".into(),
            repo_id,
            payload: json!({
                "action": "created", "deployment_id": deployment_id, "status_id": id,
                "sender_id": creator,
            }),
        };
        Ok((id, vec![event]))
    }

    /// A workflow run, `requested` (then `in_progress` and `completed` through
    /// [`World::advance_run`]).
    pub fn create_run(
        &mut self,
        repo_id: u64,
        spec: NewRun,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let actor = self.login_or_viewer(spec.actor.as_deref())?;
        let default = self.repos[&repo_id].default_branch.clone();
        let branch = spec.branch.unwrap_or(default);
        let sha = match spec.sha {
            Some(s) => self.resolve_ref(repo_id, Some(&s))?,
            None => self.resolve_ref(repo_id, Some(&branch))?,
        };
        let path = spec.path.unwrap_or_else(|| {
            let file: String = spec
                .name
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!(".github/workflows/{file}.yml")
        });
        let run_number = 1 + self
            .runs
            .values()
            .filter(|r| r.repo_id == repo_id && r.path == path)
            .count() as u64;
        // Workflows have ids of their own (about 10^8); stable for a repository and file.
        let workflow_id = 90_000_000
            + u64::from_str_radix(&sha_for(&format!("{repo_id}-{path}"))[..6], 16).unwrap_or(0);
        let id = self.next_id(IdKind::Run);
        let title = self
            .repo_pulls(repo_id)
            .find(|p| p.merge_commit_sha.as_deref() == Some(sha.as_str()))
            .map(|p| p.title.clone())
            .unwrap_or_else(|| spec.name.clone());
        self.runs.insert(
            id,
            WorkflowRun {
                id,
                repo_id,
                name: spec.name,
                path,
                workflow_id,
                head_branch: branch,
                head_sha: sha,
                event: spec.event.unwrap_or_else(|| "push".into()),
                status: "requested".into(),
                conclusion: None,
                run_number,
                run_attempt: 1,
                actor_id: actor,
                display_title: title,
                created_at: at,
                updated_at: at,
                run_started_at: at,
            },
        );
        Ok((id, vec![run_event(repo_id, id, "requested")]))
    }

    /// Move a run on: `in_progress`, or `completed` with a conclusion.
    pub fn advance_run(
        &mut self,
        run_id: u64,
        conclusion: Option<&str>,
        at: i64,
    ) -> WorldResult<Vec<Event>> {
        let run = self
            .runs
            .get_mut(&run_id)
            .ok_or_else(|| WorldError::NotFound(format!("workflow run {run_id}")))?;
        if run.status == "completed" {
            return Err(invalid("the run is already completed"));
        }
        const CONCLUSIONS: &[&str] = &[
            "success",
            "failure",
            "neutral",
            "cancelled",
            "skipped",
            "timed_out",
            "action_required",
        ];
        let action = match conclusion {
            None => {
                run.status = "in_progress".into();
                "in_progress"
            }
            Some(c) if CONCLUSIONS.contains(&c) => {
                run.status = "completed".into();
                run.conclusion = Some(c.to_string());
                "completed"
            }
            Some(c) => {
                return Err(invalid(format!(
                    "conclusion: one of {CONCLUSIONS:?}, not {c}"
                )));
            }
        };
        run.updated_at = at;
        Ok(vec![run_event(run.repo_id, run_id, action)])
    }

    /// A tag (annotated when `message` is given); None `target`: the default branch's head.
    pub fn push_tag(
        &mut self,
        repo_id: u64,
        name: &str,
        target: Option<&str>,
        message: Option<&str>,
        tagger: Option<&str>,
        at: i64,
    ) -> WorldResult<Tag> {
        if name.is_empty() {
            return Err(invalid("a tag needs a name"));
        }
        if self.tags.contains_key(&(repo_id, name.to_string())) {
            return Err(invalid(format!(
                "Reference already exists: refs/tags/{name}"
            )));
        }
        let tagger = self.login_or_viewer(tagger)?;
        let sha = self.resolve_ref(repo_id, target)?;
        let tag = Tag {
            repo_id,
            name: name.to_string(),
            commit_sha: sha,
            annotated: message.map(|m| TagObject {
                sha: sha_for(&format!("tag-{repo_id}-{name}")),
                tagger_id: tagger,
                message: m.to_string(),
                tagged_at: at,
            }),
        };
        self.tags.insert((repo_id, name.to_string()), tag.clone());
        if let Some(repo) = self.repos.get_mut(&repo_id) {
            repo.pushed_at = at;
        }
        Ok(tag)
    }

    /// Publish a release (its tag made from `target` when it does not exist): `created`, and
    /// unless a draft `published` then `released` or `prereleased`, as GitHub sends them.
    pub fn publish_release(
        &mut self,
        repo_id: u64,
        spec: NewRelease,
        at: i64,
    ) -> WorldResult<(u64, Vec<Event>)> {
        let author = self.login_or_viewer(spec.author.as_deref())?;
        if !self.tags.contains_key(&(repo_id, spec.tag.clone())) {
            self.push_tag(repo_id, &spec.tag, spec.target.as_deref(), None, None, at)?;
        }
        let default = self.repos[&repo_id].default_branch.clone();
        let id = self.next_id(IdKind::Release);
        self.releases.insert(
            id,
            Release {
                id,
                repo_id,
                tag_name: spec.tag.clone(),
                target_commitish: spec.target.unwrap_or(default),
                name: spec.name.unwrap_or_else(|| spec.tag.clone()),
                body: spec.body,
                draft: spec.draft,
                prerelease: spec.prerelease,
                author_id: author,
                created_at: at,
                published_at: (!spec.draft).then_some(at),
            },
        );
        let mut events = vec![release_event(repo_id, id, "created")];
        if !spec.draft {
            events.push(release_event(repo_id, id, "published"));
            let kind = if spec.prerelease {
                "prereleased"
            } else {
                "released"
            };
            events.push(release_event(repo_id, id, kind));
        }
        Ok((id, events))
    }
}

/// Add or remove `label` (case-insensitively); false when nothing changed.
pub(super) fn toggle(labels: &mut Vec<String>, label: &str, on: bool) -> bool {
    let at = labels.iter().position(|l| l.eq_ignore_ascii_case(label));
    match (on, at) {
        (true, None) => {
            labels.push(label.to_string());
            true
        }
        (false, Some(i)) => {
            labels.remove(i);
            true
        }
        _ => false,
    }
}

fn run_event(repo_id: u64, run_id: u64, action: &str) -> Event {
    Event {
        name: "workflow_run".into(),
        repo_id,
        payload: json!({ "action": action, "run_id": run_id }),
    }
}

fn release_event(repo_id: u64, release_id: u64, action: &str) -> Event {
    Event {
        name: "release".into(),
        repo_id,
        payload: json!({ "action": action, "release_id": release_id }),
    }
}
