//! Connecting a team to GitHub: OAuth flows run by the daemon, followed by clients over RPC.
//!
//! A flow: start (device code or browser URL) → `Waiting` → token → read the user and their orgs
//! → one org: store; several: `ChooseOrg` until the user picks → `Connected`, or `Failed` with a
//! reason at any step. Nothing is stored before the end, and a failed flow stores nothing.
//! Tokens in flight live only in memory, in [`Secret`]s.

pub mod callback;
pub mod disconnect;

use crate::crypto::Secret;
use crate::github::oauth::{OAuth, OAuthError, TokenSet};
use crate::github::types::Org;
use crate::github::{Api, GitHubConfig, GitHubError};
use crate::rpc::Shared;
use crate::store::{GitHubLogin, Provider, StoreError, TeamId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, FlowId, OrgChoice,
    RpcError,
};
use tokio::sync::watch;

/// How long the browser link of a web flow stays valid (and its `state`).
pub const WEB_FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a flow may wait for an organization choice.
const CHOOSE_TTL: Duration = Duration::from_secs(10 * 60);
/// Finished flows stay readable this long, so a client polling late still learns the outcome.
const KEEP_ENDED: Duration = Duration::from_secs(120);
/// Longest a status call waits for a change (tarpc's default deadline is 10 s).
const MAX_WAIT: Duration = Duration::from_secs(8);

/// The daemon's GitHub settings and the flows in progress.
pub struct Connector {
    /// GitHub settings as they are now; a reload swaps them (calls under way keep theirs).
    live: RwLock<Arc<GitHubLive>>,
    pub http: reqwest::Client,
    flows: Mutex<HashMap<FlowId, Flow>>,
    next_flow: AtomicU64,
    /// Bumped when webhook secrets or hook ids change, so the receiver looks them up again.
    hooks_changed: AtomicU64,
    pub(crate) callback: Mutex<Option<callback::Listener>>,
}

/// The GitHub settings a call uses, taken whole so a reload never mixes old and new.
pub struct GitHubLive {
    pub github: GitHubConfig,
    /// The URL GitHub reaches this daemon's webhook listener at (a tunnel's); None: no hooks.
    pub public_url: Option<String>,
    pub api: Api,
}

impl GitHubLive {
    fn new(http: &reqwest::Client, github: GitHubConfig, public_url: Option<String>) -> Self {
        let api = Api::new(http.clone(), &github.api_url);
        GitHubLive {
            github,
            public_url,
            api,
        }
    }
}

/// The web flow's secrets, until its callback arrives (single use).
pub(crate) struct WebWait {
    pub state: Secret,
    pub verifier: Secret,
    pub redirect_uri: String,
}

/// A token approved at GitHub, waiting for the user to pick an organization.
struct Approved {
    tokens: TokenSet,
    login: String,
    orgs: Vec<Org>,
}

struct Flow {
    team: TeamId,
    uid: u32,
    org: Option<String>,
    replace: bool,
    state: watch::Sender<ConnectState>,
    web: Option<WebWait>,
    approved: Option<Approved>,
    task: Option<tokio::task::AbortHandle>,
    deadline: Instant,
    ended_at: Option<Instant>,
}

impl Connector {
    pub fn new(github: GitHubConfig, public_url: Option<String>) -> Connector {
        let http = crate::github::http_client();
        let live = GitHubLive::new(&http, github, public_url);
        Connector {
            live: RwLock::new(Arc::new(live)),
            http,
            flows: Mutex::new(HashMap::new()),
            next_flow: AtomicU64::new(1),
            hooks_changed: AtomicU64::new(0),
            callback: Mutex::new(None),
        }
    }

    /// The GitHub settings in effect now.
    pub fn live(&self) -> Arc<GitHubLive> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Apply reloaded settings: calls that start from now on use them.
    pub fn set_live(&self, github: GitHubConfig, public_url: Option<String>) {
        let live = GitHubLive::new(&self.http, github, public_url);
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(live);
    }

    /// Webhook secrets or hook ids changed (rotation, connect, disconnect, a hook created).
    pub fn hooks_changed(&self) {
        self.hooks_changed.fetch_add(1, Ordering::SeqCst);
    }

