//! tidemark's RPC contract between the daemon (`tidemarkd`) and its clients, and everything else
//! both sides must agree on, so that a client needs this crate and never the daemon's.
//!
//! Wire types are deliberately separate from the daemon's stored records and from GitHub's JSON:
//! each can change without dragging the others along.
//!
//! Compatibility rule: `hello` is the first method of the service and its signature and the
//! [`Hello`] struct are frozen, so a client and a daemon of different versions can always learn that
//! they differ. Every other change to the service or the wire types bumps [`PROTOCOL_VERSION`].
//!
//! Code map:
//! - this file: the tarpc service [`Tidemark`] and [`PROTOCOL_VERSION`];
//!   `types`, `members`, `daemon_info` hold the wire types (re-exported here), `error` the
//!   serialisable [`RpcError`].
//! - [`transport`]: the socket's framing (frame cap, codec), one definition for both ends.
//! - [`paths`]: the data dir and socket (defaults, env var names), the startup-error file, the
//!   system install's socket and account.
//! - [`names`] (re-exported here): team, login and repository name rules, checked by the daemon
//!   and early by clients.
//! - [`messages`]: refusals worded by the daemon that clients recognise.
//! - [`metrics`]: the metric definitions (cycle, review, coding, pickup, review, size), used by
//!   the daemon's stored figures and reports and by the client's per-PR breakdown.
//! - [`users`]: uid and login name lookups on this machine.
//! - [`delivery`]: delivery (DORA) wire types: the team's choices, the report, its explain items.
//! - [`agreements`]: working agreements, their breaches (alerts), adherence, the Slack link.

pub mod agreements;
mod daemon_info;
pub mod delivery;
mod error;
mod members;
pub mod messages;
pub mod metrics;
pub mod names;
pub mod paths;
pub mod transport;
mod types;
pub mod users;

pub use daemon_info::*;
pub use error::RpcError;
pub use members::{Invitation, MemberAdded, TeamMembership, UserRef};
pub use names::{
    TEAM_NAME_MAX_CHARS, nfc, normalize_team_name, validate_login, validate_repo_full_name,
    validate_team_name,
};
pub use types::*;

/// Version of this RPC contract. Bump it on any change to [`Tidemark`] or the wire types.
pub const PROTOCOL_VERSION: u32 = 14;

/// The daemon's RPC service. Every method is attributed to the calling OS user (the daemon reads
/// the peer credentials of the Unix socket), so no method takes the caller as an argument.
///
/// Authorization: a caller sees only the teams they belong to. Members read, admins also manage
/// integrations, repositories, syncs and webhook secrets, owners also manage membership and
/// rename or delete the team. A team the caller does not belong to answers exactly as a team
/// that does not exist ([`RpcError::NotFound`]); [`RpcError::PermissionDenied`] means "you are
/// in this team, but your role does not allow this".
#[tarpc::service]
pub trait Tidemark {
    /// Handshake: the client says which protocol it speaks; the daemon answers with its own, or
    /// [`RpcError::VersionMismatch`]. Frozen: see the crate docs.
    async fn hello(client_protocol: u32) -> Result<Hello, RpcError>;

    /// Who the daemon thinks is calling, and what that user may do.
    async fn whoami() -> Result<UserInfo, RpcError>;

