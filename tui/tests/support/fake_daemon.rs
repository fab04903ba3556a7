//! An in-memory stand-in for `tidemarkd`, serving the real protocol over the real transport, so
//! the client's wiring (codec, framing, handshake, error mapping) is tested end to end before the
//! daemon exists. It is deliberately simple: no users, no authorization.

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
use tidemark_protocol::{
    Hello, IntegrationInfo, PROTOCOL_VERSION, RepoInfo, Role, RpcError, TeamInfo, TeamRef,
    TeamStatus, Tidemark, UserInfo, validate_team_name,
};
use tokio::net::UnixListener;
use tokio::task::{JoinHandle, JoinSet};

#[derive(Clone)]
pub struct FakeDaemon {
    /// The GitHub data: repositories, sync, members, pull requests, metrics.
    pub sync: FakeSync,
    teams: Arc<Mutex<Vec<TeamStatus>>>,
    /// The protocol this fake claims to speak.
    protocol: u32,
}

impl FakeDaemon {
    pub fn new(teams: Vec<TeamStatus>) -> Self {
        FakeDaemon {
            sync: FakeSync::default(),
            teams: Arc::new(Mutex::new(teams)),
            protocol: PROTOCOL_VERSION,
        }
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
                let framed = LengthDelimitedCodec::builder()
                    .max_frame_length(16 * 1024 * 1024)
                    .new_framed(stream);
                let transport = tarpc::serde_transport::new(framed, Bincode::default());
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
            return Err(RpcError::AlreadyExists(format!("team '{name}'")));
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

    async fn team_delete(self, _: Context, team: TeamRef) -> Result<(), RpcError> {
        let index = self.find(&team)?;
        self.teams.lock().unwrap().remove(index);
        Ok(())
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
        _request: tidemark_protocol::ConnectRequest,
    ) -> Result<tidemark_protocol::ConnectStarted, RpcError> {
        Err(RpcError::Internal(
            "the fake daemon cannot connect GitHub".into(),
        ))
    }

    async fn github_connect_status(
        self,
        _: Context,
        flow: tidemark_protocol::FlowId,
        _wait_ms: u32,
    ) -> Result<tidemark_protocol::ConnectState, RpcError> {
        Err(RpcError::NotFound(format!("connect flow {flow}")))
    }

    async fn github_connect_choose_org(
        self,
        _: Context,
        flow: tidemark_protocol::FlowId,
        _org: String,
    ) -> Result<tidemark_protocol::ConnectState, RpcError> {
        Err(RpcError::NotFound(format!("connect flow {flow}")))
    }

    async fn github_connect_cancel(
        self,
        _: Context,
        flow: tidemark_protocol::FlowId,
    ) -> Result<(), RpcError> {
        Err(RpcError::NotFound(format!("connect flow {flow}")))
    }

    async fn github_disconnect(
        self,
        _: Context,
        _team: TeamRef,
        _purge: bool,
    ) -> Result<tidemark_protocol::DisconnectReport, RpcError> {
        Err(RpcError::Internal(
            "the fake daemon cannot disconnect GitHub".into(),
        ))
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
}

// A sibling file, named from here so the example that includes this file finds it too.
#[path = "fake_sync.rs"]
mod fake_sync;

pub use fake_sync::FakeSync;
