//! Connecting a team to GitHub: OAuth flows run by the daemon, followed by clients over RPC.
//!
//! A flow: start (device code or browser URL) → `Waiting` → token → read the user and their orgs
//! → (web flow) `ConfirmLogin` until the user confirms the GitHub login → one org: store;
//! several: `ChooseOrg` until the user picks → `Connected`, or `Failed` with a reason at any
//! step. Nothing is stored before the end, and a failed flow stores nothing. Tokens in flight
//! live only in memory, in [`Secret`]s. What happens after the token is in `approve`.
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

use crate::context::{Ctx, Event};
use crate::crypto::Secret;
use crate::github::GitHubLive;
use crate::github::oauth::{OAuth, OAuthError, TokenSet};
use crate::github::types::Org;
use crate::store::{Provider, StoreError, TeamId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, FlowId,
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

/// The connect flows in progress, over the daemon's context.
pub struct Connector {
    pub ctx: Ctx,
    flows: Mutex<HashMap<FlowId, Flow>>,
    next_flow: AtomicU64,
    pub(crate) callback: Mutex<Option<crate::loopback::Listener>>,
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
    pub fn new(ctx: Ctx) -> Connector {
        Connector {
            ctx,
            flows: Mutex::new(HashMap::new()),
            next_flow: AtomicU64::new(1),
            callback: Mutex::new(None),
        }
    }

    /// The GitHub settings in effect now.
    pub fn live(&self) -> Arc<GitHubLive> {
        self.ctx.github.live()
    }

    /// Webhook secrets or hook ids changed: the receiver looks them up again.
    fn hooks_changed(&self) {
        self.ctx.bus.publish(Event::HooksChanged);
    }

    fn flows(&self) -> MutexGuard<'_, HashMap<FlowId, Flow>> {
        self.flows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn oauth(&self) -> Result<OAuth, OAuthError> {
        self.ctx.github.oauth()
    }

    /// Set a flow's state (ending it when final). Unknown flows are ignored: cancelled meanwhile.
    fn set_state(&self, flow: FlowId, state: ConnectState) {
        let mut flows = self.flows();
        let mut unstored = None;
        if let Some(f) = flows.get_mut(&flow) {
            if state.is_final() {
                f.ended_at = Some(Instant::now());
                f.web = None;
                unstored = f.approved.take();
            }
            f.state.send_replace(state);
        }
        drop(flows);
        if let Some(approved) = unstored {
            self.discard(approved);
        }
        self.gc();
    }

    /// A token GitHub issued that will not be stored (the login refused by cancelling, the
    /// flow expired or failed): revoked at GitHub, best effort, so that it does not stay valid
    /// there with nobody holding it. Without the app's client secret GitHub offers no way to.
    fn discard(&self, approved: Approved) {
        let live = self.live();
        let login = approved.login;
        let (Some(id), Some(secret)) = (
            live.github.client_id.clone(),
            live.github.client_secret.clone(),
        ) else {
            tracing::info!(github_login = %login, "an unstored GitHub token is dropped; without the OAuth app's client secret it cannot be revoked");
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let token = approved.tokens.access_token;
        runtime.spawn(async move {
            match live.api.revoke_token(&id, &secret, &token).await {
                // 404: already revoked or expired.
                Ok(()) | Err(crate::github::GitHubError::Status { status: 404, .. }) => {
                    tracing::info!(github_login = %login, "unstored GitHub token revoked");
                }
                Err(e) => {
                    tracing::warn!(github_login = %login, error = %e, "revoking an unstored GitHub token failed");
                }
            }
        });
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
        let mut unstored = Vec::new();
        for f in flows.values_mut() {
            if f.ended_at.is_none() && now >= f.deadline {
                f.ended_at = Some(now);
                f.web = None;
                unstored.extend(f.approved.take());
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
        for approved in unstored {
            self.discard(approved);
        }
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

/// Why a connect call failed; the RPC layer words it for the wire.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    #[error("not configured: {0}")]
    NotConfigured(String),
    #[error("{0}")]
    Internal(String),
}

impl ConnectError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> ConnectError {
        ConnectError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

fn store_err(e: StoreError) -> ConnectError {
    match e {
        StoreError::NotFound(what) => ConnectError::NotFound(what),
        StoreError::Conflict(what) => ConnectError::AlreadyExists(what),
        other => ConnectError::Internal(other.to_string()),
    }
}

/// Start a flow for `team`, on behalf of `uid`.
pub async fn start(
    conn: &Arc<Connector>,
    team: TeamId,
    uid: u32,
    user_name: &str,
    req: ConnectRequest,
) -> Result<ConnectStarted, ConnectError> {
    let c = conn;
    if let Some(org) = &req.org {
        crate::store::validate_login(org).map_err(|reason| ConnectError::invalid("org", reason))?;
    }
    if !req.replace
        && conn
            .ctx
            .store
            .credential(team, Provider::Github)
            .map_err(store_err)?
            .is_some()
    {
        let org = conn
            .ctx
            .store
            .github_integration(team)
            .map_err(store_err)?
            .map(|g| format!(" (organization '{}')", g.organization_slug))
            .unwrap_or_default();
        return Err(ConnectError::AlreadyExists(format!(
            "a GitHub connection for this team{org}; confirm to replace its token"
        )));
    }
    let oauth = c.oauth().map_err(|e| match e {
        OAuthError::NoApp => ConnectError::NotConfigured(e.to_string()),
        e => ConnectError::invalid("GitHub settings", e.to_string()),
    })?;
    conn.ctx
        .store
        .upsert_user(uid, user_name)
        .map_err(store_err)?;
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
                    ConnectError::Internal(
                        "GitHub did not answer the device-code request within 8 s".into(),
                    )
                })?
                .map_err(|e| ConnectError::Internal(e.to_string()))?;
            flow.deadline = Instant::now() + device.expires_in + Duration::from_secs(5);
            let started = ConnectStarted {
                flow: id,
                prompt: ConnectPrompt::Device {
                    user_code: device.user_code.clone(),
                    verification_uri: device.verification_uri.clone(),
                },
                expires_at: crate::store::now() + device.expires_in.as_secs() as i64,
            };
            let task_conn = conn.clone();
            let task = tokio::spawn(async move {
                let outcome = oauth.finish_device(&device).await;
                approve::approved(&task_conn, id, outcome).await;
            });
            flow.task = Some(task.abort_handle());
            started
        }
        ConnectMethod::Web => {
            if !oauth.has_secret() {
                return Err(ConnectError::invalid(
                    "method",
                    "the web flow needs the OAuth app's client secret, which this daemon does not have; use the device flow instead",
                ));
            }
            let port = callback::ensure(conn).map_err(|e| {
                ConnectError::Internal(format!("cannot open the OAuth callback listener: {e}"))
            })?;
            let redirect_uri = format!("http://127.0.0.1:{port}{}", callback::PATH);
            let web = oauth
                .start_web(&redirect_uri, &scopes)
                .map_err(|e| ConnectError::Internal(e.to_string()))?;
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
    conn: &Arc<Connector>,
    flow: FlowId,
    web: WebWait,
    code: Secret,
) -> Result<Option<String>, String> {
    let outcome = match conn.oauth() {
        Ok(oauth) => {
            oauth
                .finish_web(&code, &web.verifier, &web.redirect_uri)
                .await
        }
        Err(e) => Err(e),
    };
    let failed = outcome.as_ref().err().map(std::string::ToString::to_string);
    approve::approved(conn, flow, outcome).await;
    match failed {
        Some(reason) => Err(reason),
        None => Ok(conn.login_to_confirm(flow)),
    }
}

/// The web flow's callback said the user denied (or GitHub sent another error).
pub(crate) fn web_refused(conn: &Connector, flow: FlowId, error: &str) {
    let reason = match error {
        "access_denied" => OAuthError::Denied.to_string(),
        other => format!("GitHub answered the authorization with `{other}`"),
    };
    conn.set_state(flow, ConnectState::Failed { reason });
}

/// Where a flow stands, waiting up to `wait` for it to change from `Waiting`.
pub async fn status(
    conn: &Connector,
    flow: FlowId,
    uid: u32,
    wait: Duration,
) -> Result<ConnectState, ConnectError> {
    let c = conn;
    c.gc();
    let mut rx = {
        let flows = c.flows();
        match flows.get(&flow) {
            Some(f) if f.uid == uid => f.state.subscribe(),
            _ => return Err(ConnectError::NotFound(format!("connect flow {flow}"))),
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
pub fn cancel(conn: &Connector, flow: FlowId, uid: u32) -> Result<(), ConnectError> {
    let c = conn;
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
            _ => return Err(ConnectError::NotFound(format!("connect flow {flow}"))),
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

/// What GitHub needs to know about this daemon's OAuth app, and whether it has one.
pub fn github_app_info(ctx: &crate::context::Context) -> tidemark_protocol::GitHubAppInfo {
    let live = ctx.github.live();
    let web = crate::github::trim_base(&live.github.web_url);
    tidemark_protocol::GitHubAppInfo {
        configured: live.github.client_id.is_some(),
        has_secret: live.github.client_secret.is_some(),
        register_url: format!("{web}/settings/applications/new"),
        callback_url: crate::connect::callback::registered_callback_url(),
        web_url: web,
    }
}
