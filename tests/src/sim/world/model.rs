//! What the simulated organization is made of: people and bots, repositories, pull requests with
//! their reviews, commits and timeline, webhooks and their deliveries, and the tokens OAuth
//! issued. Plain data; the [`World`](super::World) holds it and `mutations.rs` changes it.

/// A GitHub account: a person or a bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: u64,
    /// REST login; bots end in `[bot]` (GraphQL drops that suffix, as GitHub does).
    pub login: String,
    pub name: String,
    /// The public email, if the person shows one.
    pub email: Option<String>,
    pub is_bot: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRole {
    Admin,
    Member,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: u64,
    pub login: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub private: bool,
    pub archived: bool,
    pub default_branch: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub pushed_at: i64,
    /// Pull request numbers share one sequence per repository (with issues on GitHub).
    pub next_number: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
}

impl ReviewState {
    /// REST and GraphQL spelling.
    pub fn upper(self) -> &'static str {
        match self {
            ReviewState::Approved => "APPROVED",
            ReviewState::ChangesRequested => "CHANGES_REQUESTED",
            ReviewState::Commented => "COMMENTED",
            ReviewState::Dismissed => "DISMISSED",
        }
    }

    /// Webhook spelling.
    pub fn lower(self) -> &'static str {
        match self {
            ReviewState::Approved => "approved",
            ReviewState::ChangesRequested => "changes_requested",
            ReviewState::Commented => "commented",
            ReviewState::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        match s.to_ascii_lowercase().as_str() {
            "approved" | "approve" => Some(ReviewState::Approved),
            "changes_requested" | "request_changes" => Some(ReviewState::ChangesRequested),
            "commented" | "comment" => Some(ReviewState::Commented),
            "dismissed" => Some(ReviewState::Dismissed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: u64,
    pub user_id: u64,
    pub state: ReviewState,
    pub body: String,
    pub submitted_at: i64,
    pub commit_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// The GitHub account the commit's email belongs to, when GitHub could link one.
    pub author_user_id: Option<u64>,
    pub authored_at: i64,
    pub committed_at: i64,
    pub additions: u64,
    pub deletions: u64,
}

/// Things that happen to a pull request and that GitHub's timeline records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    ConvertedToDraft,
    ReadyForReview,
    Closed,
    Reopened,
    Merged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEvent {
    pub kind: TimelineKind,
    pub at: i64,
    pub actor_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub id: u64,
    pub repo_id: u64,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub user_id: u64,
    pub open: bool,
    pub draft: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub merged_by: Option<u64>,
    pub merge_commit_sha: Option<String>,
    pub head_ref: String,
    pub base_ref: String,
    pub changed_files: u64,
    pub reviews: Vec<Review>,
    pub commits: Vec<Commit>,
    pub timeline: Vec<TimelineEvent>,
    /// Label names, in the order they were added.
    pub labels: Vec<String>,
    /// How it was merged (None until then).
    pub merge_method: Option<super::delivery::MergeMethod>,
}

impl Pull {
    pub fn merged(&self) -> bool {
        self.merged_at.is_some()
    }

    pub fn additions(&self) -> u64 {
        self.commits.iter().map(|c| c.additions).sum()
    }

    pub fn deletions(&self) -> u64 {
        self.commits.iter().map(|c| c.deletions).sum()
    }

    pub fn head_sha(&self) -> String {
        self.commits
            .last()
            .map(|c| c.sha.clone())
            .unwrap_or_else(|| sha_for(&format!("empty-{}", self.id)))
    }

    /// "open" or "closed", as REST says it.
    pub fn rest_state(&self) -> &'static str {
        if self.open { "open" } else { "closed" }
    }

    /// OPEN, CLOSED or MERGED, as GraphQL says it.
    pub fn graphql_state(&self) -> &'static str {
        if self.open {
            "OPEN"
        } else if self.merged() {
            "MERGED"
        } else {
            "CLOSED"
        }
    }
}

/// A repository webhook, or an organization webhook (`repo_id` [`ORG_LEVEL`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub id: u64,
    pub repo_id: u64,
    pub url: String,
    pub content_type: String,
    pub secret: Option<String>,
    pub insecure_ssl: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// code, status, message of the last delivery (GitHub's `last_response`).
    pub last_response: Option<(u16, String, String)>,
}

impl Hook {
    pub fn wants(&self, event: &str) -> bool {
        self.active && (event == "ping" || self.events.iter().any(|e| e == "*" || e == event))
    }
}

/// One attempt at delivering a webhook, as the deliveries API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: u64,
    /// `X-GitHub-Delivery`: kept when the delivery is redelivered.
    pub guid: String,
    pub hook_id: u64,
    pub repo_id: u64,
    pub event: String,
    pub action: Option<String>,
    pub delivered_at: i64,
    pub redelivery: bool,
    /// HTTP status of our receiver, or 0 when it could not be reached.
    pub status_code: u16,
    pub status: String,
    pub duration_ms: u64,
    /// Where it was sent (the hook's URL at the time).
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// The JSON payload (a `form` hook got it as `payload=` of a form body).
    pub payload: Vec<u8>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

/// The `repo_id` of an organization-level event (`organization`: it goes to the org's hooks,
/// never to a repository's) and of an organization hook. Real ids start far above it.
pub const ORG_LEVEL: u64 = 0;

/// A webhook GitHub would send: event name, payload, and the repository whose hooks get it
/// ([`ORG_LEVEL`]: the organization's hooks).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub repo_id: u64,
    pub payload: serde_json::Value,
}

/// An OAuth access token the simulator issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub user_id: u64,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub revoked: bool,
    pub expires_at: Option<i64>,
    pub refresh_token: Option<String>,
}

/// A commit by `author`, its sha and message derived from `seed`.
pub fn new_commit(author: &Account, seed: &str, at: i64, additions: u64, deletions: u64) -> Commit {
    Commit {
        sha: sha_for(seed),
        message: format!("Change {seed}"),
        author_name: author.name.clone(),
        author_email: author
            .email
            .clone()
            .unwrap_or_else(|| format!("{}@users.noreply.github.com", author.id)),
        author_user_id: Some(author.id),
        authored_at: at,
        committed_at: at,
        additions,
        deletions,
    }
}

/// A 40-hex-digit sha, stable for a seed string.
pub fn sha_for(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    hex::encode(&digest[..20])
}
