//! The connection to `tidemarkd`: a tarpc client over the daemon's Unix socket, opened with the
//! `hello` handshake, and errors written for the person at the terminal.
//!
//! Every RPC goes through [`Connection`], so the transport settings (length-delimited bincode
//! frames, 16 MiB cap) exist once and match the daemon's listener exactly.

use std::error::Error as StdError;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup, DoraGrouping, DoraQuery, DoraReport};

use tidemark_protocol::{
    ConnectRequest, ConnectStarted, ConnectState, DisconnectReport, FlowId, Hello, IntegrationInfo,
    PROTOCOL_VERSION, RepoInfo, RpcError, TeamInfo, TeamRef, TeamStatus, TidemarkClient,
};
use tokio::net::UnixStream;

use crate::autostart::StartError;

mod agreements;
mod daemon;
mod members;
pub mod peer;
mod team_data;

/// The handshake is tiny; a socket that accepts but stays silent is not a daemon we can use.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// tarpc's default deadline, made explicit: the daemon answers long work at once and reports
/// progress, so no call should legitimately take longer.
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);
/// The daemon holds a `github_connect_status` call at most this long before answering `Waiting`.
pub const STATUS_WAIT_CAP_MS: u32 = 8_000;
/// How long the clients ask the daemon to hold a status call: well under [`CALL_DEADLINE`], so
/// a long poll never looks like a daemon that stopped answering.
pub const STATUS_WAIT_MS: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the tidemark daemon is not running: nothing answers on {} ({source}); start it with \
         `tidemark daemon` (or `tidemarkd`)",
        socket.display()
    )]
    NotRunning {
        socket: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "permission denied on the daemon socket {}: it belongs to another user; use your own \
         daemon with --socket, or ask its owner for access (a shared system service lets in \
         the members of its socket's group, `tidemark`)",
        socket.display()
    )]
    PermissionDenied { socket: PathBuf },
    #[error(
        "refusing the daemon at {}: it runs as uid {uid} ({name}), not as you (uid {own}), root \
         or the service account `{service}`, so it may be another user's, waiting for what you \
         send; nothing was sent. Check --socket / TIDEMARK_SOCKET (a system service run by \
         another account: name it in TIDEMARK_DAEMON_USER)",
        socket.display()
    )]
    UntrustedDaemon {
        socket: PathBuf,
        uid: u32,
        name: String,
        own: u32,
        service: String,
    },
    #[error("cannot connect to the daemon at {}: {source}", socket.display())]
    Connect {
        socket: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Carries [`RpcError::VersionMismatch`], whose message already says what to do.
    #[error("{0}")]
    VersionMismatch(RpcError),
    #[error(
        "the daemon at {} speaks an incompatible protocol (this client speaks protocol \
         {PROTOCOL_VERSION}); restart the daemon from the same build as the client",
        socket.display()
    )]
    Incompatible { socket: PathBuf },
    #[error("the daemon at {} did not answer within {} s", socket.display(), after.as_secs())]
    Timeout { socket: PathBuf, after: Duration },
    #[error("lost the connection to the daemon at {}: {reason}", socket.display())]
    Disconnected { socket: PathBuf, reason: String },
    /// The daemon answered, with an error of its own (not found, already exists, ...).
    #[error("{0}")]
    Rpc(RpcError),
    #[error(transparent)]
    Start(#[from] StartError),
}

impl ClientError {
    /// Nothing listens on the socket: the one case where starting a daemon can help.
    pub fn is_not_running(&self) -> bool {
        matches!(self, ClientError::NotRunning { .. })
    }

    /// The connection is unusable and must be reopened (as opposed to a refused request).
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            ClientError::Disconnected { .. }
                | ClientError::NotRunning { .. }
                | ClientError::Connect { .. }
        )
    }
}

/// An open, handshaken connection. Cheap to clone: clones share one socket.
#[derive(Clone)]
pub struct Connection {
    client: TidemarkClient,
    socket: PathBuf,
    hello: Hello,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("socket", &self.socket)
            .field("hello", &self.hello)
            .finish()
    }
}

/// Classify a failed `connect(2)` on the socket.
pub fn connect_error(socket: &Path, err: io::Error) -> ClientError {
    let socket = socket.to_path_buf();
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => ClientError::NotRunning {
            socket,
            source: err,
        },
        io::ErrorKind::PermissionDenied => ClientError::PermissionDenied { socket },
        _ => ClientError::Connect {
            socket,
            source: err,
        },
    }
}

