//! What flows between the UI loop and the daemon link: requests out, events in.

use ratatui::crossterm::event::KeyEvent;
use tidemark_protocol::{
    AvailableRepo, ConnectMethod, ConnectStarted, ConnectState, DaemonInfo, DisconnectReport,
    FlowId, GitHubAppReport, GitHubAppRequest, Invitation, PrInfo, PrTimeline, ReloadReport,
    RepoInfo, RotateReport, SyncProgress, TeamId, TeamInfo, TeamStatus,
};

use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup};

use tidemark_protocol::agreements::Agreements;

use crate::tabs::alerts::AlertsData;
use crate::tabs::delivery::DeliveryData;
use crate::tabs::metrics::MetricsData;
use crate::tabs::people::PeopleData;

/// An RPC the UI wants made. The link runs it on its own task and answers with a [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    ListTeams,
    LoadTeam(TeamId),
    CreateTeam(String),
    DeleteTeam {
        id: TeamId,
        name: String,
    },
    /// The caller's invitations into teams.
    ListInvitations,
    /// Answer the caller's invitation to `team` (`name` for the words on screen).
    AnswerInvitation {
        team: TeamId,
        name: String,
        accept: bool,
    },
    StartConnect {
        team: TeamId,
        method: ConnectMethod,
        replace: bool,
        /// Echoed in the reply, so a late answer to an abandoned dialog is recognised.
        attempt: u64,
    },
    /// Long poll: the link asks the daemon to hold the call until the flow moves.
    ConnectStatus {
        flow: FlowId,
    },
    ChooseOrg {
        flow: FlowId,
        org: String,
    },
    /// The web flow's GitHub login, confirmed by the user.
    ConfirmLogin {
        flow: FlowId,
        github_login: String,
    },
    CancelConnect {
        flow: FlowId,
    },
    DisconnectGithub {
        id: TeamId,
        name: String,
        purge: bool,
    },
    /// Wait `after_ms`, long-poll the team's sync progress, then read its status: how the team
    /// screen stays live without key presses. One is out per open team screen.
    WatchTeam {
        team: TeamId,
        seq: u64,
        after_ms: u32,
    },
    /// Numbered: only the reply to the newest one is kept (replies may arrive in any order).
    LoadPulls {
        team: TeamId,
        load: u64,
    },
    /// Members, per-member metrics (bots included) and reviews given since `since`.
    LoadPeople {
        team: TeamId,
        since: i64,
    },
    /// Weekly and whole-team metrics since `since`.
    LoadMetrics {
        team: TeamId,
        since: i64,
    },
    /// The DORA report by team and by week since `since`, and the team's delivery rules.
    LoadDelivery {
        team: TeamId,
        since: i64,
    },
    /// The team's figures over the last 12 weeks with its saved rules and with `config`.
    DeliveryPreview {
        team: TeamId,
        config: Box<DeliveryConfig>,
    },
    /// Save the team's delivery rules (admins and owners).
    SaveDeliveryRules {
        team: TeamId,
        config: Box<DeliveryConfig>,
    },
    /// The team's breaches (resolved ones too when asked) and its working agreements.
    LoadAlerts {
        team: TeamId,
        resolved: bool,
    },
    /// Save the team's working agreements (admins and owners).
    SaveAgreements {
        team: TeamId,
        agreements: Box<Agreements>,
    },
    SyncNow(TeamId),
    ReposAvailable(TeamId),
    Track {
        team: TeamId,
        names: Vec<String>,
    },
    Untrack {
        team: TeamId,
        name: String,
    },
    RotateSecret(TeamId),
    Timeline {
        team: TeamId,
        repo: String,
        number: u64,
    },
    /// What runs: pid, settings and their sources, whether GitHub is set up.
    DaemonInfo,
    /// Read the daemon's config file again (operators only).
    DaemonReload,
    /// Save the GitHub OAuth app in the daemon's config and apply it (operators only). The
    /// request's `Debug` masks the secret, so logging a request never shows it.
    GithubAppSet(GitHubAppRequest),
    /// Not an RPC: after the daemon failed to start, try `connect_or_start` once more. Only the
    /// link's reconnect loop acts on it; it has no reply (the link's events tell the outcome).
    StartDaemon,
}

/// Why `github_connect` did not start a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The team already has a GitHub token (the daemon's words); ask before replacing it.
    AlreadyConnected(String),
    /// The daemon has no GitHub OAuth app yet (its words); the TUI offers to set one up.
    NotConfigured(String),
    Refused(String),
}

