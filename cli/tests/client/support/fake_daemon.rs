//! An in-memory stand-in for `tidemarkd`, serving the real protocol over the real transport, so
//! the client's wiring (codec, framing, handshake, error mapping) is tested end to end before the
//! daemon exists. It is deliberately simple: no users, no authorization.
//!
//! GitHub connect flows are simulated statefully, following the daemon's documented semantics:
//! a fixed device code, `Waiting` for a configurable number of status calls, then the user's
//! answer (approve or deny), then for the web flow `ConfirmLogin` until the client confirms the
//! login, then `ChooseOrg` when several organizations are visible and none was named, or
//! `Connected` (which stores an integration); cancel; disconnect removes it.

// Each test binary (and the example) uses a different part of the fake.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, CredentialInfo,
    DisconnectReport, FlowId, GitHubIntegrationInfo, Hello, IntegrationInfo, Invitation,
    MemberAdded, OrgChoice, PROTOCOL_VERSION, Provider, RepoInfo, Role, RpcError, SecretState,
    SyncStatus, TeamId, TeamInfo, TeamMembership, TeamRef, TeamStatus, Tidemark, UserInfo, UserRef,
    validate_team_name,
};
use tokio::net::UnixListener;
use tokio::task::{JoinHandle, JoinSet};

/// The daemon's words when no OAuth app is set up (`connect::NO_GITHUB_APP`).
pub const NOT_CONFIGURED: &str = "GitHub is not set up on this daemon yet: it needs the client id \
     of a GitHub OAuth app";

/// The daemon's cap on how long a status call is held.
const STATUS_WAIT_CAP_MS: u32 = 8_000;
/// How long a device code or authorization link works.
pub const FLOW_LIFETIME_SECS: i64 = 900;

/// How the fake's GitHub (and the daemon's GitHub settings) behave.
#[derive(Debug, Clone)]
pub struct FakeGithub {
    /// GITHUB_CLIENT_ID is set: without it no flow starts.
    pub client_id: bool,
    /// GITHUB_CLIENT_SECRET is set: the web flow and grant revocation need it.
    pub client_secret: bool,
    pub user_code: String,
    pub verification_uri: String,
    /// Status calls answered `Waiting` before the user acts at GitHub.
    pub waits: u32,
    /// Whether the user approves (otherwise denies) at GitHub.
    pub approve: bool,
    pub login: String,
    /// Organizations the token sees.
    pub orgs: Vec<OrgChoice>,
    /// How long a status call that answers `Waiting` is held (the daemon holds up to
    /// min(wait_ms, 8 s)); short, so tests stay fast.
    pub hold: Duration,
}

impl Default for FakeGithub {
    fn default() -> Self {
        FakeGithub {
            client_id: true,
            client_secret: true,
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://github.com/login/device".into(),
            waits: 2,
            approve: true,
            login: "octocat".into(),
            orgs: vec![org("acme", 4821, Some("Acme Corp"))],
            hold: Duration::from_millis(20),
        }
    }
}

pub fn org(login: &str, id: u64, description: Option<&str>) -> OrgChoice {
    OrgChoice {
        login: login.into(),
        id,
        description: description.map(Into::into),
    }
}

#[derive(Debug, Clone)]
struct Flow {
    team: TeamId,
    method: ConnectMethod,
    /// The user confirmed the GitHub login (the web flow asks).
    confirmed: bool,
    org: Option<String>,
    /// `Waiting` answers given so far.
    polls: u32,
    state: ConnectState,
    expires_at: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Clone)]
pub struct FakeDaemon {
    /// The GitHub data: repositories, sync, members, pull requests, metrics.
    pub sync: FakeSync,
    /// Working agreements, breaches and the Slack link.
    pub agreements: FakeAgreements,
    teams: Arc<Mutex<Vec<TeamStatus>>>,
    /// The protocol this fake claims to speak.
    protocol: u32,
    github: Arc<Mutex<FakeGithub>>,
    flows: Arc<Mutex<BTreeMap<FlowId, Flow>>>,
    /// Every `github_connect_cancel` that named a known flow, in order.
    cancelled: Arc<Mutex<Vec<FlowId>>>,
    /// Every flow whose login `github_connect_confirm_login` confirmed, in order.
    confirmed: Arc<Mutex<Vec<FlowId>>>,
    /// Every `github_app_set` request, in order (secrets and all: only tests read them).
    app_sets: Arc<Mutex<Vec<tidemark_protocol::GitHubAppRequest>>>,
    /// Whether the caller may reload and configure this daemon (its user, or root).
    operator: Arc<AtomicBool>,
}

