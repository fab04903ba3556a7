//! The fake daemon's working agreements, alerts and Slack link (protocol v14), in memory: each
//! team's agreements (the defaults until saved), breaches from `tidemark_tui::fixtures`, and
//! Slack flows that wait a few status calls, then link the workspace `acme` with the fixture's
//! channels. As the daemon: saving agreements, connecting, choosing a channel and disconnecting
//! are for admins and owners (the team's `role` in its status says what the caller is); a
//! channel is chosen by id or `#name`.

// Each test binary (and the example) uses a different part.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidemark_protocol::agreements::{
    AdherenceRow, Agreements, Alerts, AlertsQuery, Breach, SlackChannel, SlackConnectState,
    SlackStatus,
};
use tidemark_protocol::{
    ConnectPrompt, ConnectStarted, FlowId, Role, RpcError, TeamId, TeamStatus,
};
use tidemark_tui::fixtures;

/// How long a Slack authorize link works at the fake.
pub const SLACK_FLOW_SECS: i64 = 600;

#[derive(Clone)]
pub struct FakeAgreements {
    inner: Arc<Mutex<Data>>,
}

struct Data {
    agreements: BTreeMap<TeamId, Agreements>,
    breaches: Vec<Breach>,
    adherence: Vec<AdherenceRow>,
    channels: Vec<SlackChannel>,
    /// Flows by id: their team and the `Waiting` answers still to give.
    flows: BTreeMap<FlowId, (TeamId, u32)>,
    /// Status calls answered `Waiting` before the user approves at Slack.
    waits: u32,
    /// Whether the user approves (otherwise cancels) at Slack.
    approve: bool,
    hold: Duration,
    /// Every `alerts` query, in order.
    queries: Vec<AlertsQuery>,
    /// Every `agreements_set`, in order.
    saved: Vec<Agreements>,
}

impl Default for FakeAgreements {
    fn default() -> Self {
        FakeAgreements {
            inner: Arc::new(Mutex::new(Data {
                agreements: BTreeMap::new(),
                breaches: fixtures::breaches(),
                adherence: fixtures::adherence(),
                channels: fixtures::slack_channels(),
                flows: BTreeMap::new(),
                waits: 2,
                approve: true,
                hold: Duration::from_millis(20),
                queries: Vec::new(),
                saved: Vec::new(),
            })),
        }
    }
}

type Teams = Mutex<Vec<TeamStatus>>;

fn may_manage(status: &TeamStatus, what: &str) -> Result<(), RpcError> {
    match status.team.role {
        Some(Role::Admin | Role::Owner) => Ok(()),
        _ => Err(RpcError::PermissionDenied(format!(
            "only the team's admins and owners may {what}"
        ))),
    }
}

impl FakeAgreements {
    /// The user cancels at Slack instead of approving.
    pub fn denying(self) -> Self {
        self.inner.lock().unwrap().approve = false;
        self
    }

    pub fn with_breaches(self, breaches: Vec<Breach>) -> Self {
        self.inner.lock().unwrap().breaches = breaches;
        self
    }

    pub fn queries(&self) -> Vec<AlertsQuery> {
        self.inner.lock().unwrap().queries.clone()
    }

    pub fn saved(&self) -> Vec<Agreements> {
        self.inner.lock().unwrap().saved.clone()
    }

    pub fn agreements(&self, team: TeamId) -> Agreements {
        let data = self.inner.lock().unwrap();
        data.agreements.get(&team).cloned().unwrap_or_default()
    }

    pub fn set_agreements(
        &self,
        teams: &Teams,
        index: usize,
        agreements: Agreements,
    ) -> Result<Agreements, RpcError> {
        let status = teams.lock().unwrap()[index].clone();
        may_manage(&status, "change the working agreements")?;
        if agreements.timezone.trim().is_empty() || agreements.timezone.contains(' ') {
            return Err(RpcError::invalid(
                "timezone",
                format!("'{}' is not a time zone", agreements.timezone),
            ));
        }
        let mut data = self.inner.lock().unwrap();
        data.saved.push(agreements.clone());
        data.agreements.insert(status.team.id, agreements.clone());
        Ok(agreements)
    }

