//! The RPC service: thin. Resolve the team a call names through `access.rs` (which decides what
//! the caller may do there), call the store or a module, convert.

use crate::auth::{Caller, Need};
use crate::connect::Connector;
use crate::store::{self, TeamId};
use crate::sync::Syncs;
use crate::wire as convert;
use std::sync::Arc;
use tarpc::context::Context;
use tidemark_protocol::{
    ConnectRequest, ConnectStarted, ConnectState, DisconnectReport, FlowId, Hello, IntegrationInfo,
    Invitation, MemberAdded, PROTOCOL_VERSION, RepoInfo, Role, RpcError, TeamInfo, TeamMembership,
    TeamRef, TeamStatus, Tidemark, UserInfo, UserRef,
};

/// What every connection shares: the daemon's context and the services over it. Reads of the
/// context go through it (`shared.store`), as this layer is only an adapter.
pub struct Shared {
    pub ctx: crate::context::Ctx,
    /// The connect flows in progress.
    pub connector: Arc<Connector>,
    /// Syncs running and their progress; the reconciliation schedule.
    pub syncs: Arc<Syncs>,
    /// Slack connect flows in progress.
    pub slack: Arc<crate::slack::Slack>,
}

impl Shared {
    pub fn new(ctx: crate::context::Ctx) -> Shared {
        Shared {
            connector: Arc::new(Connector::new(ctx.clone())),
            syncs: Arc::new(Syncs::new(ctx.clone())),
            slack: crate::slack::Slack::new(ctx.clone()),
            ctx,
        }
    }
}

impl std::ops::Deref for Shared {
    type Target = crate::context::Context;
    fn deref(&self) -> &Self::Target {
        &self.ctx
    }
}

/// One per connection: the shared state and who is at the other end.
#[derive(Clone)]
pub struct Service {
    pub shared: Arc<Shared>,
    pub caller: Arc<Caller>,
}

pub(super) use super::errors::{delivery_err, store_err};

impl Service {
    fn role_in(&self, team: TeamId) -> Result<Option<store::Role>, RpcError> {
        let m = self
            .shared
            .store
            .membership(team, self.caller.uid)
            .map_err(store_err)?;
        Ok(m.map(|m| m.role))
    }

    fn team_info(&self, team: &store::Team) -> Result<TeamInfo, RpcError> {
        Ok(convert::team(team, self.role_in(team.id)?))
    }

    fn integrations_of(&self, team: TeamId) -> Result<Vec<IntegrationInfo>, RpcError> {
        let s = &self.shared;
        let mut out = Vec::new();
        for cred in s.store.credentials(team).map_err(store_err)? {
            let github = match cred.provider {
                store::Provider::Github => s
                    .store
                    .github_integration(team)
                    .map_err(store_err)?
                    .map(|g| {
                        convert::github(
                            &s.store,
                            &s.keyring,
                            &g,
                            &s.connector.live().github.web_url,
                        )
                    }),
                _ => None,
            };
            out.push(IntegrationInfo {
                credential: convert::credential(&s.store, &s.keyring, &cred).map_err(store_err)?,
                github,
            });
        }
        Ok(out)
    }

    fn repos_of(&self, team: TeamId) -> Result<Vec<RepoInfo>, RpcError> {
        let store = &self.shared.store;
        let repos = store.tracked_repos(team).map_err(store_err)?;
        repos
            .iter()
            .map(|r| {
                let prs = store
                    .count_repo_pull_requests(team, r.github_repo_id)
                    .map_err(store_err)?;
                let health = store
                    .hook_health(team, r.github_repo_id)
                    .map_err(store_err)?;
                let mut info = convert::repo(r, prs);
                if let Some(h) = health {
                    info.last_webhook_at = h.last_delivery_at;
                    info.last_ping_at = h.last_ping_at;
                    info.webhooks_missed = h.missed;
                    info.webhooks_recovered = h.recovered;
                }
                // A problem matters only while there is no hook.
                if r.webhook_id.is_none()
                    && let Some(p) = store
                        .hook_problem(team, r.github_repo_id)
                        .map_err(store_err)?
                {
                    info.webhook_problem = Some(tidemark_protocol::WebhookProblem {
                        reason: p.problem,
                        since: p.since,
                    });
                }
                Ok(info)
            })
            .collect()
    }