impl FakeDaemon {
    pub fn new(teams: Vec<TeamStatus>) -> Self {
        FakeDaemon {
            sync: FakeSync::default(),
            agreements: FakeAgreements::default(),
            teams: Arc::new(Mutex::new(teams)),
            protocol: PROTOCOL_VERSION,
            github: Arc::new(Mutex::new(FakeGithub::default())),
            flows: Arc::new(Mutex::new(BTreeMap::new())),
            cancelled: Arc::new(Mutex::new(Vec::new())),
            confirmed: Arc::new(Mutex::new(Vec::new())),
            app_sets: Arc::new(Mutex::new(Vec::new())),
            operator: Arc::new(AtomicBool::new(true)),
        }
    }

    /// A daemon the caller may only look at (another user's, the system service say).
    pub fn not_operated_by_caller(self) -> Self {
        self.operator.store(false, Ordering::Relaxed);
        self
    }

    pub fn app_sets(&self) -> Vec<tidemark_protocol::GitHubAppRequest> {
        self.app_sets.lock().unwrap().clone()
    }

    fn operate(&self) -> Result<(), RpcError> {
        if self.operator.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(RpcError::PermissionDenied(
                "only the daemon's own user and root may stop, reload or configure it".into(),
            ))
        }
    }

    pub fn with_github(self, github: FakeGithub) -> Self {
        *self.github.lock().unwrap() = github;
        self
    }

    /// Flows started so far, by id.
    pub fn flows(&self) -> Vec<FlowId> {
        self.flows.lock().unwrap().keys().copied().collect()
    }

    pub fn flow_state(&self, flow: FlowId) -> Option<ConnectState> {
        self.flows
            .lock()
            .unwrap()
            .get(&flow)
            .map(|f| f.state.clone())
    }

    pub fn cancelled(&self) -> Vec<FlowId> {
        self.cancelled.lock().unwrap().clone()
    }

    pub fn confirmed(&self) -> Vec<FlowId> {
        self.confirmed.lock().unwrap().clone()
    }

    pub fn team(&self, name: &str) -> Option<TeamStatus> {
        let teams = self.teams.lock().unwrap();
        teams.iter().find(|t| t.team.name == name).cloned()
    }

    /// Store the team's GitHub integration (replacing any) and answer `Connected`.
    fn complete(&self, team: TeamId, org: &OrgChoice) -> ConnectState {
        let github = self.github.lock().unwrap().clone();
        let at = now();
        let integration = IntegrationInfo {
            credential: CredentialInfo {
                provider: Provider::Github,
                scopes: vec!["repo".into(), "read:org".into(), "admin:repo_hook".into()],
                access_token: SecretState::Masked("gho_…7c3d".into()),
                refresh_token: None,
                expires_at: None,
                connected_by: Some(UserInfo {
                    uid: 1000,
                    name: "alice".into(),
                }),
                created_at: at,
                updated_at: at,
            },
            github: Some(GitHubIntegrationInfo {
                organization_slug: org.login.clone(),
                organization_id: org.id,
                webhook_secret: SecretState::Masked("whs_…51e2".into()),
                sync_status: SyncStatus::Pending,
                sync_error: None,
                last_sync_at: None,
                web_url: "https://github.com".into(),
            }),
        };
        let mut teams = self.teams.lock().unwrap();
        if let Some(status) = teams.iter_mut().find(|t| t.team.id == team) {
            status
                .integrations
                .retain(|i| i.credential.provider != Provider::Github);
            status.integrations.push(integration.clone());
        }
        ConnectState::Connected {
            github_login: github.login,
            integration: Box::new(integration),
        }
    }

    /// What the flow becomes once the user acted at GitHub.
    fn decide(&self, flow: &Flow) -> ConnectState {
        let github = self.github.lock().unwrap().clone();
        if !github.approve {
            return ConnectState::Failed {
                reason: "the authorization was denied at GitHub".into(),
            };
        }
        let logins = || {
            github
                .orgs
                .iter()
                .map(|o| o.login.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // As the daemon: what cannot connect fails first, then the web flow asks.
        let unfit = match &flow.org {
            Some(slug) => !github
                .orgs
                .iter()
                .any(|o| o.login.eq_ignore_ascii_case(slug)),
            None => github.orgs.is_empty(),
        };
        if flow.method == ConnectMethod::Web && !flow.confirmed && !unfit {
            return ConnectState::ConfirmLogin {
                github_login: github.login,
            };
        }
        match (&flow.org, github.orgs.as_slice()) {
            (Some(slug), orgs) => match orgs.iter().find(|o| o.login.eq_ignore_ascii_case(slug)) {
                Some(org) => self.complete(flow.team, org),
                None => ConnectState::Failed {
                    reason: format!(
                        "organization '{slug}' is not visible to GitHub user {}; visible: {}",
                        github.login,
                        logins()
                    ),
                },
            },
            (None, []) => ConnectState::Failed {
                reason: format!(
                    "no organization is visible to GitHub user {}: ask an org owner to approve \
                     tidemark's OAuth app for the organization, then connect again",
                    github.login
                ),
            },
            (None, [only]) => self.complete(flow.team, only),
            (None, orgs) => ConnectState::ChooseOrg {
                orgs: orgs.to_vec(),
            },
        }
    }

    fn github_connection(status: &TeamStatus) -> Option<&IntegrationInfo> {
        status
            .integrations
            .iter()
            .find(|i| i.credential.provider == Provider::Github)
    }

    pub fn speaking(mut self, protocol: u32) -> Self {
        self.protocol = protocol;
        self
    }

    fn find(&self, team: &TeamRef) -> Result<usize, RpcError> {
        let teams = self.teams.lock().unwrap();
        teams
            .iter()
            .position(|t| match team {
                TeamRef::Id(id) => t.team.id == *id,
                TeamRef::Name(name) => &t.team.name == name,
            })
            .ok_or_else(|| RpcError::NotFound(team.to_string()))
    }

    /// Serve on `socket` until the handle is aborted (which also drops every connection).
    pub fn listen(self, socket: &Path) -> JoinHandle<()> {
        let listener = UnixListener::bind(socket).unwrap();
        tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let transport = tidemark_protocol::transport::framed(
                    stream,
                    tidemark_protocol::transport::MAX_FRAME,
                );
                let server = self.clone();
                connections.spawn(
                    BaseChannel::with_defaults(transport)
                        .execute(server.serve())
                        .for_each(|reply| async {
                            tokio::spawn(reply);
                        }),
                );
            }
        })
    }
}