    /// Create a team; the caller becomes its owner.
    async fn team_create(name: String) -> Result<TeamInfo, RpcError>;
    /// The teams the caller can see, by name.
    async fn team_list() -> Result<Vec<TeamInfo>, RpcError>;
    async fn team_rename(team: TeamRef, new_name: String) -> Result<TeamInfo, RpcError>;
    /// Delete a team and everything stored for it, in one atomic step; answers the team as it
    /// was, so the caller can say which one went (by id).
    async fn team_delete(team: TeamRef) -> Result<TeamInfo, RpcError>;
    /// Invite a local user into a team, or change a member's role (owners). Nobody becomes a
    /// member without accepting: a user who is not one yet gets an invitation (sent again with
    /// the new role if one waits), and the reply says which (protocol v12). Only the caller
    /// themself (an operator recovering a team) joins at once. Refused when it would leave the
    /// team without an owner.
    async fn team_add_member(
        team: TeamRef,
        user: UserRef,
        role: Role,
    ) -> Result<MemberAdded, RpcError>;
    /// Remove a user from a team, or withdraw their pending invitation (owners; anyone may
    /// leave). The last owner cannot go.
    async fn team_remove_member(team: TeamRef, user: UserRef) -> Result<(), RpcError>;
    /// Who belongs to a team, owners first.
    async fn team_members(team: TeamRef) -> Result<Vec<TeamMembership>, RpcError>;
    /// Who is invited into a team and has not answered yet, oldest first (members; protocol v12).
    async fn team_invitations(team: TeamRef) -> Result<Vec<Invitation>, RpcError>;
    /// The caller's own pending invitations, by team name (protocol v12). The invited user
    /// learns the team's id and name, who invited them and the role, nothing else of it.
    async fn invitations() -> Result<Vec<Invitation>, RpcError>;
    /// Accept the caller's invitation to a team (by the id or name it shows): the caller
    /// becomes a member with the role they were invited with. Answers the team as the caller
    /// now sees it (protocol v12).
    async fn invitation_accept(team: TeamRef) -> Result<TeamInfo, RpcError>;
    /// Decline the caller's invitation to a team; nothing of it is left (protocol v12).
    async fn invitation_decline(team: TeamRef) -> Result<(), RpcError>;

    /// Integrations of a team with credential metadata (never a token).
    async fn integrations(team: TeamRef) -> Result<Vec<IntegrationInfo>, RpcError>;
    /// Tracked repositories of a team with their sync status.
    async fn tracked_repos(team: TeamRef) -> Result<Vec<RepoInfo>, RpcError>;
    /// Status of one team, or of every team the caller can see.
    async fn status(team: Option<TeamRef>) -> Result<Vec<TeamStatus>, RpcError>;

    /// Start connecting a team to GitHub (OAuth device or web flow). Returns at once with what the
    /// user must do; follow the flow with `github_connect_status`.
    async fn github_connect(request: ConnectRequest) -> Result<ConnectStarted, RpcError>;
    /// Where a flow stands. Waits up to `wait_ms` (at most 8 s) for it to move past `Waiting`.
    async fn github_connect_status(flow: FlowId, wait_ms: u32) -> Result<ConnectState, RpcError>;
    /// Pick the organization of a flow in `ChooseOrg`.
    async fn github_connect_choose_org(flow: FlowId, org: String)
    -> Result<ConnectState, RpcError>;
    /// Confirm the GitHub login of a flow in `ConfirmLogin` (protocol v12): `github_login` is the
    /// login the user saw and accepted. A different login (compared ignoring ASCII case) is
    /// refused with `InvalidArgument` and stores nothing; the flow keeps waiting. Then the flow
    /// carries on: stored (`Connected`), or `ChooseOrg` when several organizations are visible.
    async fn github_connect_confirm_login(
        flow: FlowId,
        github_login: String,
    ) -> Result<ConnectState, RpcError>;
    /// Abandon a flow; nothing is stored.
    async fn github_connect_cancel(flow: FlowId) -> Result<(), RpcError>;
    /// Disconnect a team from GitHub: delete tidemark's webhooks, revoke the grant when the client
    /// secret is known, and delete credential, integration and tracked repos in one step. Synced
    /// history stays unless `purge`.
    async fn github_disconnect(team: TeamRef, purge: bool) -> Result<DisconnectReport, RpcError>;

    /// The connected organization's repositories (asks GitHub).
    async fn repos_available(team: TeamRef) -> Result<Vec<AvailableRepo>, RpcError>;
    /// Track repositories (`owner/repo`, of the connected organization); returns them.
    async fn repos_track(team: TeamRef, full_names: Vec<String>)
    -> Result<Vec<RepoInfo>, RpcError>;
    /// Stop tracking repositories; their synced history stays. Returns the names untracked.
    async fn repos_untrack(team: TeamRef, full_names: Vec<String>)
    -> Result<Vec<String>, RpcError>;

    /// Start a sync of the team's GitHub integration now (or join the one running).
    async fn sync_start(team: TeamRef) -> Result<SyncProgress, RpcError>;
    /// The team's sync progress; waits up to `wait_ms` (at most 8 s) for it to change while one
    /// runs.
    async fn sync_status(team: TeamRef, wait_ms: u32) -> Result<SyncProgress, RpcError>;

