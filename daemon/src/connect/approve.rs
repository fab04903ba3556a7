//! A flow after GitHub's token: read the user and their organizations, hold the token while the
//! user confirms the login (web flow) and picks an organization (several visible), then store
//! credential and integration in one batch.
//!
//! While a flow waits for the user its token is only in memory ([`Approved`]), until the flow's
//! deadline: past it the flow fails and the token is dropped, even when no client asks again.

use super::{Approved, CHOOSE_TTL, CONFIRM_TTL, ConnectError, Connector};
use crate::context::Event;
use crate::crypto::Secret;
use crate::github::GitHubError;
use crate::github::oauth::{OAuthError, TokenSet};
use crate::github::types::Org;
use crate::store::{GitHubLogin, Provider, StoreError, TeamId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidemark_protocol::{ConnectMethod, ConnectState, FlowId, OrgChoice};

/// After the token: read the user and their orgs; then the web flow asks the user to confirm
/// the login, the device flow carries on at once.
pub(super) async fn approved(
    conn: &Arc<Connector>,
    flow: FlowId,
    outcome: Result<TokenSet, OAuthError>,
) {
    let c = conn;
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
    on_user(conn, flow, tokens, user.login, orgs).await;
}

/// GitHub said whose token it is (`login`) and which organizations it sees.
pub(super) async fn on_user(
    conn: &Arc<Connector>,
    flow: FlowId,
    tokens: TokenSet,
    login: String,
    orgs: Vec<Org>,
) {
    let c = conn;
    let open = c
        .flows()
        .get(&flow)
        .filter(|f| f.ended_at.is_none())
        .map(|f| (f.org.clone(), f.method));
    let Some((wanted, method)) = open else {
        return; // cancelled meanwhile
    };
    // Failures first: they store nothing, so there is no login to confirm for them.
    let chosen = match pick_org(&login, wanted.as_deref(), &orgs) {
        Ok(chosen) => chosen,
        Err(reason) => return c.set_state(flow, ConnectState::Failed { reason }),
    };
    let approved = Approved {
        tokens,
        login,
        orgs,
        chosen,
    };
    match method {
        ConnectMethod::Web => {
            let state = ConnectState::ConfirmLogin {
                github_login: approved.login.clone(),
            };
            tracing::info!(flow, github_login = %approved.login, "GitHub connect waits for the user to confirm the login");
            hold(conn, flow, approved, state, CONFIRM_TTL);
        }
        ConnectMethod::Device => proceed(conn, flow, approved).await,
    }
}

/// The organization to connect: the one named (it must be visible), else the only one visible,
/// else None (the user picks). Err: why nothing can be connected.
fn pick_org(login: &str, wanted: Option<&str>, orgs: &[Org]) -> Result<Option<Org>, String> {
    if orgs.is_empty() {
        return Err(format!(
            "no organization is visible to GitHub user {login}: ask an org owner to approve \
             tidemark's OAuth app for the organization, then connect again"
        ));
    }
    match wanted {
        Some(slug) => match orgs.iter().find(|o| o.login.eq_ignore_ascii_case(slug)) {
            Some(o) => Ok(Some(o.clone())),
            None => Err(format!(
                "organization '{slug}' is not visible to GitHub user {login}; visible: {}",
                orgs.iter()
                    .map(|o| o.login.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        None if orgs.len() == 1 => Ok(Some(orgs[0].clone())),
        None => Ok(None),
    }
}

/// The login is the user's: store when the organization is known, else ask for it.
async fn proceed(conn: &Arc<Connector>, flow: FlowId, approved: Approved) {
    match approved.chosen.clone() {
        Some(org) => finish(conn, flow, approved.tokens, approved.login, org).await,
        None => {
            let orgs = approved
                .orgs
                .iter()
                .map(|o| OrgChoice {
                    login: o.login.clone(),
                    id: o.id,
                    description: o.description.clone().filter(|d| !d.is_empty()),
                })
                .collect();
            hold(
                conn,
                flow,
                approved,
                ConnectState::ChooseOrg { orgs },
                CHOOSE_TTL,
            );
        }
    }
}

/// Keep the token in memory while the flow waits for the user in `state`, for `ttl`. A flow
/// cancelled meanwhile gets nothing: the token is dropped here.
pub(super) fn hold(
    conn: &Arc<Connector>,
    flow: FlowId,
    approved: Approved,
    state: ConnectState,
    ttl: Duration,
) {
    let deadline = Instant::now() + ttl;
    {
        let mut flows = conn.flows();
        let Some(f) = flows.get_mut(&flow).filter(|f| f.ended_at.is_none()) else {
            return;
        };
        f.deadline = deadline;
        f.approved = Some(approved);
        f.state.send_replace(state);
    }
    // `gc` runs on calls; this drops the token at the deadline even when none comes. Weak: a
    // daemon shutting down does not wait for it.
    let weak = Arc::downgrade(conn);
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline.into()).await;
        if let Some(conn) = weak.upgrade() {
            conn.gc();
        }
    });
}

fn failed_reading(what: &str, e: GitHubError) -> ConnectState {
    ConnectState::Failed {
        reason: format!("GitHub approved, but reading {what} failed: {e}"),
    }
}

fn not_found(flow: FlowId) -> ConnectError {
    ConnectError::NotFound(format!("connect flow {flow}"))
}

/// The user confirms the GitHub login of a flow in `ConfirmLogin`; then it carries on as the
/// device flow does. Another login is refused and the flow keeps waiting.
pub async fn confirm_login(
    conn: &Arc<Connector>,
    flow: FlowId,
    uid: u32,
    github_login: &str,
) -> Result<ConnectState, ConnectError> {
    let c = conn;
    c.gc();
    let approved = {
        let mut flows = c.flows();
        let f = match flows.get_mut(&flow) {
            Some(f) if f.uid == uid => f,
            _ => return Err(not_found(flow)),
        };
        let shown = match (&*f.state.borrow(), &f.approved) {
            (ConnectState::ConfirmLogin { github_login }, Some(_)) => github_login.clone(),
            // Say why (expired, cancelled): a client that waited long gets the reason.
            (ConnectState::Failed { reason }, _) => {
                return Err(ConnectError::invalid(
                    "flow",
                    format!("this flow has ended: {reason}"),
                ));
            }
            _ => {
                return Err(ConnectError::invalid(
                    "flow",
                    "this flow is not waiting for a login confirmation",
                ));
            }
        };
        if crate::store::validate_login(github_login).is_err() {
            return Err(ConnectError::invalid(
                "github_login",
                "not a GitHub login (1 to 39 letters, digits or inner hyphens); nothing was stored",
            ));
        }
        if !shown.eq_ignore_ascii_case(github_login) {
            tracing::warn!(flow, uid, github_login = %shown, confirmed = %github_login, "GitHub connect: the login confirmed is not the one GitHub signed in");
            return Err(ConnectError::invalid(
                "github_login",
                format!(
                    "GitHub signed this flow in as @{shown}, not @{github_login}; nothing was \
                     stored. Confirm @{shown} only if it is the account to connect, or cancel"
                ),
            ));
        }
        f.approved.take().expect("checked above")
    };
    tracing::info!(flow, uid, github_login = %approved.login, "GitHub login confirmed");
    proceed(conn, flow, approved).await;
    super::status(conn, flow, uid, Duration::ZERO).await
}

/// Finish a flow that waits for an organization choice.
pub async fn choose_org(
    conn: &Arc<Connector>,
    flow: FlowId,
    uid: u32,
    org: &str,
) -> Result<ConnectState, ConnectError> {
    let c = conn;
    c.gc();
    let (approved, chosen) = {
        let mut flows = c.flows();
        let f = match flows.get_mut(&flow) {
            Some(f) if f.uid == uid => f,
            _ => return Err(not_found(flow)),
        };
        // Only in `ChooseOrg`: a web flow's token waiting for its login to be confirmed is not
        // the user's yet.
        let waits = matches!(*f.state.borrow(), ConnectState::ChooseOrg { .. });
        let Some(a) = f.approved.as_ref().filter(|_| waits) else {
            return Err(ConnectError::invalid(
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
            return Err(ConnectError::invalid(
                "org",
                format!("'{org}' is not one of: {}", names.join(", ")),
            ));
        };
        (f.approved.take().expect("checked above"), chosen)
    };
    finish(conn, flow, approved.tokens, approved.login, chosen).await;
    super::status(conn, flow, uid, Duration::ZERO).await
}

/// Store the credential and integration, and end the flow.
async fn finish(conn: &Arc<Connector>, flow: FlowId, tokens: TokenSet, login: String, org: Org) {
    let c = conn;
    let open = c
        .flows()
        .get(&flow)
        .filter(|f| f.ended_at.is_none())
        .map(|f| (f.team, f.uid, f.replace));
    // Cancelled or expired meanwhile: nothing is stored.
    let Some((team, uid, replace)) = open else {
        return;
    };
    // The role was checked when the flow started; a user demoted or removed meanwhile stores
    // nothing.
    let still_admin = matches!(
        conn.ctx.store.membership(team, uid),
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
    let result = conn.ctx.store.connect_github(
        &conn.ctx.keyring,
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
        Ok(outcome) => match conn.ctx.store.flush_async().await {
            Ok(()) => {
                tracing::info!(flow, team, org = %org.login, ?outcome, "GitHub connected");
                c.hooks_changed();
                // The first sync starts now (members at once; repositories once tracked), and
                // the organization hook is made when the token and the user allow one (best
                // effort; the reconciliation tries again): their services hear it.
                c.ctx.bus.publish(Event::Connected { team });
                match integration_info(conn, team) {
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

fn integration_info(conn: &Connector, team: TeamId) -> Option<tidemark_protocol::IntegrationInfo> {
    let cred = conn.ctx.store.credential(team, Provider::Github).ok()??;
    let g = conn.ctx.store.github_integration(team).ok()?;
    Some(tidemark_protocol::IntegrationInfo {
        credential: crate::wire::credential(&conn.ctx.store, &conn.ctx.keyring, &cred).ok()?,
        github: g.map(|g| {
            crate::wire::github(
                &conn.ctx.store,
                &conn.ctx.keyring,
                &g,
                &conn.live().github.web_url,
            )
        }),
    })
}
