//! The RPC server: a Unix socket, one tarpc channel per connection, each call attributed to the
//! connecting uid (peer credentials). What one uid may cost (connections, frame sizes, silent
//! time) is in [`limits`]; accepting never spins ([`crate::accept`]).

mod access;
mod agreements;
mod daemon_ops;
mod errors;
pub mod frames;
mod invitations;
pub mod limits;
mod membership;
mod service;
pub mod socket;
#[cfg(test)]
pub(crate) mod tests;

pub use service::{Service, Shared};

use crate::auth::Caller;
use crate::logging::Throttle;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tarpc::server::{BaseChannel, Channel};
use tidemark_protocol::{RpcError, Tidemark, TidemarkRequest, TidemarkResponse};
use tokio::net::{UnixListener, UnixStream};

pub use limits::Limits;

/// Largest frame a client accepts; the framing is `tidemark_protocol::transport`'s, shared with
/// the clients. What the daemon accepts from clients is [`Limits::request_frame`].
pub use tidemark_protocol::transport::MAX_FRAME;

/// Wrap a connected socket in tarpc's transport, as clients do (frames up to [`MAX_FRAME`]).
pub fn transport<Item, SinkItem>(
    stream: UnixStream,
) -> tidemark_protocol::transport::Transport<UnixStream, Item, SinkItem>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    tidemark_protocol::transport::framed(stream, MAX_FRAME)
}

/// Connections refused over the per-uid cap that are being told so at once; past this many a
/// refused connection is closed without a word (each costs a descriptor while it is told).
const MAX_REFUSING: usize = 16;
/// How long a refused connection has to send its first request and read the answer.
const REFUSAL_WAIT: Duration = Duration::from_secs(2);

static REFUSED: Throttle = Throttle::new();

/// Accept connections until the future is dropped.
pub async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    serve_with(listener, shared, Limits::DEFAULT).await;
}

/// [`serve`] with other limits (tests).
pub async fn serve_with(listener: UnixListener, shared: Arc<Shared>, limits: Limits) {
    let connections = limits::Connections::new(limits);
    let refusing = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSING));
    let mut backoff = crate::accept::Backoff::new();
    loop {
        let stream = crate::accept::accept(&listener, &mut backoff, "rpc").await;
        let caller = match stream.peer_cred() {
            Ok(cred) => Caller::new(cred.uid(), cred.pid()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the peer credentials of a connection; dropped");
                continue;
            }
        };
        let slot = match connections.admit(caller.uid) {
            Ok(slot) => slot,
            Err(refused) => {
                if let Some(skipped) = REFUSED.allow("rpc per-uid cap") {
                    tracing::warn!(uid = caller.uid, pid = ?caller.pid, "connection refused: {refused}{skipped}");
                }
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream, refused, limits.request_frame).await;
                        drop(permit);
                    });
                }
                continue;
            }
        };
        tracing::debug!(uid = caller.uid, pid = ?caller.pid, "connection");
        let service = Service {
            shared: shared.clone(),
            caller: Arc::new(caller),
        };
        tokio::spawn(serve_connection(stream, slot, service, limits));
    }
}

/// One connection: its requests, each on a task of its own, until it closes, breaks a limit
/// or stays silent for [`Limits::idle`].
async fn serve_connection(
    stream: UnixStream,
    slot: limits::Slot,
    service: Service,
    limits: Limits,
) {
    let uid = service.caller.uid;
    let io = frames::FrameGuard::new(stream, uid, slot.load().clone(), limits);
    let channel = BaseChannel::with_defaults(tidemark_protocol::transport::framed(
        io,
        limits.request_frame,
    ));
    let mut requests = channel.requests();
    let serve = service.serve();
    loop {
        // Polling the stream also writes the replies of calls still running.
        match tokio::time::timeout(limits.idle, requests.next()).await {
            Ok(Some(Ok(request))) => {
                tokio::spawn(request.execute(serve.clone()));
            }
            Ok(Some(Err(e))) => {
                tracing::debug!(uid, error = %e, "connection ended");
                break;
            }
            Ok(None) => break,
            Err(_) => {
                tracing::debug!(
                    uid,
                    idle_s = limits.idle.as_secs(),
                    "idle connection closed"
                );
                break;
            }
        }
    }
    drop(requests);
    drop(slot);
}

/// Tell a connection over the cap why it is refused: its first request (a client's is always
/// `hello`) is answered with the reason, then it is closed.
async fn refuse(stream: UnixStream, refused: limits::Refused, max_frame: usize) {
    let mut transport = tidemark_protocol::transport::framed::<
        _,
        tarpc::ClientMessage<TidemarkRequest>,
        tarpc::Response<TidemarkResponse>,
    >(stream, max_frame);
    let _ = tokio::time::timeout(REFUSAL_WAIT, async {
        let Some(Ok(tarpc::ClientMessage::Request(request))) = transport.next().await else {
            return;
        };
        let why = RpcError::PermissionDenied(refused.to_string());
        let message = match request.message {
            TidemarkRequest::Hello { .. } => Ok(TidemarkResponse::Hello(Err(why))),
            _ => Err(tarpc::ServerError::new(
                std::io::ErrorKind::ConnectionRefused,
                why.to_string(),
            )),
        };
        let _ = transport
            .send(tarpc::Response {
                request_id: request.id,
                message,
            })
            .await;
    })
    .await;
}