    pub fn alerts(
        &self,
        teams: &Teams,
        index: usize,
        query: AlertsQuery,
    ) -> Result<Alerts, RpcError> {
        let status = teams.lock().unwrap()[index].clone();
        let mut data = self.inner.lock().unwrap();
        data.queries.push(query.clone());
        let open = data
            .breaches
            .iter()
            .filter(|b| b.resolved_at.is_none())
            .count() as u64;
        let breaches = data
            .breaches
            .iter()
            .filter(|b| query.include_resolved || b.resolved_at.is_none())
            .filter(|b| query.since.is_none_or(|since| b.since >= since))
            .take(query.limit as usize)
            .cloned()
            .collect();
        Ok(Alerts {
            breaches,
            open,
            evaluated_at: Some(fixtures::T0 - 120),
            slack: status.slack.unwrap_or_default(),
        })
    }

    pub fn adherence(&self, since: Option<i64>) -> Vec<AdherenceRow> {
        let _ = since;
        self.inner.lock().unwrap().adherence.clone()
    }

    pub fn connect(&self, teams: &Teams, index: usize) -> Result<ConnectStarted, RpcError> {
        let status = teams.lock().unwrap()[index].clone();
        may_manage(&status, "connect Slack")?;
        let mut data = self.inner.lock().unwrap();
        let flow = data.flows.keys().next_back().map_or(101, |last| last + 1);
        let waits = data.waits;
        data.flows.insert(flow, (status.team.id, waits));
        Ok(ConnectStarted {
            flow,
            prompt: ConnectPrompt::Browser {
                authorize_url: format!(
                    "https://slack.com/oauth/v2/authorize?client_id=fake&state=slack-{flow}"
                ),
            },
            expires_at: super::now() + SLACK_FLOW_SECS,
        })
    }

    pub async fn connect_status(
        &self,
        teams: &Teams,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<SlackConnectState, RpcError> {
        let (team, hold, waiting) = {
            let mut data = self.inner.lock().unwrap();
            let hold = data.hold.min(Duration::from_millis(u64::from(wait_ms)));
            let Some((team, left)) = data.flows.get_mut(&flow) else {
                return Err(RpcError::NotFound(format!("connect flow {flow}")));
            };
            let waiting = *left > 0;
            *left = left.saturating_sub(1);
            (*team, hold, waiting)
        };
        if waiting {
            tokio::time::sleep(hold).await;
            return Ok(SlackConnectState::Waiting);
        }
        let data = self.inner.lock().unwrap();
        if !data.approve {
            return Ok(SlackConnectState::Failed {
                reason: "the installation was cancelled at Slack".into(),
            });
        }
        let mut teams = teams.lock().unwrap();
        if let Some(status) = teams.iter_mut().find(|t| t.team.id == team) {
            status.slack = Some(SlackStatus {
                connected: true,
                workspace: Some("acme".into()),
                ..SlackStatus::default()
            });
        }
        Ok(SlackConnectState::Connected {
            workspace: "acme".into(),
            channels: data.channels.clone(),
        })
    }

    pub fn channels(&self, teams: &Teams, index: usize) -> Result<Vec<SlackChannel>, RpcError> {
        let connected = teams.lock().unwrap()[index]
            .slack
            .as_ref()
            .is_some_and(|s| s.connected);
        if !connected {
            return Err(RpcError::NotConfigured(
                "this team is not connected to Slack".into(),
            ));
        }
        Ok(self.inner.lock().unwrap().channels.clone())
    }

    pub fn channel_set(
        &self,
        teams: &Teams,
        index: usize,
        channel: &str,
    ) -> Result<SlackStatus, RpcError> {
        let mut teams = teams.lock().unwrap();
        let status = &mut teams[index];
        may_manage(status, "choose the Slack channel")?;
        let Some(slack) = status.slack.as_mut().filter(|s| s.connected) else {
            return Err(RpcError::NotConfigured(
                "this team is not connected to Slack".into(),
            ));
        };
        let data = self.inner.lock().unwrap();
        let found = data
            .channels
            .iter()
            .find(|c| match channel.strip_prefix('#') {
                Some(name) => c.name == name,
                None => c.id == channel,
            });
        let Some(found) = found else {
            return Err(RpcError::NotFound(format!("Slack channel {channel}")));
        };
        slack.channel = Some(found.clone());
        Ok(slack.clone())
    }

    pub fn disconnect(&self, teams: &Teams, index: usize) -> Result<(), RpcError> {
        let mut teams = teams.lock().unwrap();
        let status = &mut teams[index];
        may_manage(status, "disconnect Slack")?;
        if status.slack.take().is_none() {
            return Err(RpcError::NotFound("a Slack link for this team".into()));
        }
        Ok(())
    }
}