    fn status_of(&self, team: &store::Team) -> Result<TeamStatus, RpcError> {
        let store = &self.shared.store;
        let (webhooks_pending, webhooks_oldest_pending_at) = store.inbox_backlog(team.id);
        let (open_breaches, slack) = self.alert_state(team.id)?;
        Ok(TeamStatus {
            team: self.team_info(team)?,
            integrations: self.integrations_of(team.id)?,
            repos: self.repos_of(team.id)?,
            member_count: store.count_org_members(team.id).map_err(store_err)?,
            pull_request_count: store.count_pull_requests(team.id).map_err(store_err)?,
            webhook_public_url: self.shared.connector.live().public_url.clone(),
            webhooks_pending,
            webhooks_oldest_pending_at,
            // GitHub's latest answer, whichever request got it (not the sync's last look).
            rate_budget: self.shared.github.budget(team.id).snapshot(),
            member_changes: crate::webhooks::org_hook::member_changes(&self.shared, team.id),
            webhook_intake: crate::webhooks::intake(&self.shared, team.id),
            open_breaches,
            slack,
        })
    }

    pub(super) async fn durable(&self) -> Result<(), RpcError> {
        self.shared.store.flush_async().await.map_err(store_err)
    }
}

impl Tidemark for Service {
    async fn hello(self, _: Context, client_protocol: u32) -> Result<Hello, RpcError> {
        if client_protocol != PROTOCOL_VERSION {
            return Err(RpcError::VersionMismatch {
                client: client_protocol,
                daemon: PROTOCOL_VERSION,
                daemon_version: env!("CARGO_PKG_VERSION").into(),
            });
        }
        Ok(Hello {
            protocol_version: PROTOCOL_VERSION,
            daemon_version: env!("CARGO_PKG_VERSION").into(),
        })
    }

    async fn whoami(self, _: Context) -> Result<UserInfo, RpcError> {
        Ok(UserInfo {
            uid: self.caller.uid,
            name: self.caller.name.clone(),
        })
    }

    async fn team_create(self, _: Context, name: String) -> Result<TeamInfo, RpcError> {
        let s = &self.shared;
        s.store
            .upsert_user(self.caller.uid, &self.caller.name)
            .map_err(store_err)?;
        let team = s
            .store
            .create_team(&name, Some(self.caller.uid))
            .map_err(store_err)?;
        self.durable().await?;
        tracing::info!(team = team.id, uid = self.caller.uid, "team created");
        self.team_info(&team)
    }

    async fn team_list(self, _: Context) -> Result<Vec<TeamInfo>, RpcError> {
        Ok(self
            .my_teams()?
            .iter()
            .map(|(t, role)| convert::team(t, Some(*role)))
            .collect())
    }

    async fn team_rename(
        self,
        _: Context,
        team: TeamRef,
        new_name: String,
    ) -> Result<TeamInfo, RpcError> {
        let id = self.team(&team, Need::Own)?.id;
        let renamed = self
            .shared
            .store
            .rename_team(id, &new_name, Some(self.caller.uid))
            .map_err(store_err)?;
        self.durable().await?;
        self.team_info(&renamed)
    }

    async fn team_delete(self, _: Context, team: TeamRef) -> Result<TeamInfo, RpcError> {
        let found = self.team(&team, Need::Own)?;
        let id = found.id;
        // Read before the delete: the reply names exactly what went (id included).
        let info = self.team_info(&found)?;
        let removed = self.shared.store.delete_team(id).map_err(store_err)?;
        self.durable().await?;
        tracing::info!(
            team = id,
            records = removed,
            uid = self.caller.uid,
            "team deleted"
        );
        Ok(info)
    }

    async fn team_add_member(
        self,
        _: Context,
        team: TeamRef,
        user: UserRef,
        role: Role,
    ) -> Result<MemberAdded, RpcError> {
        self.add_member(&team, &user, role).await
    }

    async fn team_remove_member(
        self,
        _: Context,
        team: TeamRef,
        user: UserRef,
    ) -> Result<(), RpcError> {
        self.remove_member(&team, &user).await
    }

