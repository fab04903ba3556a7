//! Connecting a team to GitHub: OAuth flows run by the daemon, followed by clients over RPC.
//!
//! A flow: start (device code or browser URL) → `Waiting` → token → read the user and their orgs
//! → (web flow) `ConfirmLogin` until the user confirms the GitHub login → one org: store;
//! several: `ChooseOrg` until the user picks → `Connected`, or `Failed` with a reason at any
//! step. Nothing is stored before the end, and a failed flow stores nothing. Tokens in flight
//! live only in memory, in [`Secret`]s. What happens after the token is in [`approve`].
//!
//! Why the web flow asks: whoever opens its authorize link picks the GitHub account, and the
//! link (with its `state`) may have been seen by someone else, who could complete it with their
//! own account. The device flow's code is shown only to the user who started it.

mod approve;
pub mod callback;
pub mod disconnect;
#[cfg(test)]
mod tests;

pub use approve::{choose_org, confirm_login};

use crate::crypto::Secret;
use crate::github::oauth::{OAuth, OAuthError, TokenSet};
use crate::github::types::Org;
use crate::github::{Api, GitHubConfig};
use crate::rpc::Shared;
use crate::store::{Provider, StoreError, TeamId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, FlowId, RpcError,
};
use tokio::sync::watch;

/// How long the browser link of a web flow stays valid (and its `state`).
pub const WEB_FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a flow may wait for an organization choice.
const CHOOSE_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a web flow may wait for the user to confirm the GitHub login.
const CONFIRM_TTL: Duration = Duration::from_secs(10 * 60);
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

/// A token approved at GitHub, held in memory while the flow waits for the user: to confirm
/// the login (web flow), or to pick an organization.
struct Approved {
    tokens: TokenSet,
    login: String,
    orgs: Vec<Org>,
    /// The organization to connect when it is already known (named by the request, or the only
    /// one visible); None: the user picks.
    chosen: Option<Org>,
}

struct Flow {
    team: TeamId,
    uid: u32,
    method: ConnectMethod,
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

    /// The login a flow waits to have confirmed, if it does.
    fn login_to_confirm(&self, flow: FlowId) -> Option<String> {
        let flows = self.flows();
        match &*flows.get(&flow)?.state.borrow() {
            ConnectState::ConfirmLogin { github_login } => Some(github_login.clone()),
            _ => None,
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
        method: req.method,
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
                approve::approved(&task_shared, id, outcome).await;
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

/// The web flow's callback brought a code: exchange it, read the user and their orgs, then wait
/// for the user to confirm the login. Answers the login to confirm, for the browser's page.
pub(crate) async fn web_callback(
    shared: &Arc<Shared>,
    flow: FlowId,
    web: WebWait,
    code: Secret,
) -> Result<Option<String>, String> {
    let outcome = match shared.connector.oauth() {
        Ok(oauth) => {
            oauth
                .finish_web(&code, &web.verifier, &web.redirect_uri)
                .await
        }
        Err(e) => Err(e),
    };
    let failed = outcome.as_ref().err().map(|e| e.to_string());
    approve::approved(shared, flow, outcome).await;
    match failed {
        Some(reason) => Err(reason),
        None => Ok(shared.connector.login_to_confirm(flow)),
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

/// Abandon a flow: nothing is stored.
pub fn cancel(shared: &Shared, flow: FlowId, uid: u32) -> Result<(), RpcError> {
    let c = &shared.connector;
    {
        let mut flows = c.flows();
        match flows.get_mut(&flow) {
            // An ended flow keeps its outcome (a connection stored stays reported as such).
            Some(f) if f.uid == uid && f.ended_at.is_some() => return Ok(()),
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
