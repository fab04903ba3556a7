//! Slack: the only module that knows it. [`api`] its Web API; this file connecting a team to a
//! workspace (Slack's OAuth v2 through a loopback redirect, [`callback`]), its channel, and
//! disconnecting; [`notify`] posting breaches (once, through a durable outbox) and editing
//! them when they end; [`message`] their words. The bot token is the team's `slack`
//! credential, Fernet-encrypted as GitHub's, and never leaves the daemon.

pub mod api;
pub mod callback;
pub mod message;
pub mod notify;

use crate::context::{Ctx, Event};
use crate::crypto::Secret;
use crate::store::{NewCredential, Provider, SecretField, SlackLink, StoreError, TeamId};
use api::{SlackApi, SlackError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tidemark_protocol::agreements::{SlackChannel, SlackConnectState};
use tidemark_protocol::{ConnectPrompt, ConnectStarted, FlowId};

/// The bot scopes asked: post, list channels, and read the channel's recent history, only to
/// find a message of ours after a crash between its send and its record.
pub const SCOPES: &str = "chat:write,channels:read,channels:history";
/// How long an "Add to Slack" link works.
const FLOW_TTL: Duration = Duration::from_secs(600);
/// Flows waiting at once (per daemon).
const MAX_FLOWS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SlackConnectError {
    #[error(
        "no Slack app is set up: give tidemarkd SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (the \
         README's \"Working agreements and alerts\" says how to make the app)"
    )]
    NoApp,
    #[error("{0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error("the token could not be read: {0}")]
    Crypto(String),
    #[error("the callback listener did not open: {0}")]
    Listener(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Flow {
    team: TeamId,
    uid: u32,
    state: Secret,
    redirect: String,
    started: Instant,
    /// Taken by the callback (a state is used once).
    waiting: bool,
    status: SlackConnectState,
}

/// Flows in progress and the loopback listener while one waits.
pub struct Slack {
    ctx: Ctx,
    flows: Mutex<HashMap<FlowId, Flow>>,
    next: std::sync::atomic::AtomicU64,
    listener: Mutex<Option<crate::loopback::Listener>>,
    changed: tokio::sync::Notify,
}

impl Slack {
    /// The flows, with Slack's redirect page registered on the public URL.
    pub fn new(ctx: Ctx) -> Arc<Slack> {
        let slack = Arc::new(Slack {
            ctx: ctx.clone(),
            flows: Mutex::new(HashMap::new()),
            next: std::sync::atomic::AtomicU64::new(1),
            listener: Mutex::new(None),
            changed: tokio::sync::Notify::new(),
        });
        let weak = Arc::downgrade(&slack);
        ctx.returns.register(
            callback::PATH,
            Arc::new(move |query: String| {
                let weak = weak.clone();
                Box::pin(async move {
                    match weak.upgrade() {
                        Some(s) => callback::page(callback::answer_query(&s, &query).await),
                        None => callback::page((503, "Shutting down", "tidemark is stopping.")),
                    }
                })
            }),
        );
        slack
    }

    /// Where Slack sends the browser back: through the public URL (the tunnel, https, as
    /// Slack's app settings require) when there is one, else the loopback listener.
    fn redirect_uri(self: &Arc<Self>) -> Result<String, SlackConnectError> {
        let public = self.ctx.runtime.config().current.public_url.clone();
        match public {
            Some(url) => Ok(format!("{}{}", url.trim_end_matches('/'), callback::PATH)),
            None => {
                let port = callback::ensure(self)
                    .map_err(|e| SlackConnectError::Listener(e.to_string()))?;
                Ok(format!("http://127.0.0.1:{port}{}", callback::PATH))
            }
        }
    }

    fn flows(&self) -> std::sync::MutexGuard<'_, HashMap<FlowId, Flow>> {
        self.flows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Slack's API at the configured URL.
    pub fn api(ctx: &Ctx) -> SlackApi {
        let url = ctx.runtime.config().current.slack.url.clone();
        SlackApi::new(crate::github::http_client(), &url)
    }

    /// Start an "Add to Slack" flow for a team.
    pub fn start(
        self: &Arc<Self>,
        team: TeamId,
        uid: u32,
    ) -> Result<ConnectStarted, SlackConnectError> {
        let app = self.ctx.runtime.config().current.slack.clone();
        let (Some(client_id), Some(_)) = (app.client_id.clone(), app.client_secret.clone()) else {
            return Err(SlackConnectError::NoApp);
        };
        self.gc();
        if self.flows().len() >= MAX_FLOWS {
            return Err(SlackConnectError::Invalid(
                "too many Slack connections wait at once; try again in a few minutes".into(),
            ));
        }
        let redirect = self.redirect_uri()?;
        let state = Secret::new(crate::crypto::random_token(24));
        let url =
            Slack::api(&self.ctx).authorize_url(&client_id, SCOPES, &redirect, state.expose());
        let flow = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.flows().insert(
            flow,
            Flow {
                team,
                uid,
                state,
                redirect,
                started: Instant::now(),
                waiting: true,
                status: SlackConnectState::Waiting,
            },
        );
        Ok(ConnectStarted {
            flow,
            prompt: ConnectPrompt::Browser { authorize_url: url },
            expires_at: crate::store::now() + FLOW_TTL.as_secs() as i64,
        })
    }

    /// Where a flow stands (the caller's own only), waiting up to `wait` while it waits.
    pub async fn status(
        &self,
        flow: FlowId,
        uid: u32,
        wait: Duration,
    ) -> Result<SlackConnectState, SlackConnectError> {
        let deadline = tokio::time::Instant::now() + wait.min(Duration::from_secs(8));
        loop {
            let notified = self.changed.notified();
            {
                let flows = self.flows();
                let f = flows.get(&flow).filter(|f| f.uid == uid).ok_or_else(|| {
                    SlackConnectError::NotFound(format!("Slack connect flow {flow}"))
                })?;
                if f.status != SlackConnectState::Waiting {
                    return Ok(f.status.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(SlackConnectState::Waiting);
            }
        }
    }

    /// Drop flows past their time; close the listener when none waits.
    fn gc(&self) {
        let mut flows = self.flows();
        flows.retain(|_, f| f.started.elapsed() < FLOW_TTL * 2);
        for f in flows.values_mut() {
            if f.waiting && f.started.elapsed() >= FLOW_TTL {
                f.waiting = false;
                f.status = SlackConnectState::Failed {
                    reason: "the Add to Slack link expired".into(),
                };
            }
        }
        if !flows.values().any(|f| f.waiting) {
            callback::stop(self);
        }
    }

    /// The flow a callback's `state` names, taken (used once).
    fn take(&self, state: &str) -> Option<(FlowId, TeamId, u32, String)> {
        let mut flows = self.flows();
        let (id, f) = flows.iter_mut().find(|(_, f)| {
            f.waiting
                && f.started.elapsed() < FLOW_TTL
                && crate::connect::constant_time_eq(f.state.expose().as_bytes(), state.as_bytes())
        })?;
        f.waiting = false;
        Some((*id, f.team, f.uid, f.redirect.clone()))
    }

    fn finish(&self, flow: FlowId, status: SlackConnectState) {
        if let Some(f) = self.flows().get_mut(&flow) {
            f.status = status;
        }
        self.changed.notify_waiters();
        self.gc();
    }

    /// The browser came back: exchange the code, store the token and the link.
    pub(crate) async fn callback(
        &self,
        state: &str,
        code: Option<Secret>,
        error: Option<&str>,
    ) -> Result<(), &'static str> {
        let Some((flow, team, uid, redirect)) = self.take(state) else {
            return Err("unknown");
        };
        let outcome = match (code, error) {
            (_, Some(e)) => Err(format!("Slack did not grant the app: {e}")),
            (None, None) => Err("Slack's redirect carried no code".to_string()),
            (Some(code), None) => self
                .install(team, uid, &code, &redirect)
                .await
                .map_err(|e| e.to_string()),
        };
        match outcome {
            Ok(status) => {
                self.finish(flow, status);
                Ok(())
            }
            Err(reason) => {
                tracing::warn!(team, %reason, "Slack connect failed");
                self.finish(flow, SlackConnectState::Failed { reason });
                Err("failed")
            }
        }
    }

    async fn install(
        &self,
        team: TeamId,
        uid: u32,
        code: &Secret,
        redirect: &str,
    ) -> Result<SlackConnectState, SlackConnectError> {
        let app = self.ctx.runtime.config().current.slack.clone();
        let (Some(client_id), Some(secret)) = (app.client_id, app.client_secret) else {
            return Err(SlackConnectError::NoApp);
        };
        let api = Slack::api(&self.ctx);
        let installed = api
            .oauth_access(&client_id, &secret, code, redirect)
            .await?;
        let store = &self.ctx.store;
        // Connecting again replaces the token (and keeps what was posted).
        if store.credential(team, Provider::Slack)?.is_some() {
            store.delete_credential(team, Provider::Slack)?;
        }
        store.create_credential(
            &self.ctx.keyring,
            team,
            NewCredential {
                provider: Provider::Slack,
                access_token: installed.token,
                refresh_token: None,
                token_expires_at: None,
                scopes: installed.scopes,
                connected_by: Some(uid),
            },
        )?;
        let before = store.slack_link(team)?;
        let same_workspace = before
            .as_ref()
            .is_some_and(|b| b.workspace_id == installed.workspace_id);
        let now = crate::store::now();
        store.set_slack_link(&SlackLink {
            team_id: team,
            workspace: installed.workspace.clone(),
            workspace_id: installed.workspace_id,
            bot_user_id: installed.bot_user_id,
            channel_id: before
                .as_ref()
                .filter(|_| same_workspace)
                .and_then(|b| b.channel_id.clone()),
            channel_name: before
                .as_ref()
                .filter(|_| same_workspace)
                .and_then(|b| b.channel_name.clone()),
            problem: None,
            sent: before.as_ref().map_or(0, |b| b.sent),
            last_sent_at: before.as_ref().and_then(|b| b.last_sent_at),
            connected_at: before
                .as_ref()
                .filter(|_| same_workspace)
                .map_or(now, |b| b.connected_at),
        })?;
        store.flush_async().await?;
        tracing::info!(team, "Slack connected");
        self.ctx.bus.publish(Event::BreachesChanged { team });
        let channels = self.channels(team).await?;
        Ok(SlackConnectState::Connected {
            workspace: installed.workspace,
            channels,
        })
    }

    /// The team's bot token, for the daemon's own use.
    pub fn token(ctx: &Ctx, team: TeamId) -> Result<Secret, SlackConnectError> {
        let cred = ctx
            .store
            .credential(team, Provider::Slack)?
            .ok_or_else(|| SlackConnectError::NotFound("a Slack link for this team".into()))?;
        ctx.store
            .credential_secret(&ctx.keyring, &cred, SecretField::AccessToken)
            .map_err(|e| SlackConnectError::Crypto(e.to_string()))?
            .ok_or_else(|| SlackConnectError::Crypto("no token".into()))
    }

    /// The public channels the bot can see, members first then by name.
    pub async fn channels(&self, team: TeamId) -> Result<Vec<SlackChannel>, SlackConnectError> {
        let token = Slack::token(&self.ctx, team)?;
        let mut list = Slack::api(&self.ctx).channels(&token).await?;
        list.sort_by(|a, b| b.is_member.cmp(&a.is_member).then(a.name.cmp(&b.name)));
        Ok(list
            .into_iter()
            .map(|c| SlackChannel {
                id: c.id,
                name: c.name,
            })
            .collect())
    }

    /// Send alerts to this channel (an id, a name, or `#name`); the bot must be in it.
    pub async fn set_channel(
        &self,
        team: TeamId,
        wanted: &str,
    ) -> Result<SlackLink, SlackConnectError> {
        let token = Slack::token(&self.ctx, team)?;
        let list = Slack::api(&self.ctx).channels(&token).await?;
        let w = wanted.trim().trim_start_matches('#');
        let c = list
            .iter()
            .find(|c| c.id == w)
            .or_else(|| list.iter().find(|c| c.name.eq_ignore_ascii_case(w)))
            .ok_or_else(|| {
                SlackConnectError::NotFound(format!("a public Slack channel '{wanted}'"))
            })?;
        if !c.is_member {
            return Err(SlackConnectError::Invalid(format!(
                "the tidemark bot is not in #{}: invite it there (/invite @tidemark) and pick it again",
                c.name
            )));
        }
        let store = &self.ctx.store;
        let mut link = store
            .slack_link(team)?
            .ok_or_else(|| SlackConnectError::NotFound("a Slack link for this team".into()))?;
        link.channel_id = Some(c.id.clone());
        link.channel_name = Some(c.name.clone());
        link.problem = None;
        store.set_slack_link(&link)?;
        store.flush_async().await?;
        self.ctx.bus.publish(Event::BreachesChanged { team });
        Ok(link)
    }

    /// Revoke the token at Slack (best effort: it may be revoked already) and forget it.
    pub async fn disconnect(&self, team: TeamId) -> Result<(), SlackConnectError> {
        if self.ctx.store.slack_link(team)?.is_none() {
            return Err(SlackConnectError::NotFound(
                "a Slack link for this team".into(),
            ));
        }
        if let Ok(token) = Slack::token(&self.ctx, team)
            && let Err(e) = Slack::api(&self.ctx).revoke(&token).await
        {
            tracing::info!(team, error = %e, "Slack token not revoked at Slack (forgotten here all the same)");
        }
        self.ctx.store.delete_slack(team)?;
        self.ctx.store.flush_async().await?;
        tracing::info!(team, "Slack disconnected");
        Ok(())
    }
}