    pub fn hooks_generation(&self) -> u64 {
        self.hooks_changed.load(Ordering::SeqCst)
    }

    fn flows(&self) -> MutexGuard<'_, HashMap<FlowId, Flow>> {
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn oauth(&self) -> Result<OAuth, OAuthError> {
        OAuth::new(&self.live().github, self.http.clone())
    }

    /// Set a flow's state (ending it when final). Unknown flows are ignored: cancelled meanwhile.
    fn set_state(&self, flow: FlowId, state: ConnectState) {
        let mut flows = self.flows();
        if let Some(f) = flows.get_mut(&flow) {
            if state.is_final() {
                f.ended_at = Some(Instant::now());
                f.web = None;
                f.approved = None;
            }
            f.state.send_replace(state);
        }
        drop(flows);
        self.gc();
    }

    /// Forget flows that ended a while ago, fail the ones past their deadline, and stop the
    /// callback listener when no web flow waits any more.
    fn gc(&self) {
        let now = Instant::now();
        let mut flows = self.flows();
        flows.retain(|_, f| {
            f.ended_at
                .is_none_or(|t| now.duration_since(t) < KEEP_ENDED)
        });
        for f in flows.values_mut() {
            if f.ended_at.is_none() && now >= f.deadline {
                f.ended_at = Some(now);
                f.web = None;
                f.approved = None;
                if let Some(task) = f.task.take() {
                    task.abort();
                }
                f.state.send_replace(ConnectState::Failed {
                    reason: "the connection attempt expired; start again".into(),
                });
            }
        }
        let web_waiting = flows.values().any(|f| f.web.is_some());
        drop(flows);
        if !web_waiting {
            callback::stop(self);
        }
    }

    /// The flow whose web `state` matches, taking its secrets (a state works once).
    pub(crate) fn take_web(&self, state: &str) -> Option<(FlowId, WebWait)> {
        self.gc();
        let mut flows = self.flows();
        let id = flows.iter().find_map(|(id, f)| {
            let w = f.web.as_ref()?;
            constant_time_eq(w.state.expose().as_bytes(), state.as_bytes()).then_some(*id)
        })?;
        let web = flows.get_mut(&id)?.web.take()?;
        Some((id, web))
    }
}

/// Compare without leaking where the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn rpc_store_err(e: StoreError) -> RpcError {
    match e {
        StoreError::NotFound(what) => RpcError::NotFound(what),
        StoreError::Conflict(what) => RpcError::AlreadyExists(what),
        other => RpcError::Internal(other.to_string()),
    }
}

