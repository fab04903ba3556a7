//! The working-agreement and Slack calls: resolve the team, call `agreements/`, convert.

use super::service::{Service, store_err};
use crate::agreements::{self, AgreementsError};
use crate::auth::Need;
use crate::context::Event;
use crate::slack::SlackConnectError;
use std::time::Duration;
use tidemark_protocol::agreements::{
    AdherenceRow, Agreements, Alerts, AlertsQuery, SlackChannel, SlackConnectState, SlackStatus,
};
use tidemark_protocol::{ConnectStarted, FlowId, RpcError, TeamRef};

pub(crate) fn agreements_err(e: AgreementsError) -> RpcError {
    match e {
        AgreementsError::Invalid(m) => {
            let field = m
                .split(':')
                .next()
                .unwrap_or("agreements")
                .trim()
                .to_string();
            let field = if field.contains(' ') {
                "agreements".to_string()
            } else {
                field
            };
            RpcError::invalid(field, m)
        }
        AgreementsError::Zone(z) => RpcError::invalid("timezone", z.to_string()),
        AgreementsError::Store(e) => store_err(e),
    }
}

impl Service {
    pub(super) fn agreements_of(&self, team: &TeamRef) -> Result<Agreements, RpcError> {
        let team = self.team(team, Need::Read)?;
        agreements::get(&self.shared.store, team.id).map_err(store_err)
    }

    pub(super) async fn agreements_save(
        &self,
        team: &TeamRef,
        a: Agreements,
    ) -> Result<Agreements, RpcError> {
        let team = self.team(team, Need::Manage)?;
        let saved = agreements::set(&self.shared.store, team.id, a, crate::store::now())
            .map_err(agreements_err)?;
        self.durable().await?;
        tracing::info!(team = team.id, "working agreements saved");
        self.shared
            .bus
            .publish(Event::AgreementsChanged { team: team.id });
        Ok(saved)
    }

    pub(super) fn alerts_of(&self, q: &AlertsQuery) -> Result<Alerts, RpcError> {
        let team = self.team(&q.team, Need::Read)?;
        let store = &self.shared.store;
        let web_url = self.shared.github.live().github.web_url.clone();
        let (breaches, open) = agreements::alerts(store, team.id, q, &web_url, crate::store::now())
            .map_err(agreements_err)?;
        Ok(Alerts {
            breaches,
            open,
            evaluated_at: agreements::live::checked_at(team.id),
            slack: self.alert_state(team.id)?.1.unwrap_or_default(),
        })
    }

    pub(super) fn adherence_of(
        &self,
        team: &TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<AdherenceRow>, RpcError> {
        let team = self.team(team, Need::Read)?;
        agreements::adherence(&self.shared.store, team.id, since, crate::store::now())
            .map_err(agreements_err)
    }

    /// The team's open breaches and its Slack link as clients may see it (None: not
    /// connected), from one read of its breaches (`status` asks on every refresh).
    pub(super) fn alert_state(
        &self,
        team: crate::store::TeamId,
    ) -> Result<(u64, Option<SlackStatus>), RpcError> {
        use crate::store::SlackState;
        let store = &self.shared.store;
        let link = store.slack_link(team).map_err(store_err)?;
        let (mut open, mut pending) = (0u64, 0u64);
        for b in store.breaches(team).map_err(store_err)? {
            open += u64::from(b.resolved_at.is_none());
            // What the poster will send: not what ended or began before Slack was connected.
            let waits = matches!(b.slack, SlackState::Unsent | SlackState::Sending { .. })
                && b.resolved_at.is_none()
                && link.as_ref().is_some_and(|l| b.since >= l.connected_at);
            pending += u64::from(waits);
        }
        let slack = link.map(|link| SlackStatus {
            connected: true,
            workspace: Some(link.workspace),
            channel: link
                .channel_id
                .map(|id| tidemark_protocol::agreements::SlackChannel {
                    id,
                    name: link.channel_name.unwrap_or_default(),
                }),
            problem: link.problem,
            pending,
            sent: link.sent,
            last_sent_at: link.last_sent_at,
        });
        Ok((open, slack))
    }

    pub(super) fn slack_start(&self, team: &TeamRef) -> Result<ConnectStarted, RpcError> {
        let team = self.team(team, Need::Manage)?;
        self.shared
            .slack
            .start(team.id, self.caller.uid)
            .map_err(slack_err)
    }

    pub(super) async fn slack_flow(
        &self,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<SlackConnectState, RpcError> {
        self.shared
            .slack
            .status(
                flow,
                self.caller.uid,
                Duration::from_millis(u64::from(wait_ms)),
            )
            .await
            .map_err(slack_err)
    }

    pub(super) async fn slack_channel_list(
        &self,
        team: &TeamRef,
    ) -> Result<Vec<SlackChannel>, RpcError> {
        let team = self.team(team, Need::Read)?;
        self.shared.slack.channels(team.id).await.map_err(slack_err)
    }

    pub(super) async fn slack_channel_pick(
        &self,
        team: &TeamRef,
        channel: &str,
    ) -> Result<SlackStatus, RpcError> {
        let team = self.team(team, Need::Manage)?;
        self.shared
            .slack
            .set_channel(team.id, channel)
            .await
            .map_err(slack_err)?;
        tracing::info!(team = team.id, "Slack channel chosen");
        Ok(self.alert_state(team.id)?.1.unwrap_or_default())
    }

    pub(super) async fn slack_forget(&self, team: &TeamRef) -> Result<(), RpcError> {
        let team = self.team(team, Need::Manage)?;
        self.shared
            .slack
            .disconnect(team.id)
            .await
            .map_err(slack_err)
    }
}

pub(crate) fn slack_err(e: SlackConnectError) -> RpcError {
    match e {
        SlackConnectError::NoApp => RpcError::NotConfigured(e.to_string()),
        SlackConnectError::Invalid(m) => RpcError::invalid("channel", m),
        SlackConnectError::NotFound(what) => RpcError::NotFound(what),
        SlackConnectError::Store(e) => store_err(e),
        other => RpcError::Internal(other.to_string()),
    }
}
