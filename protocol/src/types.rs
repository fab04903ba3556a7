//! Wire types. Times are Unix seconds (UTC). Nothing here can hold a secret: credentials travel
//! only as [`SecretState`], a mask or a reason.

use serde::{Deserialize, Serialize};
use std::fmt;

pub type TeamId = u64;

/// Answer to `hello`. Frozen: see the crate docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    pub daemon_version: String,
}

/// A team named by id (the TUI) or by name (the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeamRef {
    Id(TeamId),
    Name(String),
}

impl TeamRef {
    /// A team as typed on the command line: `#7` is the team with id 7, anything else a name.
    pub fn parse(text: &str) -> TeamRef {
        match text.strip_prefix('#').map(str::parse::<TeamId>) {
            Some(Ok(id)) => TeamRef::Id(id),
            _ => TeamRef::Name(text.to_string()),
        }
    }
}

impl fmt::Display for TeamRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TeamRef::Id(id) => write!(f, "team #{id}"),
            TeamRef::Name(name) => write!(f, "team '{name}'"),
        }
    }
}

#[cfg(test)]
mod team_ref_tests {
    use super::TeamRef;

    #[test]
    fn a_hash_and_digits_is_an_id_anything_else_a_name() {
        assert_eq!(TeamRef::parse("#7"), TeamRef::Id(7));
        assert_eq!(TeamRef::parse("platform"), TeamRef::Name("platform".into()));
        assert_eq!(TeamRef::parse("7"), TeamRef::Name("7".into()));
        assert_eq!(TeamRef::parse("#seven"), TeamRef::Name("#seven".into()));
        assert_eq!(TeamRef::parse("#"), TeamRef::Name("#".into()));
    }
}

/// A local OS user, as the daemon sees it through the socket's peer credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub uid: u32,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub id: TeamId,
    pub name: String,
    pub created_at: i64,
    /// The caller's role in this team. Callers see only teams they belong to, so the daemon
    /// always sets it; `None` is kept for the wire format's sake.
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Jira,
    Slack,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Jira => "jira",
            Provider::Slack => "slack",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Pending,
    Syncing,
    Complete,
    Error,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Pending => "pending",
            SyncStatus::Syncing => "syncing",
            SyncStatus::Complete => "complete",
            SyncStatus::Error => "error",
        }
    }
}

/// What a client may learn of a stored secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretState {
    /// Decrypts fine; shown masked, e.g. `gho_…a1b2`.
    Masked(String),
    /// Stored, but it cannot be decrypted with the configured keys. It is kept, not deleted.
    Unreadable(String),
}

impl fmt::Display for SecretState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretState::Masked(mask) => f.write_str(mask),
            SecretState::Unreadable(reason) => write!(f, "unreadable ({reason})"),
        }
    }
}