impl Tidemark for FakeDaemon {
    async fn hello(self, _: Context, client_protocol: u32) -> Result<Hello, RpcError> {
        if client_protocol != self.protocol {
            return Err(RpcError::VersionMismatch {
                client: client_protocol,
                daemon: self.protocol,
                daemon_version: "0.0.0-fake".into(),
            });
        }
        Ok(Hello {
            protocol_version: self.protocol,
            daemon_version: "0.0.0-fake".into(),
        })
    }

    async fn whoami(self, _: Context) -> Result<UserInfo, RpcError> {
        Ok(UserInfo {
            uid: 1000,
            name: "alice".into(),
        })
    }

    async fn team_create(self, _: Context, name: String) -> Result<TeamInfo, RpcError> {
        validate_team_name(&name).map_err(|reason| RpcError::invalid("team name", reason))?;
        let mut teams = self.teams.lock().unwrap();
        if teams.iter().any(|t| t.team.name == name) {
            return Err(RpcError::AlreadyExists(format!("a team named '{name}'")));
        }
        let team = TeamInfo {
            id: teams.iter().map(|t| t.team.id).max().unwrap_or(0) + 1,
            name,
            created_at: 1_736_085_780,
            role: Some(Role::Owner),
        };
        teams.push(TeamStatus {
            team: team.clone(),
            integrations: vec![],
            repos: vec![],
            member_count: 0,
            pull_request_count: 0,
            webhook_public_url: None,
            webhooks_pending: 0,
            webhooks_oldest_pending_at: None,
            rate_budget: vec![],
            member_changes: None,
            webhook_intake: tidemark_protocol::WebhookIntake::default(),
            open_breaches: 0,
            slack: None,
        });
        Ok(team)
    }