    /// The people measured: org members (and those who left, marked).
    async fn members(team: TeamRef) -> Result<Vec<MemberInfo>, RpcError>;
    /// Pull requests with their metrics, newest first.
    async fn pull_requests(query: PrQuery) -> Result<Vec<PrInfo>, RpcError>;
    /// count, p50, p75, p90 of cycle time, review time, coding, pickup, review and size.
    async fn metrics(query: MetricsQuery) -> Result<Vec<MetricsRow>, RpcError>;
    /// The five DORA delivery measures with every deployment, change and failure they count and
    /// the rule for each. `query.config` evaluates other rules without saving them (a preview).
    async fn dora(query: delivery::DoraQuery) -> Result<delivery::DoraReport, RpcError>;
    /// The team's delivery rules (the defaults until it saves its own).
    async fn delivery_config(team: TeamRef) -> Result<delivery::DeliveryConfig, RpcError>;
    /// Check and save the team's delivery rules (admins and owners); answers them as saved.
    async fn delivery_config_set(
        team: TeamRef,
        config: delivery::DeliveryConfig,
    ) -> Result<delivery::DeliveryConfig, RpcError>;

    /// The team's working agreements (none set until it saves some). Protocol v14.
    async fn agreements(team: TeamRef) -> Result<agreements::Agreements, RpcError>;
    /// Check and save the team's working agreements (admins and owners); answers them as saved.
    /// They are evaluated again at once.
    async fn agreements_set(
        team: TeamRef,
        agreements: agreements::Agreements,
    ) -> Result<agreements::Agreements, RpcError>;
    /// The team's breaches, newest first, with its Slack link's state.
    async fn alerts(query: agreements::AlertsQuery) -> Result<agreements::Alerts, RpcError>;
    /// Share of pull requests within each agreement per ISO week, oldest first, for pull
    /// requests opened at or after `since`.
    async fn adherence(
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<agreements::AdherenceRow>, RpcError>;
    /// Start connecting a team to a Slack workspace (Slack's OAuth v2, admins and owners):
    /// answers the link to open; follow it with `slack_connect_status`.
    async fn slack_connect(team: TeamRef) -> Result<ConnectStarted, RpcError>;
    /// Where a Slack flow stands; waits up to `wait_ms` (at most 8 s) while it waits.
    async fn slack_connect_status(
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<agreements::SlackConnectState, RpcError>;
    /// The channels the team's Slack bot can see (asks Slack).
    async fn slack_channels(team: TeamRef) -> Result<Vec<agreements::SlackChannel>, RpcError>;
    /// Pick the channel alerts and digests go to (by id or `#name`; admins and owners).
    async fn slack_channel_set(
        team: TeamRef,
        channel: String,
    ) -> Result<agreements::SlackStatus, RpcError>;
    /// Disconnect Slack: revoke the token at Slack and delete it; unsent messages are dropped.
    async fn slack_disconnect(team: TeamRef) -> Result<(), RpcError>;

    /// Roll the team's webhook secret on GitHub; the old one is still accepted for a grace period.
    async fn webhook_rotate_secret(team: TeamRef) -> Result<RotateReport, RpcError>;

    /// Reviews given per reviewer on others' pull requests created at or after `since`
    /// (protocol v5, additive: the TUI's People tab).
    async fn reviewers(team: TeamRef, since: Option<i64>) -> Result<Vec<ReviewerCount>, RpcError>;
    /// One pull request's commits and reviews in time order (protocol v5, additive: the TUI's
    /// pull request details).
    async fn pull_request_timeline(
        team: TeamRef,
        repo: String,
        number: u64,
    ) -> Result<PrTimeline, RpcError>;

    /// The daemon itself: pid, version, uptime, settings (secrets masked) and their sources
    /// (protocol v10, additive).
    async fn daemon_info() -> Result<DaemonInfo, RpcError>;
    /// Read the config file again and apply what changed (as SIGHUP does). Its own user and
    /// root only.
    async fn daemon_reload() -> Result<ReloadReport, RpcError>;
    /// Stop the daemon (`restart`: start it again, same command line, new config). It answers
    /// first. Its own user and root only.
    async fn daemon_stop(restart: bool) -> Result<(), RpcError>;
    /// Save the GitHub OAuth app's client id (and secret, sealed) in the config file and apply
    /// it at once. Its own user and root only.
    async fn github_app_set(request: GitHubAppRequest) -> Result<GitHubAppReport, RpcError>;
}