    async fn team_members(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<TeamMembership>, RpcError> {
        self.members_of(&team)
    }

    async fn team_invitations(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<Invitation>, RpcError> {
        self.invitations_of_team(&team)
    }

    async fn invitations(self, _: Context) -> Result<Vec<Invitation>, RpcError> {
        self.my_invitations()
    }

    async fn invitation_accept(self, _: Context, team: TeamRef) -> Result<TeamInfo, RpcError> {
        self.accept(&team).await
    }

    async fn invitation_decline(self, _: Context, team: TeamRef) -> Result<(), RpcError> {
        self.decline(&team).await
    }

    async fn integrations(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<IntegrationInfo>, RpcError> {
        let team = self.team(&team, Need::Read)?;
        self.integrations_of(team.id)
    }

    async fn tracked_repos(self, _: Context, team: TeamRef) -> Result<Vec<RepoInfo>, RpcError> {
        let team = self.team(&team, Need::Read)?;
        self.repos_of(team.id)
    }

    async fn status(self, _: Context, team: Option<TeamRef>) -> Result<Vec<TeamStatus>, RpcError> {
        let teams = match team {
            Some(team) => vec![self.team(&team, Need::Read)?],
            None => self.my_teams()?.into_iter().map(|(t, _)| t).collect(),
        };
        teams.iter().map(|t| self.status_of(t)).collect()
    }

    async fn github_connect(
        self,
        _: Context,
        request: ConnectRequest,
    ) -> Result<ConnectStarted, RpcError> {
        let team = self.team(&request.team, Need::Manage)?;
        crate::connect::start(
            &self.shared.connector,
            team.id,
            self.caller.uid,
            &self.caller.name,
            request,
        )
        .await
        .map_err(Into::into)
    }

    // A flow belongs to the user who started it: anyone else's flow id is not found.
    async fn github_connect_status(
        self,
        _: Context,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<ConnectState, RpcError> {
        let wait = std::time::Duration::from_millis(wait_ms.into());
        Ok(crate::connect::status(&self.shared.connector, flow, self.caller.uid, wait).await?)
    }

    async fn github_connect_choose_org(
        self,
        _: Context,
        flow: FlowId,
        org: String,
    ) -> Result<ConnectState, RpcError> {
        Ok(crate::connect::choose_org(&self.shared.connector, flow, self.caller.uid, &org).await?)
    }

    async fn github_connect_confirm_login(
        self,
        _: Context,
        flow: FlowId,
        github_login: String,
    ) -> Result<ConnectState, RpcError> {
        Ok(crate::connect::confirm_login(
            &self.shared.connector,
            flow,
            self.caller.uid,
            &github_login,
        )
        .await?)
    }

    async fn github_connect_cancel(self, _: Context, flow: FlowId) -> Result<(), RpcError> {
        Ok(crate::connect::cancel(
            &self.shared.connector,
            flow,
            self.caller.uid,
        )?)
    }

    async fn github_disconnect(
        self,
        _: Context,
        team: TeamRef,
        purge: bool,
    ) -> Result<DisconnectReport, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        Ok(crate::connect::disconnect::disconnect(&self.shared.connector, team.id, purge).await?)
    }

    /// Listing what could be tracked spends the team's GitHub budget: part of managing repos.
    async fn repos_available(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::AvailableRepo>, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        Ok(crate::teams::repos::available(&self.shared, team.id).await?)
    }

    async fn repos_track(
        self,
        _: Context,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<RepoInfo>, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        let ids = crate::teams::repos::track(&self.shared, team.id, &full_names).await?;
        // New repositories are synced at once, not at the next reconciliation.
        let _ = crate::sync::start(&self.shared.syncs, team.id);
        let all = self.repos_of(team.id)?;
        Ok(all
            .into_iter()
            .filter(|r| ids.contains(&r.github_repo_id))
            .collect())
    }

    async fn repos_untrack(
        self,
        _: Context,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<String>, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        Ok(crate::teams::repos::untrack(&self.shared, team.id, &full_names).await?)
    }

    async fn sync_start(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::SyncProgress, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        Ok(crate::sync::start(&self.shared.syncs, team.id)?)
    }

    async fn sync_status(
        self,
        _: Context,
        team: TeamRef,
        wait_ms: u32,
    ) -> Result<tidemark_protocol::SyncProgress, RpcError> {
        let team = self.team(&team, Need::Read)?;
        let wait = std::time::Duration::from_millis(wait_ms.into());
        Ok(crate::sync::status(&self.shared.syncs, team.id, wait).await)
    }

    async fn members(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::MemberInfo>, RpcError> {
        let team = self.team(&team, Need::Read)?;
        crate::teams::reports::members(&self.shared.store, team.id).map_err(store_err)
    }

    async fn pull_requests(
        self,
        _: Context,
        query: tidemark_protocol::PrQuery,
    ) -> Result<Vec<tidemark_protocol::PrInfo>, RpcError> {
        let team = self.team(&query.team, Need::Read)?;
        crate::teams::reports::pull_requests(&self.shared.store, team.id, &query).map_err(store_err)
    }

    async fn metrics(
        self,
        _: Context,
        query: tidemark_protocol::MetricsQuery,
    ) -> Result<Vec<tidemark_protocol::MetricsRow>, RpcError> {
        let team = self.team(&query.team, Need::Read)?;
        crate::teams::reports::metrics(&self.shared.store, team.id, &team.name, &query)
            .map_err(store_err)
    }

    async fn dora(
        self,
        _: Context,
        query: tidemark_protocol::delivery::DoraQuery,
    ) -> Result<tidemark_protocol::delivery::DoraReport, RpcError> {
        let team = self.team(&query.team, Need::Read)?;
        let now = crate::store::now();
        let report = crate::delivery::report(&self.shared.store, team.id, &team.name, &query, now)
            .map_err(delivery_err)?;
        crate::delivery::fits_one_answer(&report).map_err(delivery_err)?;
        Ok(report)
    }

    async fn delivery_config(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::delivery::DeliveryConfig, RpcError> {
        let team = self.team(&team, Need::Read)?;
        crate::delivery::config(&self.shared.store, team.id).map_err(store_err)
    }

    async fn delivery_config_set(
        self,
        _: Context,
        team: TeamRef,
        config: tidemark_protocol::delivery::DeliveryConfig,
    ) -> Result<tidemark_protocol::delivery::DeliveryConfig, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        let saved = crate::delivery::set_config(&self.shared.store, team.id, &config)
            .map_err(delivery_err)?;
        tracing::info!(team = team.id, "delivery rules saved");
        Ok(saved)
    }

    async fn agreements(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::agreements::Agreements, RpcError> {
        self.agreements_of(&team)
    }

    async fn agreements_set(
        self,
        _: Context,
        team: TeamRef,
        agreements: tidemark_protocol::agreements::Agreements,
    ) -> Result<tidemark_protocol::agreements::Agreements, RpcError> {
        self.agreements_save(&team, agreements).await
    }

    async fn alerts(
        self,
        _: Context,
        query: tidemark_protocol::agreements::AlertsQuery,
    ) -> Result<tidemark_protocol::agreements::Alerts, RpcError> {
        self.alerts_of(&query)
    }

    async fn adherence(
        self,
        _: Context,
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<tidemark_protocol::agreements::AdherenceRow>, RpcError> {
        self.adherence_of(&team, since)
    }

    async fn slack_connect(self, _: Context, team: TeamRef) -> Result<ConnectStarted, RpcError> {
        self.slack_start(&team)
    }

    async fn slack_connect_status(
        self,
        _: Context,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<tidemark_protocol::agreements::SlackConnectState, RpcError> {
        self.slack_flow(flow, wait_ms).await
    }

    async fn slack_channels(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<Vec<tidemark_protocol::agreements::SlackChannel>, RpcError> {
        self.slack_channel_list(&team).await
    }

    async fn slack_channel_set(
        self,
        _: Context,
        team: TeamRef,
        channel: String,
    ) -> Result<tidemark_protocol::agreements::SlackStatus, RpcError> {
        self.slack_channel_pick(&team, &channel).await
    }

    async fn slack_disconnect(self, _: Context, team: TeamRef) -> Result<(), RpcError> {
        self.slack_forget(&team).await
    }

    async fn reviewers(
        self,
        _: Context,
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<tidemark_protocol::ReviewerCount>, RpcError> {
        let team = self.team(&team, Need::Read)?;
        crate::teams::activity::reviewers(&self.shared.store, team.id, since).map_err(store_err)
    }

    async fn pull_request_timeline(
        self,
        _: Context,
        team: TeamRef,
        repo: String,
        number: u64,
    ) -> Result<tidemark_protocol::PrTimeline, RpcError> {
        let team = self.team(&team, Need::Read)?;
        let repo_id = self
            .shared
            .store
            .tracked_repos(team.id)
            .map_err(store_err)?
            .into_iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(&repo))
            .map(|r| r.github_repo_id)
            .ok_or_else(|| RpcError::NotFound(format!("tracked repository {repo}")))?;
        crate::teams::activity::timeline(&self.shared.store, team.id, repo_id, number)
            .map_err(store_err)
    }

    async fn daemon_info(self, _: Context) -> Result<tidemark_protocol::DaemonInfo, RpcError> {
        Ok(super::daemon_ops::info(&self.shared, &self.caller))
    }

    async fn daemon_reload(self, _: Context) -> Result<tidemark_protocol::ReloadReport, RpcError> {
        super::daemon_ops::operator(&self.shared, &self.caller)?;
        super::daemon_ops::reload(&self.shared).await
    }

    async fn daemon_stop(self, _: Context, restart: bool) -> Result<(), RpcError> {
        super::daemon_ops::operator(&self.shared, &self.caller)?;
        super::daemon_ops::stop(&self.shared, &self.caller, restart)
    }

    async fn github_app_set(
        self,
        _: Context,
        request: tidemark_protocol::GitHubAppRequest,
    ) -> Result<tidemark_protocol::GitHubAppReport, RpcError> {
        super::daemon_ops::operator(&self.shared, &self.caller)?;
        super::daemon_ops::github_app_set(&self.shared, request).await
    }

    async fn webhook_rotate_secret(
        self,
        _: Context,
        team: TeamRef,
    ) -> Result<tidemark_protocol::RotateReport, RpcError> {
        let team = self.team(&team, Need::Manage)?;
        if self
            .shared
            .store
            .github_integration(team.id)
            .map_err(store_err)?
            .is_none()
        {
            return Err(RpcError::invalid(
                "team",
                "the team is not connected to GitHub",
            ));
        }
        crate::webhooks::hooks::rotate_secret(&self.shared, team.id)
            .await
            .map_err(RpcError::Internal)
    }
}