/// Map a tarpc transport failure. During the handshake a frame we cannot decode means the other
/// side is not speaking our protocol, which deserves its own message.
pub fn transport_error(
    socket: &Path,
    err: tarpc::client::RpcError,
    handshake: bool,
) -> ClientError {
    use tarpc::client::RpcError as T;
    let socket = socket.to_path_buf();
    match err {
        T::DeadlineExceeded => ClientError::Timeout {
            socket,
            after: if handshake {
                HELLO_TIMEOUT
            } else {
                CALL_DEADLINE
            },
        },
        // tarpc keeps the transport's error behind an `Arc<dyn Error>`, which hides it from
        // `downcast_ref`: look at what the Arc holds.
        T::Channel(tarpc::ChannelError::Read(ref cause))
            if handshake && is_decode_failure(&**cause) =>
        {
            ClientError::Incompatible { socket }
        }
        T::Server(server) => ClientError::Rpc(RpcError::Internal(server.detail)),
        T::Shutdown => ClientError::Disconnected {
            socket,
            reason: "the daemon closed the connection".into(),
        },
        other => ClientError::Disconnected {
            socket,
            reason: describe_chain(&other),
        },
    }
}

/// Whether an error chain contains an `InvalidData` I/O error: what the bincode codec and the
/// length-delimited framing report for bytes that are not one of our messages. `io::Error` hides
/// its payload from `source()`, hence the explicit `get_ref` descent.
pub fn is_decode_failure(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(io_err) = err.downcast_ref::<io::Error>() {
            if io_err.kind() == io::ErrorKind::InvalidData {
                return true;
            }
            if let Some(inner) = io_err.get_ref() {
                current = Some(inner as &(dyn StdError + 'static));
                continue;
            }
        }
        current = err.source();
    }
    false
}

fn describe_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

fn context_with(deadline: Duration) -> tarpc::context::Context {
    let mut ctx = tarpc::context::current();
    ctx.deadline = Instant::now() + deadline;
    ctx
}

impl Connection {
    /// Connect to the socket and perform the handshake. Never starts a daemon: see
    /// [`crate::autostart::connect_or_start`].
    pub async fn connect(socket: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|e| connect_error(socket, e))?;
        // Whose daemon this is, before a single byte goes to it.
        let peer = stream.peer_cred().map_err(|source| ClientError::Connect {
            socket: socket.to_path_buf(),
            source,
        })?;
        peer::check(socket, peer.uid())?;
        // The daemon's own framing (`tidemark_protocol::transport`), defined once.
        let transport =
            tidemark_protocol::transport::framed(stream, tidemark_protocol::transport::MAX_FRAME);
        let client = TidemarkClient::new(tarpc::client::Config::default(), transport).spawn();
        let hello = handshake(&client, socket).await?;
        tracing::info!(socket = %socket.display(), daemon = %hello.daemon_version, "connected");
        Ok(Connection {
            client,
            socket: socket.to_path_buf(),
            hello,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Cheap liveness check (the frozen handshake again); used to notice a daemon that went away
    /// while nothing else was being asked.
    pub async fn ping(&self) -> Result<(), ClientError> {
        handshake(&self.client, &self.socket).await.map(drop)
    }

    pub async fn team_create(&self, name: String) -> Result<TeamInfo, ClientError> {
        let reply = self
            .client
            .team_create(context_with(CALL_DEADLINE), name)
            .await;
        self.flatten(reply)
    }

    pub async fn team_list(&self) -> Result<Vec<TeamInfo>, ClientError> {
        let reply = self.client.team_list(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    pub async fn team_rename(
        &self,
        team: TeamRef,
        new_name: String,
    ) -> Result<TeamInfo, ClientError> {
        let reply = self
            .client
            .team_rename(context_with(CALL_DEADLINE), team, new_name)
            .await;
        self.flatten(reply)
    }

    pub async fn team_delete(&self, team: TeamRef) -> Result<TeamInfo, ClientError> {
        let reply = self
            .client
            .team_delete(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn integrations(&self, team: TeamRef) -> Result<Vec<IntegrationInfo>, ClientError> {
        let reply = self
            .client
            .integrations(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn tracked_repos(&self, team: TeamRef) -> Result<Vec<RepoInfo>, ClientError> {
        let reply = self
            .client
            .tracked_repos(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn status(&self, team: Option<TeamRef>) -> Result<Vec<TeamStatus>, ClientError> {
        let reply = self.client.status(context_with(CALL_DEADLINE), team).await;
        self.flatten(reply)
    }

    pub async fn github_connect(
        &self,
        request: ConnectRequest,
    ) -> Result<ConnectStarted, ClientError> {
        let reply = self
            .client
            .github_connect(context_with(CALL_DEADLINE), request)
            .await;
        self.flatten(reply)
    }

    /// Long poll: the daemon answers when the flow moves past `Waiting`, or after `wait_ms` (it
    /// caps the wait at [`STATUS_WAIT_CAP_MS`]). The deadline covers the wait plus the usual one.
    pub async fn github_connect_status(
        &self,
        flow: FlowId,
        wait_ms: u32,
    ) -> Result<ConnectState, ClientError> {
        let wait = Duration::from_millis(u64::from(wait_ms.min(STATUS_WAIT_CAP_MS)));
        let reply = self
            .client
            .github_connect_status(context_with(wait + CALL_DEADLINE), flow, wait_ms)
            .await;
        self.flatten(reply)
    }

    pub async fn github_connect_choose_org(
        &self,
        flow: FlowId,
        org: String,
    ) -> Result<ConnectState, ClientError> {
        let reply = self
            .client
            .github_connect_choose_org(context_with(CALL_DEADLINE), flow, org)
            .await;
        self.flatten(reply)
    }

    pub async fn github_connect_confirm_login(
        &self,
        flow: FlowId,
        github_login: String,
    ) -> Result<ConnectState, ClientError> {
        let reply = self
            .client
            .github_connect_confirm_login(context_with(CALL_DEADLINE), flow, github_login)
            .await;
        self.flatten(reply)
    }

    pub async fn github_connect_cancel(&self, flow: FlowId) -> Result<(), ClientError> {
        let reply = self
            .client
            .github_connect_cancel(context_with(CALL_DEADLINE), flow)
            .await;
        self.flatten(reply)
    }

    pub async fn github_disconnect(
        &self,
        team: TeamRef,
        purge: bool,
    ) -> Result<DisconnectReport, ClientError> {
        let reply = self
            .client
            .github_disconnect(context_with(CALL_DEADLINE), team, purge)
            .await;
        self.flatten(reply)
    }

    fn flatten<T>(
        &self,
        reply: Result<Result<T, RpcError>, tarpc::client::RpcError>,
    ) -> Result<T, ClientError> {
        match reply {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(ClientError::Rpc(err)),
            Err(err) => Err(transport_error(&self.socket, err, false)),
        }
    }
}

async fn handshake(client: &TidemarkClient, socket: &Path) -> Result<Hello, ClientError> {
    let reply = client.hello(context_with(HELLO_TIMEOUT), PROTOCOL_VERSION);
    // The deadline above is only sent to the daemon; this bounds our own wait too.
    let reply = tokio::time::timeout(HELLO_TIMEOUT, reply)
        .await
        .map_err(|_| ClientError::Timeout {
            socket: socket.to_path_buf(),
            after: HELLO_TIMEOUT,
        })?;
    check_hello(socket, reply)
}

/// Judge the answer to `hello`. Split out so every branch is unit-testable without a daemon.
pub fn check_hello(
    socket: &Path,
    reply: Result<Result<Hello, RpcError>, tarpc::client::RpcError>,
) -> Result<Hello, ClientError> {
    match reply {
        Ok(Ok(hello)) if hello.protocol_version == PROTOCOL_VERSION => Ok(hello),
        // A daemon should refuse a mismatch itself; be strict in case it answers anyway.
        Ok(Ok(hello)) => Err(ClientError::VersionMismatch(RpcError::VersionMismatch {
            client: PROTOCOL_VERSION,
            daemon: hello.protocol_version,
            daemon_version: hello.daemon_version,
        })),
        Ok(Err(err @ RpcError::VersionMismatch { .. })) => Err(ClientError::VersionMismatch(err)),
        Ok(Err(err @ RpcError::PermissionDenied(_))) => Err(ClientError::Rpc(err)),
        Ok(Err(err)) => Err(ClientError::Rpc(err)),
        Err(err) => Err(transport_error(socket, err, true)),
    }
}

// The GitHub data: repositories, sync, members, pull requests and metrics.
use tidemark_protocol::{
    AvailableRepo, MemberInfo, MetricsQuery, MetricsRow, PrInfo, PrQuery, SyncProgress,
};

/// The daemon holds a `sync_status` call at most this long while nothing changes.
pub const SYNC_STATUS_WAIT_CAP_MS: u32 = 8_000;
/// How long the clients ask the daemon to hold a `sync_status` call: well under
/// [`CALL_DEADLINE`], so a quiet sync never looks like a daemon that stopped answering.
pub const SYNC_STATUS_WAIT_MS: u32 = 5_000;

impl Connection {
    /// The connected organization's repositories (the daemon asks GitHub).
    pub async fn repos_available(&self, team: TeamRef) -> Result<Vec<AvailableRepo>, ClientError> {
        let reply = self
            .client
            .repos_available(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn repos_track(
        &self,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<RepoInfo>, ClientError> {
        let reply = self
            .client
            .repos_track(context_with(CALL_DEADLINE), team, full_names)
            .await;
        self.flatten(reply)
    }

    pub async fn repos_untrack(
        &self,
        team: TeamRef,
        full_names: Vec<String>,
    ) -> Result<Vec<String>, ClientError> {
        let reply = self
            .client
            .repos_untrack(context_with(CALL_DEADLINE), team, full_names)
            .await;
        self.flatten(reply)
    }

    pub async fn sync_start(&self, team: TeamRef) -> Result<SyncProgress, ClientError> {
        let reply = self
            .client
            .sync_start(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    /// Long poll: while a sync runs the daemon answers when it changes, or after `wait_ms` (it
    /// caps the wait at [`SYNC_STATUS_WAIT_CAP_MS`]). The deadline covers the wait plus the usual
    /// one.
    pub async fn sync_status(
        &self,
        team: TeamRef,
        wait_ms: u32,
    ) -> Result<SyncProgress, ClientError> {
        let wait = Duration::from_millis(u64::from(wait_ms.min(SYNC_STATUS_WAIT_CAP_MS)));
        let reply = self
            .client
            .sync_status(context_with(wait + CALL_DEADLINE), team, wait_ms)
            .await;
        self.flatten(reply)
    }

    pub async fn webhook_rotate_secret(
        &self,
        team: TeamRef,
    ) -> Result<tidemark_protocol::RotateReport, ClientError> {
        let reply = self
            .client
            .webhook_rotate_secret(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn members(&self, team: TeamRef) -> Result<Vec<MemberInfo>, ClientError> {
        let reply = self.client.members(context_with(CALL_DEADLINE), team).await;
        self.flatten(reply)
    }

    pub async fn pull_requests(&self, query: PrQuery) -> Result<Vec<PrInfo>, ClientError> {
        let reply = self
            .client
            .pull_requests(context_with(CALL_DEADLINE), query)
            .await;
        self.flatten(reply)
    }

    pub async fn dora(&self, query: DoraQuery) -> Result<DoraReport, ClientError> {
        let reply = self.client.dora(context_with(CALL_DEADLINE), query).await;
        self.flatten(reply)
    }

    /// The team's five figures over the last 12 weeks with `config` (None: the saved rules).
    pub async fn dora_team(
        &self,
        team: TeamRef,
        config: Option<DeliveryConfig>,
    ) -> Result<DoraGroup, ClientError> {
        let report = self
            .dora(DoraQuery {
                team,
                since: None,
                until: None,
                by: DoraGrouping::Team,
                config,
                explain: false,
            })
            .await?;
        report.groups.into_iter().next().ok_or_else(|| {
            ClientError::Rpc(RpcError::Internal(
                "the daemon sent a team report without the team's figures".into(),
            ))
        })
    }

    /// What new rules would make of the last 12 weeks: the team's figures with the saved rules
    /// (before) and with `config` (after). The daemon checks `config` on the way: a refused
    /// pattern fails here, before any save.
    pub async fn dora_preview(
        &self,
        team: TeamRef,
        config: DeliveryConfig,
    ) -> Result<(DoraGroup, DoraGroup), ClientError> {
        let before = self.dora_team(team.clone(), None).await?;
        let after = self.dora_team(team, Some(config)).await?;
        Ok((before, after))
    }

    pub async fn delivery_config(&self, team: TeamRef) -> Result<DeliveryConfig, ClientError> {
        let reply = self
            .client
            .delivery_config(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn delivery_config_set(
        &self,
        team: TeamRef,
        config: DeliveryConfig,
    ) -> Result<DeliveryConfig, ClientError> {
        let reply = self
            .client
            .delivery_config_set(context_with(CALL_DEADLINE), team, config)
            .await;
        self.flatten(reply)
    }

    pub async fn metrics(&self, query: MetricsQuery) -> Result<Vec<MetricsRow>, ClientError> {
        let reply = self
            .client
            .metrics(context_with(CALL_DEADLINE), query)
            .await;
        self.flatten(reply)
    }
}

#[cfg(test)]
mod tests;