/// Start a flow for `team`, on behalf of `uid`.
pub async fn start(
    shared: &Arc<Shared>,
    team: TeamId,
    uid: u32,
    user_name: &str,
    req: ConnectRequest,
) -> Result<ConnectStarted, RpcError> {
    let c = &shared.connector;
    if let Some(org) = &req.org {
        crate::store::validate_login(org).map_err(|reason| RpcError::invalid("org", reason))?;
    }
    if !req.replace
        && shared
            .store
            .credential(team, Provider::Github)
            .map_err(rpc_store_err)?
            .is_some()
    {
        let org = shared
            .store
            .github_integration(team)
            .map_err(rpc_store_err)?
            .map(|g| format!(" (organization '{}')", g.organization_slug))
            .unwrap_or_default();
        return Err(RpcError::AlreadyExists(format!(
            "a GitHub connection for this team{org}; confirm to replace its token"
        )));
    }
    let oauth = c.oauth().map_err(|e| match e {
        OAuthError::NoApp => RpcError::NotConfigured(e.to_string()),
        e => RpcError::invalid("GitHub settings", e.to_string()),
    })?;
    shared
        .store
        .upsert_user(uid, user_name)
        .map_err(rpc_store_err)?;
    let scopes = crate::github::oauth::scopes(req.org_hook);
    let id = c.next_flow.fetch_add(1, Ordering::Relaxed);
    let (tx, _rx) = watch::channel(ConnectState::Waiting);
    let mut flow = Flow {
        team,
        uid,
        org: req.org.clone(),
        replace: req.replace,
        state: tx,
        web: None,
        approved: None,
        task: None,
        deadline: Instant::now() + WEB_FLOW_TTL,
        ended_at: None,
    };
    let started = match req.method {
        ConnectMethod::Device => {
            let device = tokio::time::timeout(Duration::from_secs(8), oauth.start_device(&scopes))
                .await
                .map_err(|_| {
                    RpcError::Internal(
                        "GitHub did not answer the device-code request within 8 s".into(),
                    )
                })?
                .map_err(|e| RpcError::Internal(e.to_string()))?;
            flow.deadline = Instant::now() + device.expires_in + Duration::from_secs(5);
            let started = ConnectStarted {
                flow: id,
                prompt: ConnectPrompt::Device {
                    user_code: device.user_code.clone(),
                    verification_uri: device.verification_uri.clone(),
                },
                expires_at: crate::store::now() + device.expires_in.as_secs() as i64,
            };
            let task_shared = shared.clone();
            let task = tokio::spawn(async move {
                let outcome = oauth.finish_device(&device).await;
                approved(&task_shared, id, outcome).await;
            });
            flow.task = Some(task.abort_handle());
            started
        }
        ConnectMethod::Web => {
            if !oauth.has_secret() {
                return Err(RpcError::invalid(
                    "method",
                    "the web flow needs the OAuth app's client secret, which this daemon does not have; use the device flow instead",
                ));
            }
            let port = callback::ensure(shared).map_err(|e| {
                RpcError::Internal(format!("cannot open the OAuth callback listener: {e}"))
            })?;
            let redirect_uri = format!("http://127.0.0.1:{port}{}", callback::PATH);
            let web = oauth
                .start_web(&redirect_uri, &scopes)
                .map_err(|e| RpcError::Internal(e.to_string()))?;
            flow.web = Some(WebWait {
                state: web.state,
                verifier: web.verifier,
                redirect_uri,
            });
            ConnectStarted {
                flow: id,
                prompt: ConnectPrompt::Browser {
                    authorize_url: web.authorize_url,
                },
                expires_at: crate::store::now() + WEB_FLOW_TTL.as_secs() as i64,
            }
        }
    };
    c.flows().insert(id, flow);
    tracing::info!(flow = id, team, uid, method = ?req.method, org_hook = req.org_hook, "GitHub connect started");
    Ok(started)
}

/// The web flow's callback brought a code: exchange it, then carry on as the device flow does.
pub(crate) async fn web_callback(
    shared: &Arc<Shared>,
    flow: FlowId,
    web: WebWait,
    code: Secret,
) -> Result<(), String> {
    let outcome = match shared.connector.oauth() {
        Ok(oauth) => {
            oauth
                .finish_web(&code, &web.verifier, &web.redirect_uri)
                .await
        }
        Err(e) => Err(e),
    };
    let failed = outcome.as_ref().err().map(|e| e.to_string());
    approved(shared, flow, outcome).await;
    match failed {
        Some(reason) => Err(reason),
        None => Ok(()),
    }
}

/// The web flow's callback said the user denied (or GitHub sent another error).
pub(crate) fn web_refused(shared: &Shared, flow: FlowId, error: &str) {
    let reason = match error {
        "access_denied" => OAuthError::Denied.to_string(),
        other => format!("GitHub answered the authorization with `{other}`"),
    };
    shared
        .connector
        .set_state(flow, ConnectState::Failed { reason });
}