    async fn team_list(self, _: Context) -> Result<Vec<TeamInfo>, RpcError> {
        let mut teams: Vec<_> = self
            .teams
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.team.clone())
            .collect();
        teams.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(teams)
    }

    async fn team_rename(
        self,
        _: Context,
        team: TeamRef,
        new_name: String,
    ) -> Result<TeamInfo, RpcError> {
        let index = self.find(&team)?;
        let mut teams = self.teams.lock().unwrap();
        teams[index].team.name = new_name;
        Ok(teams[index].team.clone())
    }

    async fn team_delete(self, _: Context, team: TeamRef) -> Result<TeamInfo, RpcError> {
        let index = self.find(&team)?;
        Ok(self.teams.lock().unwrap().remove(index).team)
    }

    // Membership: the fake has one user, alice (uid 1000), the owner of every team.
    async fn team_add_member(
        self,
        _: Context,
        team: TeamRef,
        user: UserRef,
        _role: Role,
    ) -> Result<MemberAdded, RpcError> {
        self.find(&team)?;
        Err(RpcError::invalid(
            "user",
            format!("the fake daemon knows no {user}"),
        ))
    }

    async fn team_remove_member(
        self,
        _: Context,
        team: TeamRef,
        _user: UserRef,
    ) -> Result<(), RpcError> {
        self.find(&team)?;
        Err(RpcError::invalid(
            "user",
            "this is the team's last owner; make someone else owner first",
        ))
    }

    async fn team_members(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<TeamMembership>, RpcError> {
        self.find(&team)?;
        Ok(vec![TeamMembership {
            user: UserInfo {
                uid: 1000,
                name: "alice".into(),
            },
            role: Role::Owner,
            since: 1_736_085_780,
        }])
    }

    // Invitations: nobody is ever invited here (alice is the only user).
    async fn team_invitations(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<Invitation>, RpcError> {
        self.find(&team)?;
        Ok(vec![])
    }

    async fn invitations(self, _: Context) -> Result<Vec<Invitation>, RpcError> {
        Ok(vec![])
    }

    async fn invitation_accept(self, _: Context, team: TeamRef) -> Result<TeamInfo, RpcError> {
        Err(RpcError::NotFound(team.to_string()))
    }

    async fn invitation_decline(self, _: Context, team: TeamRef) -> Result<(), RpcError> {
        Err(RpcError::NotFound(team.to_string()))
    }

    async fn integrations(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<IntegrationInfo>, RpcError> {
        let index = self.find(&team)?;
        Ok(self.teams.lock().unwrap()[index].integrations.clone())
    }

    async fn tracked_repos(self, _: Context, team: TeamRef) -> Result<Vec<RepoInfo>, RpcError> {
        let index = self.find(&team)?;
        Ok(self.teams.lock().unwrap()[index].repos.clone())
    }

    async fn status(self, _: Context, team: Option<TeamRef>) -> Result<Vec<TeamStatus>, RpcError> {
        match team {
            Some(team) => {
                let index = self.find(&team)?;
                Ok(vec![self.teams.lock().unwrap()[index].clone()])
            }
            None => Ok(self.teams.lock().unwrap().clone()),
        }
    }

    async fn github_connect(
        self,
        _: Context,
        request: ConnectRequest,
    ) -> Result<ConnectStarted, RpcError> {
        let github = self.github.lock().unwrap().clone();
        let index = self.find(&request.team)?;
        if let Some(org) = &request.org {
            let valid = (1..=39).contains(&org.len())
                && org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !org.starts_with('-')
                && !org.ends_with('-');
            if !valid {
                return Err(RpcError::invalid(
                    "org",
                    format!("'{org}' is not a valid GitHub login"),
                ));
            }
        }
        let (team, connected) = {
            let teams = self.teams.lock().unwrap();
            let status = &teams[index];
            let connected = Self::github_connection(status).map(|i| match &i.github {
                Some(gh) => gh.organization_slug.clone(),
                None => "no organization chosen yet".into(),
            });
            (status.team.clone(), connected)
        };
        if let (Some(org), false) = (connected, request.replace) {
            return Err(RpcError::AlreadyExists(format!(
                "a GitHub connection for this team (organization '{org}'); confirm to replace \
                 its token"
            )));
        }
        if !github.client_id {
            return Err(RpcError::NotConfigured(NOT_CONFIGURED.into()));
        }
        if request.method == ConnectMethod::Web && !github.client_secret {
            return Err(RpcError::invalid(
                "method",
                "the web flow needs GITHUB_CLIENT_SECRET in the daemon's environment; use the \
                 device flow instead",
            ));
        }
        let mut flows = self.flows.lock().unwrap();
        let flow = flows.keys().next_back().map_or(1, |last| last + 1);
        let expires_at = now() + FLOW_LIFETIME_SECS;
        flows.insert(
            flow,
            Flow {
                team: team.id,
                method: request.method,
                confirmed: false,
                org: request.org,
                polls: 0,
                state: ConnectState::Waiting,
                expires_at,
            },
        );
        let prompt = match request.method {
            ConnectMethod::Device => ConnectPrompt::Device {
                user_code: github.user_code,
                verification_uri: github.verification_uri,
            },
            ConnectMethod::Web => ConnectPrompt::Browser {
                authorize_url: format!(
                    "https://github.com/login/oauth/authorize?client_id=Iv1.fake&state=flow-{flow}"
                ),
            },
        };
        Ok(ConnectStarted {
            flow,
            prompt,
            expires_at,
        })
    }

    async fn github_connect_status(
        self,
        _: Context,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<ConnectState, RpcError> {
        let unknown = || RpcError::NotFound(format!("connect flow {flow}"));
        let current = self.flows.lock().unwrap().get(&flow).cloned();
        let mut current = current.ok_or_else(unknown)?;
        if current.state != ConnectState::Waiting {
            return Ok(current.state);
        }
        let github = self.github.lock().unwrap().clone();
        let state = if now() >= current.expires_at {
            ConnectState::Failed {
                reason: "the connection attempt expired; start again".into(),
            }
        } else if current.polls < github.waits {
            current.polls += 1;
            ConnectState::Waiting
        } else {
            self.decide(&current)
        };
        {
            let mut flows = self.flows.lock().unwrap();
            let stored = flows.get_mut(&flow).ok_or_else(unknown)?;
            // A cancel that landed meanwhile wins.
            if stored.state != ConnectState::Waiting {
                return Ok(stored.state.clone());
            }
            stored.polls = current.polls;
            stored.state = state.clone();
        }
        if state == ConnectState::Waiting {
            let hold = Duration::from_millis(u64::from(wait_ms.min(STATUS_WAIT_CAP_MS)));
            tokio::time::sleep(hold.min(github.hold)).await;
        }
        Ok(state)
    }

    async fn github_connect_choose_org(
        self,
        _: Context,
        flow: FlowId,
        org: String,
    ) -> Result<ConnectState, RpcError> {
        let current = self.flows.lock().unwrap().get(&flow).cloned();
        let current = current.ok_or_else(|| RpcError::NotFound(format!("connect flow {flow}")))?;
        let ConnectState::ChooseOrg { orgs } = &current.state else {
            return Err(RpcError::invalid(
                "flow",
                "this flow is not waiting for an organization choice",
            ));
        };
        let Some(chosen) = orgs.iter().find(|o| o.login.eq_ignore_ascii_case(&org)) else {
            let logins: Vec<_> = orgs.iter().map(|o| o.login.as_str()).collect();
            return Err(RpcError::invalid(
                "org",
                format!("'{org}' is not one of: {}", logins.join(", ")),
            ));
        };
        let state = self.complete(current.team, chosen);
        if let Some(stored) = self.flows.lock().unwrap().get_mut(&flow) {
            stored.state = state.clone();
        }
        Ok(state)
    }

    async fn github_connect_confirm_login(
        self,
        _: Context,
        flow: FlowId,
        github_login: String,
    ) -> Result<ConnectState, RpcError> {
        let current = self.flows.lock().unwrap().get(&flow).cloned();
        let mut current =
            current.ok_or_else(|| RpcError::NotFound(format!("connect flow {flow}")))?;
        let ConnectState::ConfirmLogin {
            github_login: shown,
        } = &current.state
        else {
            return Err(RpcError::invalid(
                "flow",
                "this flow is not waiting for a login confirmation",
            ));
        };
        if !shown.eq_ignore_ascii_case(&github_login) {
            return Err(RpcError::invalid(
                "github_login",
                format!(
                    "GitHub signed this flow in as @{shown}, not @{github_login}; nothing was \
                     stored. Confirm @{shown} only if it is the account to connect, or cancel"
                ),
            ));
        }
        current.confirmed = true;
        let state = self.decide(&current);
        if let Some(stored) = self.flows.lock().unwrap().get_mut(&flow) {
            stored.confirmed = true;
            stored.state = state.clone();
        }
        self.confirmed.lock().unwrap().push(flow);
        Ok(state)
    }

    async fn github_connect_cancel(self, _: Context, flow: FlowId) -> Result<(), RpcError> {
        let mut flows = self.flows.lock().unwrap();
        let stored = flows
            .get_mut(&flow)
            .ok_or_else(|| RpcError::NotFound(format!("connect flow {flow}")))?;
        if !stored.state.is_final() {
            stored.state = ConnectState::Failed {
                reason: "cancelled".into(),
            };
        }
        self.cancelled.lock().unwrap().push(flow);
        Ok(())
    }

    async fn github_disconnect(
        self,
        _: Context,
        team: TeamRef,
        purge: bool,
    ) -> Result<DisconnectReport, RpcError> {
        let index = self.find(&team)?;
        let secret = self.github.lock().unwrap().client_secret;
        let mut teams = self.teams.lock().unwrap();
        let status = &mut teams[index];
        let Some(connection) = Self::github_connection(status) else {
            return Err(RpcError::NotFound(
                "a GitHub connection for this team".into(),
            ));
        };
        let organization = connection
            .github
            .as_ref()
            .map(|gh| gh.organization_slug.clone());
        let report = DisconnectReport {
            organization,
            hooks_deleted: status
                .repos
                .iter()
                .filter(|r| r.webhook_id.is_some())
                .count() as u32,
            hooks_failed: vec![],
            grant_revoked: secret,
            grant_note: (!secret).then(|| {
                "no GITHUB_CLIENT_SECRET is configured, so tidemark cannot revoke its token: \
                 revoke tidemark's access at https://github.com/settings/applications"
                    .into()
            }),
            repos_removed: status.repos.len() as u32,
            history_purged: purge,
        };
        status
            .integrations
            .retain(|i| i.credential.provider != Provider::Github);
        status.repos.clear();
        if purge {
            status.member_count = 0;
            status.pull_request_count = 0;
        }
        Ok(report)
    }

    async fn repos_available(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::AvailableRepo>, RpcError> {
        let index = self.find(&team)?;
        self.sync.repos_available(&self.teams, index)
    }

    async fn repos_track(
        self,
        _: Context,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<RepoInfo>, RpcError> {
        let index = self.find(&team)?;
        self.sync.repos_track(&self.teams, index, full_names)
    }

    async fn repos_untrack(
        self,
        _: Context,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<String>, RpcError> {
        let index = self.find(&team)?;
        self.sync.repos_untrack(&self.teams, index, full_names)
    }

    async fn sync_start(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::SyncProgress, RpcError> {
        let index = self.find(&team)?;
        self.sync.sync_start(&self.teams, index)
    }

    async fn sync_status(
        self,
        _: Context,
        team: TeamRef,
        wait_ms: u32,
    ) -> Result<tidemark_protocol::SyncProgress, RpcError> {
        let index = self.find(&team)?;
        self.sync.sync_status(&self.teams, index, wait_ms).await
    }

    async fn members(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::MemberInfo>, RpcError> {
        let index = self.find(&team)?;
        self.sync.members(&self.teams, index)
    }

    async fn pull_requests(
        self,
        _: Context,
        query: tidemark_protocol::PrQuery,
    ) -> Result<Vec<tidemark_protocol::PrInfo>, RpcError> {
        let index = self.find(&query.team)?;
        self.sync.pull_requests(&self.teams, index, query)
    }

    async fn metrics(
        self,
        _: Context,
        query: tidemark_protocol::MetricsQuery,
    ) -> Result<Vec<tidemark_protocol::MetricsRow>, RpcError> {
        let index = self.find(&query.team)?;
        self.sync.metrics(&self.teams, index, query)
    }

    // Delivery calls are tested against the real daemon's service (`real_daemon.rs`): the
    // fake holds no deployments to count.
    async fn dora(
        self,
        _: Context,
        _query: tidemark_protocol::delivery::DoraQuery,
    ) -> Result<tidemark_protocol::delivery::DoraReport, RpcError> {
        Err(RpcError::NotConfigured(
            "the fake daemon has no delivery data".into(),
        ))
    }

    async fn delivery_config(
        self,
        _: Context,
        _team: TeamRef,
    ) -> Result<tidemark_protocol::delivery::DeliveryConfig, RpcError> {
        Err(RpcError::NotConfigured(
            "the fake daemon has no delivery data".into(),
        ))
    }

    async fn delivery_config_set(
        self,
        _: Context,
        _team: TeamRef,
        _config: tidemark_protocol::delivery::DeliveryConfig,
    ) -> Result<tidemark_protocol::delivery::DeliveryConfig, RpcError> {
        Err(RpcError::NotConfigured(
            "the fake daemon has no delivery data".into(),
        ))
    }

    async fn agreements(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::agreements::Agreements, RpcError> {
        let index = self.find(&team)?;
        let id = self.teams.lock().unwrap()[index].team.id;
        Ok(self.agreements.agreements(id))
    }

    async fn agreements_set(
        self,
        _: Context,
        team: TeamRef,
        agreements: tidemark_protocol::agreements::Agreements,
    ) -> Result<tidemark_protocol::agreements::Agreements, RpcError> {
        let index = self.find(&team)?;
        self.agreements
            .set_agreements(&self.teams, index, agreements)
    }

    async fn alerts(
        self,
        _: Context,
        query: tidemark_protocol::agreements::AlertsQuery,
    ) -> Result<tidemark_protocol::agreements::Alerts, RpcError> {
        let index = self.find(&query.team)?;
        self.agreements.alerts(&self.teams, index, query)
    }

    async fn adherence(
        self,
        _: Context,
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<tidemark_protocol::agreements::AdherenceRow>, RpcError> {
        self.find(&team)?;
        Ok(self.agreements.adherence(since))
    }

    async fn slack_connect(self, _: Context, team: TeamRef) -> Result<ConnectStarted, RpcError> {
        let index = self.find(&team)?;
        self.agreements.connect(&self.teams, index)
    }

    async fn slack_connect_status(
        self,
        _: Context,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<tidemark_protocol::agreements::SlackConnectState, RpcError> {
        self.agreements
            .connect_status(&self.teams, flow, wait_ms.min(STATUS_WAIT_CAP_MS))
            .await
    }

    async fn slack_channels(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::agreements::SlackChannel>, RpcError> {
        let index = self.find(&team)?;
        self.agreements.channels(&self.teams, index)
    }

    async fn slack_channel_set(
        self,
        _: Context,
        team: TeamRef,
        channel: String,
    ) -> Result<tidemark_protocol::agreements::SlackStatus, RpcError> {
        let index = self.find(&team)?;
        self.agreements.channel_set(&self.teams, index, &channel)
    }

    async fn slack_disconnect(self, _: Context, team: TeamRef) -> Result<(), RpcError> {
        let index = self.find(&team)?;
        self.agreements.disconnect(&self.teams, index)
    }

    async fn webhook_rotate_secret(
        self,
        _: Context,
        _team: TeamRef,
    ) -> Result<tidemark_protocol::RotateReport, RpcError> {
        Err(RpcError::Internal("the fake daemon has no GitHub".into()))
    }

    async fn reviewers(
        self,
        _: Context,
        _team: TeamRef,
        _since: Option<i64>,
    ) -> Result<Vec<tidemark_protocol::ReviewerCount>, RpcError> {
        Ok(Vec::new())
    }

    async fn pull_request_timeline(
        self,
        _: Context,
        _team: TeamRef,
        repo: String,
        _number: u64,
    ) -> Result<tidemark_protocol::PrTimeline, RpcError> {
        Err(RpcError::NotFound(format!("tracked repository {repo}")))
    }

    async fn daemon_info(self, _: Context) -> Result<tidemark_protocol::DaemonInfo, RpcError> {
        let github = self.github.lock().unwrap().clone();
        let client_id = self
            .app_sets
            .lock()
            .unwrap()
            .last()
            .map_or_else(|| "Iv1.fake".to_string(), |set| set.client_id.clone());
        Ok(tidemark_protocol::DaemonInfo {
            pid: std::process::id(),
            version: "0.0.0-fake".into(),
            protocol_version: self.protocol,
            started_at: now() - 65,
            uptime_secs: 65,
            user: "fake".into(),
            data_dir: "/fake/data".into(),
            socket: "/fake/tidemark.sock".into(),
            config_file: Some("/fake/config/tidemark/daemon.toml".into()),
            config_file_exists: github.client_id,
            settings: vec![tidemark_protocol::SettingInfo {
                key: "github_client_id".into(),
                value: github.client_id.then_some(client_id),
                source: if github.client_id {
                    tidemark_protocol::SettingSource::ConfigFile
                } else {
                    tidemark_protocol::SettingSource::Default
                },
                reloadable: true,
            }],
            managed_by: None,
            github: fake_app_info(&github),
            caller_may_operate: self.operator.load(Ordering::Relaxed),
        })
    }

    async fn daemon_reload(self, _: Context) -> Result<tidemark_protocol::ReloadReport, RpcError> {
        self.operate()?;
        Ok(tidemark_protocol::ReloadReport {
            config_file: Some("/fake/config/tidemark/daemon.toml".into()),
            applied: vec![],
            need_restart: vec![],
            overridden: vec![],
        })
    }

    async fn daemon_stop(self, _: Context, _restart: bool) -> Result<(), RpcError> {
        Err(RpcError::PermissionDenied(
            "the fake daemon does not stop".into(),
        ))
    }

    async fn github_app_set(
        self,
        _: Context,
        request: tidemark_protocol::GitHubAppRequest,
    ) -> Result<tidemark_protocol::GitHubAppReport, RpcError> {
        self.operate()?;
        if request.client_id.trim().is_empty() {
            return Err(RpcError::invalid("client_id", "empty"));
        }
        self.app_sets.lock().unwrap().push(request.clone());
        let mut github = self.github.lock().unwrap();
        github.client_id = true;
        if request.client_secret.is_some() {
            github.client_secret = true;
        }
        if request.clear_secret {
            github.client_secret = false;
        }
        Ok(tidemark_protocol::GitHubAppReport {
            config_file: "/fake/config/tidemark/daemon.toml".into(),
            github: fake_app_info(&github),
            reload: tidemark_protocol::ReloadReport {
                config_file: Some("/fake/config/tidemark/daemon.toml".into()),
                applied: vec!["github_client_id".into()],
                need_restart: vec![],
                overridden: vec![],
            },
        })
    }
}

fn fake_app_info(github: &FakeGithub) -> tidemark_protocol::GitHubAppInfo {
    tidemark_protocol::GitHubAppInfo {
        configured: github.client_id,
        has_secret: github.client_secret,
        web_url: "https://github.com".into(),
        register_url: "https://github.com/settings/applications/new".into(),
        callback_url: "http://127.0.0.1/oauth/callback".into(),
    }
}

// A sibling file, named from here so the example that includes this file finds it too.
#[path = "fake_sync.rs"]
mod fake_sync;

pub use fake_sync::FakeSync;

#[path = "fake_agreements.rs"]
mod fake_agreements;

pub use fake_agreements::FakeAgreements;
