//! What delivery metrics read (issue 17): deployments and their statuses, Actions workflow runs,
//! releases, tags, issues and labels. Plain data, kept in the [`World`](super::World) beside the
//! pull requests; `delivery_mutations.rs` changes it, `git.rs` holds each repository's commits.

/// GitHub's deployment status states (REST and webhooks lower case, GraphQL upper case). A
/// deployment's own `state` in GraphQL is its latest status's, or PENDING without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployState {
    Pending,
    Queued,
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
}

impl DeployState {
    pub const ALL: [DeployState; 7] = [
        DeployState::Pending,
        DeployState::Queued,
        DeployState::InProgress,
        DeployState::Success,
        DeployState::Failure,
        DeployState::Error,
        DeployState::Inactive,
    ];

    /// REST and webhook spelling.
    pub fn lower(self) -> &'static str {
        match self {
            DeployState::Pending => "pending",
            DeployState::Queued => "queued",
            DeployState::InProgress => "in_progress",
            DeployState::Success => "success",
            DeployState::Failure => "failure",
            DeployState::Error => "error",
            DeployState::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<DeployState> {
        let s = s.to_ascii_lowercase();
        DeployState::ALL.into_iter().find(|d| d.lower() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: DeployState,
    pub environment: String,
    pub description: String,
    pub creator_id: u64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: u64,
    pub repo_id: u64,
    pub sha: String,
    /// The ref it was made from (a branch name, a tag or the sha itself).
    pub ref_name: String,
    pub task: String,
    /// Where it was made for; a status may move it (`environment` of a status).
    pub original_environment: String,
    pub description: String,
    pub creator_id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Oldest first.
    pub statuses: Vec<DeploymentStatus>,
}

impl Deployment {
    /// The environment its latest status names, else the one it was made for.
    pub fn environment(&self) -> &str {
        self.statuses
            .last()
            .map_or(&self.original_environment, |s| &s.environment)
    }

    pub fn production(&self) -> bool {
        matches!(self.environment(), "production" | "prod")
    }
}

/// An Actions workflow run's `status` (REST: `requested`, `queued`, `in_progress`, `completed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    pub id: u64,
    pub repo_id: u64,
    /// The workflow's name (`Deploy`) and file (`.github/workflows/deploy.yml`).
    pub name: String,
    pub path: String,
    pub workflow_id: u64,
    pub head_branch: String,
    pub head_sha: String,
    /// What triggered it: `push`, `workflow_dispatch`, `release`, ...
    pub event: String,
    pub status: String,
    /// `success`, `failure`, `cancelled`, ... once completed.
    pub conclusion: Option<String>,
    pub run_number: u64,
    pub run_attempt: u64,
    pub actor_id: u64,
    pub display_title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub run_started_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: u64,
    pub repo_id: u64,
    pub tag_name: String,
    /// The branch or sha the tag was made from when the tag did not exist.
    pub target_commitish: String,
    pub name: String,
    pub body: String,
    pub draft: bool,
    pub prerelease: bool,
    pub author_id: u64,
    pub created_at: i64,
    pub published_at: Option<i64>,
}

/// An annotated tag's own object: who tagged, when, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagObject {
    pub sha: String,
    pub tagger_id: u64,
    pub message: String,
    pub tagged_at: i64,
}

/// A tag: a name for a commit, lightweight (`annotated` None) or annotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub repo_id: u64,
    pub name: String,
    pub commit_sha: String,
    pub annotated: Option<TagObject>,
}

/// A repository's label, made when first used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: u64,
    pub repo_id: u64,
    pub name: String,
    pub color: String,
    pub description: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub id: u64,
    pub repo_id: u64,
    /// From the repository's one sequence, shared with pull requests (as on GitHub).
    pub number: u64,
    pub title: String,
    pub body: String,
    pub user_id: u64,
    pub open: bool,
    /// `completed` or `not_planned` once closed, `reopened` after a reopen.
    pub state_reason: Option<String>,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<u64>,
}

/// How a pull request was merged: a merge commit (the PR's commits join the default branch) or
/// a squash (one new commit; the PR keeps its own commit list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
}

impl MergeMethod {
    pub fn parse(s: &str) -> Option<MergeMethod> {
        match s {
            "merge" => Some(MergeMethod::Merge),
            "squash" => Some(MergeMethod::Squash),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
        }
    }
}

/// A label's colour, stable for its name (GitHub picks one at random).
pub fn label_color(name: &str) -> String {
    match name {
        "incident" => "b60205".into(),
        "hotfix" => "d93f0b".into(),
        "bug" => "d73a4a".into(),
        _ => super::sha_for(&format!("label-{name}"))[..6].to_string(),
    }
}