/// After the token: read the user and their orgs, then finish or ask for the org.
async fn approved(shared: &Arc<Shared>, flow: FlowId, outcome: Result<TokenSet, OAuthError>) {
    let c = &shared.connector;
    let tokens = match outcome {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(flow, error = %e, "GitHub connect failed");
            return c.set_state(
                flow,
                ConnectState::Failed {
                    reason: e.to_string(),
                },
            );
        }
    };
    let user = match c.live().api.user(&tokens.access_token).await {
        Ok(u) => u,
        Err(e) => return c.set_state(flow, failed_reading("your GitHub user", e)),
    };
    let orgs = match c.live().api.orgs(&tokens.access_token).await {
        Ok(o) => o,
        Err(e) => return c.set_state(flow, failed_reading("your organizations", e)),
    };
    let wanted = c.flows().get(&flow).map(|f| f.org.clone());
    let Some(wanted) = wanted else {
        return; // cancelled meanwhile
    };
    let names = || {
        orgs.iter()
            .map(|o| o.login.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if orgs.is_empty() {
        return c.set_state(
            flow,
            ConnectState::Failed {
                reason: format!(
                    "no organization is visible to GitHub user {}: ask an org owner to approve \
                     tidemark's OAuth app for the organization, then connect again",
                    user.login
                ),
            },
        );
    }
    let chosen = match wanted {
        Some(slug) => match orgs.iter().find(|o| o.login.eq_ignore_ascii_case(&slug)) {
            Some(o) => Some(o.clone()),
            None => {
                return c.set_state(
                    flow,
                    ConnectState::Failed {
                        reason: format!(
                            "organization '{slug}' is not visible to GitHub user {}; visible: {}",
                            user.login,
                            names()
                        ),
                    },
                );
            }
        },
        None if orgs.len() == 1 => Some(orgs[0].clone()),
        None => None,
    };
    match chosen {
        Some(org) => finish(shared, flow, tokens, user.login, org).await,
        None => {
            let choices = orgs
                .iter()
                .map(|o| OrgChoice {
                    login: o.login.clone(),
                    id: o.id,
                    description: o.description.clone().filter(|d| !d.is_empty()),
                })
                .collect();
            let mut flows = c.flows();
            if let Some(f) = flows.get_mut(&flow) {
                f.deadline = Instant::now() + CHOOSE_TTL;
                f.approved = Some(Approved {
                    tokens,
                    login: user.login,
                    orgs,
                });
                f.state
                    .send_replace(ConnectState::ChooseOrg { orgs: choices });
            }
        }
    }
}

fn failed_reading(what: &str, e: GitHubError) -> ConnectState {
    ConnectState::Failed {
        reason: format!("GitHub approved, but reading {what} failed: {e}"),
    }
}

/// Store the credential and integration, and end the flow.
async fn finish(shared: &Arc<Shared>, flow: FlowId, tokens: TokenSet, login: String, org: Org) {
    let c = &shared.connector;
    let Some((team, uid, replace)) = c.flows().get(&flow).map(|f| (f.team, f.uid, f.replace))
    else {
        return;
    };
    // The role was checked when the flow started; a user demoted or removed meanwhile stores
    // nothing.
    let still_admin = matches!(
        shared.store.membership(team, uid),
        Ok(Some(m)) if crate::auth::allows(m.role, crate::auth::Need::Manage)
    );
    if !still_admin {
        tracing::warn!(
            flow,
            team,
            uid,
            "GitHub connect refused: the user no longer manages the team"
        );
        c.set_state(
            flow,
            ConnectState::Failed {
                reason: "you no longer manage this team (admin or owner); nothing was stored"
                    .into(),
            },
        );
        return;
    }
    let webhook_secret = Secret::new(crate::crypto::random_token(32));
    let result = shared.store.connect_github(
        &shared.keyring,
        team,
        GitHubLogin {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_expires_at: tokens.expires_at,
            scopes: tokens.scopes,
            connected_by: Some(uid),
            organization_slug: org.login.clone(),
            organization_id: org.id,
        },
        &webhook_secret,
        replace,
    );
    let state = match result {
        Ok(outcome) => match shared.store.flush_async().await {
            Ok(()) => {
                tracing::info!(flow, team, org = %org.login, ?outcome, "GitHub connected");
                c.hooks_changed();
                // The first sync starts now (members at once; repositories once tracked).
                let _ = crate::sync::start(shared, team);
                // The organization hook, when the token and the user allow one (best effort;
                // the reconciliation tries again).
                let hook_shared = shared.clone();
                tokio::spawn(async move {
                    crate::webhooks::org_hook::ensure_logged(&hook_shared, team).await;
                });
                match integration_info(shared, team) {
                    Some(integration) => ConnectState::Connected {
                        github_login: login,
                        integration: Box::new(integration),
                    },
                    None => ConnectState::Failed {
                        reason: "the connection was stored but cannot be read back".into(),
                    },
                }
            }
            Err(e) => ConnectState::Failed {
                reason: format!("could not write the connection durably: {e}"),
            },
        },
        Err(StoreError::Conflict(what)) => ConnectState::Failed {
            reason: format!("not stored: there is already {what}"),
        },
        Err(e) => ConnectState::Failed {
            reason: format!("could not store the connection: {e}"),
        },
    };
    c.set_state(flow, state);
}

fn integration_info(shared: &Shared, team: TeamId) -> Option<tidemark_protocol::IntegrationInfo> {
    let cred = shared.store.credential(team, Provider::Github).ok()??;
    let g = shared.store.github_integration(team).ok()?;
    Some(tidemark_protocol::IntegrationInfo {
        credential: crate::rpc::convert::credential(&shared.store, &shared.keyring, &cred).ok()?,
        github: g.map(|g| {
            crate::rpc::convert::github(
                &shared.store,
                &shared.keyring,
                &g,
                &shared.connector.live().github.web_url,
            )
        }),
    })
}

/// Where a flow stands, waiting up to `wait` for it to change from `Waiting`.
pub async fn status(
    shared: &Shared,
    flow: FlowId,
    uid: u32,
    wait: Duration,
) -> Result<ConnectState, RpcError> {
    let c = &shared.connector;
    c.gc();
    let mut rx = {
        let flows = c.flows();
        match flows.get(&flow) {
            Some(f) if f.uid == uid => f.state.subscribe(),
            _ => return Err(RpcError::NotFound(format!("connect flow {flow}"))),
        }
    };
    if *rx.borrow() == ConnectState::Waiting {
        let wait = wait.min(MAX_WAIT);
        let _ = tokio::time::timeout(wait, rx.changed()).await;
    }
    let state = rx.borrow().clone();
    Ok(state)
}

/// Finish a flow that waits for an organization choice.
pub async fn choose_org(
    shared: &Arc<Shared>,
    flow: FlowId,
    uid: u32,
    org: &str,
) -> Result<ConnectState, RpcError> {
    let c = &shared.connector;
    c.gc();
    let (approved, chosen) = {
        let mut flows = c.flows();
        let f = match flows.get_mut(&flow) {
            Some(f) if f.uid == uid => f,
            _ => return Err(RpcError::NotFound(format!("connect flow {flow}"))),
        };
        let Some(a) = f.approved.as_ref() else {
            return Err(RpcError::invalid(
                "flow",
                "this flow is not waiting for an organization choice",
            ));
        };
        let Some(chosen) = a
            .orgs
            .iter()
            .find(|o| o.login.eq_ignore_ascii_case(org))
            .cloned()
        else {
            let names: Vec<_> = a.orgs.iter().map(|o| o.login.as_str()).collect();
            return Err(RpcError::invalid(
                "org",
                format!("'{org}' is not one of: {}", names.join(", ")),
            ));
        };
        (f.approved.take().expect("checked above"), chosen)
    };
    finish(shared, flow, approved.tokens, approved.login, chosen).await;
    status(shared, flow, uid, Duration::ZERO).await
}

/// Abandon a flow: nothing is stored.
pub fn cancel(shared: &Shared, flow: FlowId, uid: u32) -> Result<(), RpcError> {
    let c = &shared.connector;
    {
        let mut flows = c.flows();
        match flows.get_mut(&flow) {
            Some(f) if f.uid == uid => {
                if let Some(task) = f.task.take() {
                    task.abort();
                }
            }
            _ => return Err(RpcError::NotFound(format!("connect flow {flow}"))),
        }
    }
    c.set_state(
        flow,
        ConnectState::Failed {
            reason: "cancelled".into(),
        },
    );
    tracing::info!(flow, uid, "GitHub connect cancelled");
    Ok(())
}
