//! The socket's framing, one definition for the daemon and every client: length-delimited
//! frames (tokio-util's codec, 4-byte big-endian length) of bincode-encoded tarpc messages.
//! A frame over the cap is a protocol error, never an allocation.

use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
use tokio::io::{AsyncRead, AsyncWrite};

/// Largest frame a client accepts (replies: a team's pull requests can be large). The daemon
/// accepts less from clients (its own request cap).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// tarpc's transport over `S` with this framing.
pub type Transport<S, Item, SinkItem> =
    tarpc::serde_transport::Transport<S, Item, SinkItem, Bincode<Item, SinkItem>>;

/// Wrap a connected socket (or anything that reads and writes) with frames up to `max_frame`.
pub fn framed<S, Item, SinkItem>(io: S, max_frame: usize) -> Transport<S, Item, SinkItem>
where
    S: AsyncRead + AsyncWrite,
    Item: for<'de> serde::Deserialize<'de>,
    SinkItem: serde::Serialize,
{
    let framed = LengthDelimitedCodec::builder()
        .max_frame_length(max_frame)
        .new_framed(io);
    tarpc::serde_transport::new(framed, Bincode::default())
}
