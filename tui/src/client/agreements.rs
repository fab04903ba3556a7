//! The calls of working agreements, alerts and the Slack link (protocol v14): `tidemark
//! agreements|alerts|slack`, `connect slack`, `disconnect slack`, and the Alerts tab.

use tidemark_protocol::agreements::{
    AdherenceRow, Agreements, Alerts, AlertsQuery, SlackChannel, SlackConnectState, SlackStatus,
};
use tidemark_protocol::{ConnectStarted, FlowId, TeamRef};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    pub async fn agreements(&self, team: TeamRef) -> Result<Agreements, ClientError> {
        let reply = self
            .client
            .agreements(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    /// Save the team's agreements (admins and owners); answers them as the daemon saved them.
    pub async fn agreements_set(
        &self,
        team: TeamRef,
        agreements: Agreements,
    ) -> Result<Agreements, ClientError> {
        let reply = self
            .client
            .agreements_set(context_with(CALL_DEADLINE), team, agreements)
            .await;
        self.flatten(reply)
    }

    pub async fn alerts(&self, query: AlertsQuery) -> Result<Alerts, ClientError> {
        let reply = self.client.alerts(context_with(CALL_DEADLINE), query).await;
        self.flatten(reply)
    }

    pub async fn adherence(
        &self,
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<AdherenceRow>, ClientError> {
        let reply = self
            .client
            .adherence(context_with(CALL_DEADLINE), team, since)
            .await;
        self.flatten(reply)
    }

    pub async fn slack_connect(&self, team: TeamRef) -> Result<ConnectStarted, ClientError> {
        let reply = self
            .client
            .slack_connect(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    /// A long poll like `github_connect_status`: the daemon holds it up to `wait_ms` (keep it
    /// at [`super::STATUS_WAIT_MS`], well inside the call's deadline).
    pub async fn slack_connect_status(
        &self,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<SlackConnectState, ClientError> {
        let reply = self
            .client
            .slack_connect_status(context_with(CALL_DEADLINE), flow, wait_ms)
            .await;
        self.flatten(reply)
    }

    pub async fn slack_channels(&self, team: TeamRef) -> Result<Vec<SlackChannel>, ClientError> {
        let reply = self
            .client
            .slack_channels(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    /// `channel` is a Slack channel id or `#name`.
    pub async fn slack_channel_set(
        &self,
        team: TeamRef,
        channel: String,
    ) -> Result<SlackStatus, ClientError> {
        let reply = self
            .client
            .slack_channel_set(context_with(CALL_DEADLINE), team, channel)
            .await;
        self.flatten(reply)
    }

    pub async fn slack_disconnect(&self, team: TeamRef) -> Result<(), ClientError> {
        let reply = self
            .client
            .slack_disconnect(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }
}
