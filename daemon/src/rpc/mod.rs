//! The RPC server: a Unix socket, one tarpc channel per connection, each call attributed to the
//! connecting uid (peer credentials).

mod access;
pub(crate) mod convert;
mod daemon_ops;
mod membership;
mod service;
pub mod socket;
#[cfg(test)]
mod tests;

pub use service::{Service, Shared};

use crate::auth::Caller;
use futures::StreamExt;
use std::sync::Arc;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
use tidemark_protocol::Tidemark;
use tokio::net::{UnixListener, UnixStream};

/// Largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Wrap a connected socket in tarpc's transport, exactly as clients must.
pub fn transport<Item, SinkItem>(
    stream: UnixStream,
) -> tarpc::serde_transport::Transport<UnixStream, Item, SinkItem, Bincode<Item, SinkItem>>
where
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    let framed = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(stream);
    tarpc::serde_transport::new(framed, Bincode::default())
}

/// Accept connections until the future is dropped.
pub async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let caller = match stream.peer_cred() {
            Ok(cred) => Caller::new(cred.uid(), cred.pid()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the peer credentials of a connection; dropped");
                continue;
            }
        };
        tracing::debug!(uid = caller.uid, pid = ?caller.pid, "connection");
        let service = Service {
            shared: shared.clone(),
            caller: Arc::new(caller),
        };
        let channel = BaseChannel::with_defaults(transport(stream));
        tokio::spawn(
            channel
                .execute(service.serve())
                .for_each(|call| async move {
                    tokio::spawn(call);
                }),
        );
    }
}
