//! The stored records. These are the daemon's own types: separate from the wire types
//! in `tidemark-protocol` and from GitHub's JSON. Times are Unix seconds (UTC).

use super::keys::TeamId;
use crate::crypto::Ciphertext;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Declares a closed enum that parses only its allowed lowercase names, so a bad value from a
/// user, a config file or GitHub is an error, never a silent default.
macro_rules! closed_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InvalidValue {
                        field: stringify!($name),
                        value: s.chars().take(40).collect(),
                        allowed: &[$($text),+],
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {field}: allowed values are {}", allowed.join(", "))]
pub struct InvalidValue {
    pub field: &'static str,
    pub value: String,
    pub allowed: &'static [&'static str],
}

closed_enum!(Role { Owner = "owner", Admin = "admin", Member = "member" });
closed_enum!(Provider { Github = "github", Jira = "jira", Slack = "slack" });
closed_enum!(SyncStatus {
    Pending = "pending",
    Syncing = "syncing",
    Complete = "complete",
    Error = "error",
});
closed_enum!(PrState { Open = "open", Closed = "closed", Merged = "merged" });
closed_enum!(ReviewState {
    Approved = "approved",
    ChangesRequested = "changes_requested",
    Commented = "commented",
    Dismissed = "dismissed",
    Pending = "pending",
});

impl Provider {
    /// The byte this provider takes in keys. Fixed forever.
    pub fn code(self) -> u8 {
        match self {
            Provider::Github => 1,
            Provider::Jira => 2,
            Provider::Slack => 3,
        }
    }
}

impl ReviewState {
    /// GitHub's REST API says `APPROVED`, webhooks say `approved`: accept both.
    pub fn from_github(s: &str) -> Result<Self, InvalidValue> {
        s.to_ascii_lowercase().parse()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub created_at: i64,
}

/// A local OS user, known by uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub team_id: TeamId,
    pub uid: u32,
    pub role: Role,
    pub created_at: i64,
}

/// One per (team, provider). Tokens are Fernet ciphertexts bound to this record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationCredential {
    pub team_id: TeamId,
    pub provider: Provider,
    pub access_token: Ciphertext,
    pub refresh_token: Option<Ciphertext>,
    pub token_expires_at: Option<i64>,
    pub scopes: Vec<String>,
    /// Cleared when that user is deleted.
    pub connected_by: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One-to-one with the team's GitHub credential; deleted with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubIntegration {
    pub team_id: TeamId,
    pub organization_slug: String,
    pub organization_id: u64,
    pub webhook_secret: Ciphertext,
    pub last_sync_at: Option<i64>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Belongs to the team's GitHub integration (deleted with it). One per (team, github_repo_id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedRepository {
    pub team_id: TeamId,
    pub github_repo_id: u64,
    pub full_name: String,
    pub is_active: bool,
    pub webhook_id: Option<u64>,
    pub last_sync_at: Option<i64>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub created_at: i64,
}

/// A person measured: an org member, or a commit author known only by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub team_id: TeamId,
    pub id: u64,
    pub github_id: Option<u64>,
    pub github_username: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    pub is_bot: bool,
    /// Set when the member leaves the org; members are marked, never erased.
    pub left_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub number: u64,
    pub github_id: u64,
    pub title: String,
    pub state: PrState,
    pub is_draft: bool,
    pub author_github_id: Option<u64>,
    pub author_login: Option<String>,
    pub author_member_id: Option<u64>,
    pub created_at: i64,
    /// When it left draft; equal to created_at when it was never a draft.
    pub ready_at: Option<i64>,
    pub updated_at: i64,
    pub merged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub additions: u64,
    pub deletions: u64,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    /// merged_at − created_at, for merged PRs. Computed on every write.
    pub cycle_time: Option<i64>,
    /// first_review_at − ready_at. Computed on every write.
    pub review_time: Option<i64>,
    /// Who merged it (GitHub's `mergedBy`, not the author), the login as REST spells it. None
    /// when it is not merged, when GitHub names nobody (a deleted account), and in a record
    /// from before schema v7 until the sync reads the pull request again.
    pub merged_by_login: Option<String>,
    pub merged_by_github_id: Option<u64>,
    /// The commit its merge made on the base branch (merge, squash or rebase), GitHub's
    /// `mergeCommit`: how a deployment's compare finds it. None until merged, and in a record
    /// from before schema v9 until the sync reads it again.
    pub merge_commit_sha: Option<String>,
    /// The branch it merges into and the branch it comes from (a revert's is `revert-N-…`).
    pub base_ref: Option<String>,
    pub head_ref: Option<String>,
    /// Its labels' names (a hotfix label makes its deployment rework).
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrReview {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub pr_number: u64,
    pub review_id: u64,
    pub reviewer_github_id: Option<u64>,
    pub reviewer_login: Option<String>,
    pub reviewer_member_id: Option<u64>,
    pub reviewer_is_bot: bool,
    pub state: ReviewState,
    pub submitted_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub pr_number: u64,
    pub sha: String,
    pub author_github_id: Option<u64>,
    pub author_email: Option<String>,
    pub author_member_id: Option<u64>,
    pub authored_at: Option<i64>,
    pub committed_at: Option<i64>,
}