/// Credential metadata: everything about a credential but the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    pub provider: Provider,
    pub scopes: Vec<String>,
    pub access_token: SecretState,
    pub refresh_token: Option<SecretState>,
    pub expires_at: Option<i64>,
    /// Cleared when that user is deleted.
    pub connected_by: Option<UserInfo>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubIntegrationInfo {
    pub organization_slug: String,
    pub organization_id: u64,
    /// Whether a webhook secret is stored and decrypts; the secret itself is never sent.
    pub webhook_secret: SecretState,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub last_sync_at: Option<i64>,
    /// GitHub's web host as the daemon is configured (`https://github.com`, or an Enterprise
    /// server's), for links to pull requests. Protocol v5.
    pub web_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationInfo {
    pub credential: CredentialInfo,
    /// Present for a GitHub credential once its organization is chosen.
    pub github: Option<GitHubIntegrationInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoInfo {
    pub github_repo_id: u64,
    pub full_name: String,
    pub is_active: bool,
    pub webhook_id: Option<u64>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub last_sync_at: Option<i64>,
    pub pull_request_count: u64,
    /// When the last webhook delivery for this repository arrived.
    pub last_webhook_at: Option<i64>,
    /// When GitHub last pinged its webhook (the hook is live).
    pub last_ping_at: Option<i64>,
    /// Deliveries GitHub could not make while the daemon was away, and those asked for again.
    pub webhooks_missed: u64,
    pub webhooks_recovered: u64,
    /// Why the repository has no webhook (GitHub refused to create it, or could not be asked),
    /// with when that was first seen; None when there is nothing wrong. Protocol v12.
    pub webhook_problem: Option<WebhookProblem>,
}

/// Why a repository's webhook could not be made. Protocol v12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookProblem {
    pub reason: String,
    pub since: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamStatus {
    pub team: TeamInfo,
    pub integrations: Vec<IntegrationInfo>,
    pub repos: Vec<RepoInfo>,
    pub member_count: u64,
    pub pull_request_count: u64,
    /// Where GitHub sends webhooks (`--public-url`); None: no webhooks, periodic syncs only.
    pub webhook_public_url: Option<String>,
    /// Deliveries received and durable but not applied yet (e.g. while GitHub is unreachable).
    pub webhooks_pending: u64,
    /// When the oldest of them was received (None: none waits). Protocol v9.
    pub webhooks_oldest_pending_at: Option<i64>,
    /// GitHub's rate-limit budget for the team's token as the daemon last saw it (empty: not
    /// known yet): GitHub's latest answer, whichever request got it (a sync's, a webhook's
    /// re-read, a failed one). Since protocol v11 each carries when it was seen.
    pub rate_budget: Vec<RateBudget>,
    /// How changes to the organization's members reach the daemon (None: not connected to
    /// GitHub). Protocol v8.
    pub member_changes: Option<MemberChanges>,
    /// What the webhook receiver and applier turned away or held back for this team since the
    /// daemon started. Protocol v11.
    pub webhook_intake: WebhookIntake,
    /// Working-agreement breaches open now. Protocol v14.
    pub open_breaches: u64,
    /// The team's Slack link (None: not connected). Protocol v14.
    pub slack: Option<crate::agreements::SlackStatus>,
}

/// What the daemon did not store or apply at once of a team's webhook deliveries, and why:
/// counts since the daemon started, each with the last time it happened. Protocol v11.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookIntake {
    /// Deliveries that may wait at once; beyond it new ones are refused (HTTP 503) and the
    /// next sync covers what they said.
    pub backlog_max: u64,
    /// Verified deliveries whose body had been received before under another delivery id (a
    /// captured delivery replayed, or GitHub's "Redeliver"): answered 200, not stored.
    pub replays_ignored: u64,
    pub last_replay_at: Option<i64>,
    /// Deliveries refused with 503 because `backlog_max` were waiting.
    pub refused_backlog_full: u64,
    pub last_refused_at: Option<i64>,
    /// Waiting deliveries whose re-reads were held back so that the periodic sync keeps its
    /// share of GitHub's rate budget (each counted once).
    pub held_for_budget: u64,
    pub last_held_at: Option<i64>,
    /// Until when they are held (the budget's reset), while they are.
    pub held_until: Option<i64>,
    /// GraphQL points webhook re-reads spent in the current rate-limit window.
    pub webhook_points: u64,
}

/// How the daemon learns that people joined or left the team's GitHub organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberChanges {
    /// At once, through tidemark's organization webhook with this id.
    Live { org_hook_id: u64 },
    /// With the periodic sync only; `why` says why there is no organization webhook and what
    /// one would need.
    PeriodicSync { why: String },
}

impl fmt::Display for MemberChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberChanges::Live { org_hook_id } => {
                write!(f, "live (organization hook #{org_hook_id})")
            }
            MemberChanges::PeriodicSync { why } => write!(f, "with the periodic sync ({why})"),
        }
    }
}

/// A connect flow in progress, known to the daemon by this id.
pub type FlowId = u64;

/// How the daemon gets a GitHub token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectMethod {
    /// The device flow: the user types a code at GitHub. Needs only the client id.
    Device,
    /// The web flow with PKCE through a loopback listener. Needs the client secret too.
    Web,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectRequest {
    pub team: TeamRef,
    pub method: ConnectMethod,
    /// The organization to connect, when the user has said; otherwise asked for when the token
    /// sees several.
    pub org: Option<String>,
    /// Replace the token of a team that is already connected (after the user confirmed).
    pub replace: bool,
    /// Also ask GitHub for `admin:org_hook`, so that an org owner's connection gets an
    /// organization webhook and member changes arrive at once. Protocol v8.
    pub org_hook: bool,
}

/// What the user must do at GitHub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectPrompt {
    /// Open `verification_uri` and type `user_code`.
    Device {
        user_code: String,
        verification_uri: String,
    },
    /// Open this URL in a browser on this machine (it redirects to the daemon's loopback listener).
    Browser { authorize_url: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectStarted {
    pub flow: FlowId,
    pub prompt: ConnectPrompt,
    /// When the code or the authorization link stops working (Unix seconds).
    pub expires_at: i64,
}

/// An organization the token can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgChoice {
    pub login: String,
    pub id: u64,
    pub description: Option<String>,
}

/// Where a connect flow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectState {
    /// Waiting for the user to approve at GitHub.
    Waiting,
    /// Web flow only (protocol v12): GitHub answered, signed in as `github_login`. Whoever
    /// opens the authorize link picks the GitHub account, and it may not be the user's (a link
    /// another local user saw), so nothing is stored until the user confirms this login with
    /// `github_connect_confirm_login`; refusing is `github_connect_cancel`. The token waits in
    /// the daemon's memory meanwhile, for a limited time.
    ConfirmLogin { github_login: String },
    /// Approved; the token sees several organizations: pick one with `github_connect_choose_org`.
    ChooseOrg { orgs: Vec<OrgChoice> },
    /// Done: the credential and integration are stored.
    Connected {
        github_login: String,
        integration: Box<IntegrationInfo>,
    },
    /// Ended without storing anything.
    Failed { reason: String },
}

impl ConnectState {
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ConnectState::Connected { .. } | ConnectState::Failed { .. }
        )
    }
}