/// Why a call only the daemon's operators may make (reload, GitHub setup) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperateError {
    /// The daemon belongs to another user (the system service, say): the daemon's words.
    Denied(String),
    Failed(String),
}

/// Side effects on this machine rather than RPCs: the runtime performs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start the browser on a link (never waited for).
    OpenUrl(String),
    /// Put text on the clipboard through the terminal (OSC 52).
    Copy(String),
}

/// The answer to a [`Request`]. Errors are already worded for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Teams(Result<Vec<TeamInfo>, String>),
    Team {
        id: TeamId,
        /// Boxed: a team's status is large next to the other replies.
        result: Result<Box<TeamStatus>, String>,
    },
    Created(Result<TeamInfo, String>),
    Deleted {
        id: TeamId,
        name: String,
        result: Result<(), String>,
    },
    Invitations(Result<Vec<Invitation>, String>),
    /// An invitation accepted (the team as the caller now sees it, `Some`) or declined.
    Answered {
        team: TeamId,
        name: String,
        result: Result<Option<TeamInfo>, String>,
    },
    ConnectStarted {
        attempt: u64,
        result: Result<ConnectStarted, StartError>,
    },
    /// The answer to a status poll or an organization choice.
    ConnectState {
        flow: FlowId,
        result: Result<ConnectState, String>,
    },
    ConnectCancelled {
        flow: FlowId,
        result: Result<(), String>,
    },
    Disconnected {
        id: TeamId,
        name: String,
        result: Result<DisconnectReport, String>,
    },
    Watched {
        team: TeamId,
        seq: u64,
        result: Result<Box<(SyncProgress, TeamStatus)>, String>,
    },
    Pulls {
        team: TeamId,
        load: u64,
        result: Result<Vec<PrInfo>, String>,
    },
    People {
        team: TeamId,
        since: i64,
        result: Result<PeopleData, String>,
    },
    Metrics {
        team: TeamId,
        since: i64,
        result: Result<Box<MetricsData>, String>,
    },
    Delivery {
        team: TeamId,
        since: i64,
        result: Result<Box<DeliveryData>, String>,
    },
    /// Before and after, for the rules previewed (echoed, so a stale answer is told apart).
    DeliveryPreview {
        team: TeamId,
        config: Box<DeliveryConfig>,
        result: Result<Box<(DoraGroup, DoraGroup)>, String>,
    },
    /// The rules as the daemon saved them.
    DeliverySaved {
        team: TeamId,
        result: Result<DeliveryConfig, String>,
    },
    /// Echoes whether resolved breaches were asked for, so an answer to the other list is
    /// told apart.
    Alerts {
        team: TeamId,
        resolved: bool,
        result: Result<Box<AlertsData>, String>,
    },
    /// The agreements as the daemon saved them.
    AgreementsSaved {
        team: TeamId,
        result: Result<Agreements, String>,
    },
    SyncStarted {
        team: TeamId,
        result: Result<SyncProgress, String>,
    },
    Available {
        team: TeamId,
        result: Result<Vec<AvailableRepo>, String>,
    },
    Tracked {
        team: TeamId,
        result: Result<Vec<RepoInfo>, String>,
    },
    Untracked {
        team: TeamId,
        name: String,
        result: Result<(), String>,
    },
    Rotated {
        team: TeamId,
        result: Result<RotateReport, String>,
    },
    Timeline {
        team: TeamId,
        repo: String,
        number: u64,
        result: Result<PrTimeline, String>,
    },
    DaemonInfo(Result<Box<DaemonInfo>, String>),
    Reloaded(Result<ReloadReport, OperateError>),
    GithubAppSaved(Result<Box<GitHubAppReport>, OperateError>),
}

/// Changes in the connection to the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// Nothing answered, so the built-in daemon is being started.
    Starting,
    Connected {
        daemon_version: String,
    },
    /// Not connected (lost, or never reached); the link keeps retrying.
    Lost {
        reason: String,
    },
    /// The daemon this TUI started did not come up (the reason is the start's own error). The
    /// link does not start it again by itself, only on [`Request::StartDaemon`]; it keeps
    /// looking at the socket, so a daemon started elsewhere is picked up.
    StartFailed {
        reason: String,
    },
}

/// Everything the UI loop reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Key(KeyEvent),
    /// The mouse wheel: `true` scrolls down.
    Scroll(bool),
    /// The terminal changed size: redraw.
    Resize,
    /// Animation clock for the spinner.
    Tick,
    /// The wall clock, in Unix seconds, for countdowns (about once a second).
    Clock(i64),
    /// A local effect could not be performed (no opener installed...).
    EffectFailed(String),
    Link(LinkEvent),
    Reply(Reply),
}