/// A repository's sync checkpoint, kept with each stored page in the same batch. The first
/// sync walks pull requests oldest-updated first and keeps GitHub's cursor, so a killed sync
/// resumes after the last stored page. Once `complete`, later syncs walk newest-updated first
/// down to `updated_at` (less an overlap, for changes within the same second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    pub team_id: TeamId,
    pub repo_id: u64,
    /// GitHub's opaque cursor after the last stored pull request of the first walk.
    pub cursor: Option<String>,
    /// The newest updated_at stored.
    pub updated_at: Option<i64>,
    pub pull_requests_seen: u64,
    /// The first walk reached the end.
    pub complete: bool,
}

/// Facts about a pull request that its record has no field for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrExtra {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub number: u64,
    /// GitHub's count of the PR's commits, when it is more than GitHub lists (250).
    pub commits_total: u64,
}

/// A webhook delivery that passed verification, kept until applied: what the receiver writes
/// and the applier reads (stored as [`InboxRecord`] since v3; this is also the v2 stored form,
/// which the v2 → v3 upgrade decodes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub team_id: TeamId,
    pub seq: u64,
    /// `X-GitHub-Delivery` (kept by GitHub on redelivery).
    pub guid: String,
    pub event: String,
    pub hook_id: Option<u64>,
    pub repo_id: Option<u64>,
    pub received_at: i64,
    pub body: Vec<u8>,
}

/// A waiting webhook delivery as a record: how a backup carries one (body inline), and how
/// stores before v5 kept them in sled (body in the spool since v3, inline before). Opening a
/// store moves such records into its spool (`Store::load_inbox`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRecord {
    pub team_id: TeamId,
    pub seq: u64,
    pub guid: String,
    pub event: String,
    pub hook_id: Option<u64>,
    pub repo_id: Option<u64>,
    pub received_at: i64,
    pub body: StoredBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredBody {
    Inline(Vec<u8>),
    Spooled(super::spool::BodyRef),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySeen {
    pub team_id: TeamId,
    pub received_at: i64,
}

/// How a repository's webhook is doing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HookHealth {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub last_ping_at: Option<i64>,
    pub last_delivery_at: Option<i64>,
    pub deliveries: u64,
    pub ignored: u64,
    /// Deliveries GitHub could not make (found after downtime) and asked again.
    pub missed: u64,
    pub recovered: u64,
    /// The hook was found deleted on GitHub and created again.
    pub recreated: u64,
}

/// The webhook secret a rotation replaced: deliveries signed with it are still accepted until
/// `until`, while GitHub's hooks switch to the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousWebhookSecret {
    pub team_id: TeamId,
    pub secret: Ciphertext,
    pub until: i64,
}

/// Why a tracked repository has no webhook: GitHub refused to create it, or could not be
/// asked. A record of its own (kind `HookProblem`, added without a schema change: a store
/// without one simply knows of no problem). Removed when the hook is made, with the
/// repository, the integration and the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookProblem {
    pub team_id: TeamId,
    pub repo_id: u64,
    /// What went wrong, in words (GitHub's answer included, never a secret).
    pub problem: String,
    /// When it was first seen; kept while the same problem repeats.
    pub since: i64,
    pub updated_at: i64,
}

/// The team's organization webhook (`organization` events: members added and removed), or why
/// it has none. A record of its own (kind `OrgHook`, added without a schema change: a store
/// without one simply has no organization hook yet). Deleted with the integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgHook {
    pub team_id: TeamId,
    /// The organization it belongs to (an org hook is only ever the integration's org's).
    pub organization_id: u64,
    /// GitHub's id of the hook; None when there is none.
    pub hook_id: Option<u64>,
    /// Why there is none (no `admin:org_hook` scope, not an owner, GitHub refused), in words.
    pub refused: Option<String>,
    pub updated_at: i64,
}

/// A local user invited into a team by one of its owners (or an operator): not a member, and
/// shown nothing of the team, until they accept; then a [`Membership`] with this role. A record
/// of its own (kind `Invitation`, added without a schema change: a store without one simply has
/// no invitations). Deleted on acceptance, refusal or withdrawal, with the team and with the
/// user; ignored once [`INVITATION_TTL_SECS`] old, and pruned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub team_id: TeamId,
    /// Who is invited.
    pub uid: u32,
    /// The role they get by accepting.
    pub role: Role,
    pub invited_by: u32,
    /// When it was sent (or last sent again: a new role starts it anew).
    pub created_at: i64,
}

/// How long an invitation waits for an answer: two weeks.
pub const INVITATION_TTL_SECS: i64 = 14 * 24 * 3600;

impl Invitation {
    pub fn expires_at(&self) -> i64 {
        self.created_at.saturating_add(INVITATION_TTL_SECS)
    }

    /// Still answerable at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at()
    }
}