/// What `github_disconnect` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectReport {
    pub organization: Option<String>,
    /// Webhooks tidemark had created and deleted now.
    pub hooks_deleted: u32,
    /// Webhooks that could not be deleted, with the reason (GitHub unreachable, already gone...).
    pub hooks_failed: Vec<String>,
    /// Whether the OAuth grant was revoked at GitHub (needs the client secret).
    pub grant_revoked: bool,
    /// Why the grant was not revoked, when it was not.
    pub grant_note: Option<String>,
    pub repos_removed: u32,
    /// Synced history (members, pull requests, reviews, commits) deleted too (`--purge`).
    pub history_purged: bool,
}

/// A repository of the connected organization, as `repos available` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableRepo {
    pub github_repo_id: u64,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    pub pushed_at: Option<i64>,
    /// Already tracked by this team.
    pub tracked: bool,
}

/// GitHub's rate-limit budget as the daemon last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateBudget {
    /// "core" (REST) or "graphql" (points).
    pub resource: String,
    pub limit: u64,
    pub remaining: u64,
    pub reset_at: i64,
    /// When GitHub said so (the answer this was read from). Protocol v11.
    pub seen_at: Option<i64>,
}

/// What a sync of a team's GitHub integration is doing, or last did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub running: bool,
    pub status: SyncStatus,
    /// What it is doing now, in words ("members", "pull requests", "waiting for the rate limit").
    pub phase: String,
    pub repos_done: u32,
    pub repos_total: u32,
    pub prs_fetched: u64,
    pub requests: u64,
    pub budget: Vec<RateBudget>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub error: Option<String>,
    /// When the next periodic sync (or retry after an error) is due.
    pub next_sync_at: Option<i64>,
    /// Items GitHub sent in this sync that could not be read (a pull request or review without
    /// its id, say): counted, never silently dropped; the last one in words.
    pub skipped: u64,
    pub skipped_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub id: u64,
    pub github_id: Option<u64>,
    pub github_login: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub is_bot: bool,
    /// When the member left the organization (kept, marked).
    pub left_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrState {
    Open,
    Closed,
    Merged,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Closed => "closed",
            PrState::Merged => "merged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrQuery {
    pub team: TeamRef,
    /// `owner/repo`, or all tracked repositories.
    pub repo: Option<String>,
    pub state: Option<PrState>,
    /// At most this many, newest first (0: all).
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrInfo {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub author: Option<String>,
    pub author_is_bot: bool,
    pub state: PrState,
    pub is_draft: bool,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    pub first_commit_at: Option<i64>,
    pub first_review_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub additions: u64,
    pub deletions: u64,
    pub reviews: u32,
    pub commits: u32,
    /// GitHub lists at most 250 commits of a PR; true when this one has more.
    pub commits_truncated: bool,
    pub cycle_time: Option<i64>,
    pub review_time: Option<i64>,
    /// Who merged it (GitHub's `mergedBy`: often not the author). None when it is not merged,
    /// when GitHub names nobody, or until the daemon has read it again after an upgrade.
    /// Protocol v9.
    pub merged_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsGrouping {
    Team,
    Repo,
    Member,
    Week,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsQuery {
    pub team: TeamRef,
    /// Only PRs created at or after this time (Unix seconds).
    pub since: Option<i64>,
    pub by: MetricsGrouping,
    pub include_bots: bool,
}

/// count, p50, p75, p90 of one measure (seconds, or lines for size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Distribution {
    pub count: u64,
    pub p50: Option<i64>,
    pub p75: Option<i64>,
    pub p90: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// The team name, `owner/repo`, a member's login, or an ISO week (`2026-W47`).
    pub key: String,
    pub prs: u64,
    pub merged: u64,
    pub cycle_time: Distribution,
    pub review_time: Distribution,
    pub coding: Distribution,
    pub pickup: Distribution,
    pub review: Distribution,
    pub size: Distribution,
}

/// What `webhook_rotate_secret` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateReport {
    pub hooks_updated: u32,
    /// Hooks GitHub did not update, with the reason (they keep the old secret until the next
    /// rotation; deliveries signed with it are refused after the grace period).
    pub hooks_failed: Vec<String>,
    /// Deliveries signed with the old secret are accepted until then (Unix seconds).
    pub old_secret_accepted_until: i64,
}

/// How many reviews one person gave on others' pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerCount {
    pub login: String,
    pub is_bot: bool,
    /// Reviews submitted (every state but pending).
    pub reviews: u64,
    /// Distinct pull requests reviewed.
    pub pull_requests: u64,
}

/// What happened to a pull request, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: i64,
    pub kind: TimelineKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A commit (short sha), dated by its author.
    Commit { sha: String },
    /// A review: who, and its state (`approved`, `changes_requested`, `commented`...).
    Review {
        reviewer: Option<String>,
        state: String,
    },
}

/// A pull request's commits and reviews, oldest first (opened, ready, merged and closed are in
/// its [`PrInfo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrTimeline {
    pub events: Vec<TimelineEvent>,
    /// GitHub lists at most 250 commits; true when this one has more.
    pub commits_truncated: bool,
}
