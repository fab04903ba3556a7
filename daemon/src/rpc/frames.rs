//! The request side of a connection, watched frame by frame before tarpc's codec buffers it.
//!
//! tokio-util's `LengthDelimitedCodec` refuses a length prefix over its `max_frame_length`
//! before reserving anything (`decode_head` checks, then `reserve`s), so the codec alone already
//! bounds one frame. What it cannot see is the sum over connections: 64 connections of one user
//! each holding a frame 1 byte short of 1 MiB. [`FrameGuard`] reads the same prefixes as the
//! bytes go by and charges the unfinished part of each frame to the uid ([`UidLoad`]); a frame
//! over the size limit, or over the uid's budget, fails the read, and tarpc then closes the
//! connection.

use super::limits::{Limits, UidLoad};
use crate::logging::Throttle;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Length prefix of tarpc's frames (LengthDelimitedCodec's default: 4 bytes, big-endian).
const HEAD: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a request frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error(
        "unfinished request frames of uid {uid} would hold {total} bytes, over its {max} bytes"
    )]
    OverBudget { uid: u32, total: usize, max: usize },
}

static REFUSED_FRAME: Throttle = Throttle::new();

/// A stream whose incoming frames are checked and charged to their uid as they arrive.
#[derive(Debug)]
pub struct FrameGuard<S> {
    io: S,
    uid: u32,
    load: Arc<UidLoad>,
    limits: Limits,
    head: [u8; HEAD],
    head_len: usize,
    /// Bytes of the current frame's body still to come (0: reading a length prefix).
    body_left: usize,
    /// Bytes of the current frame charged to the uid so far.
    charged: usize,
}

impl<S> FrameGuard<S> {
    pub fn new(io: S, uid: u32, load: Arc<UidLoad>, limits: Limits) -> FrameGuard<S> {
        FrameGuard {
            io,
            uid,
            load,
            limits,
            head: [0; HEAD],
            head_len: 0,
            body_left: 0,
            charged: 0,
        }
    }

    /// Follow the frames through bytes just read.
    fn scan(&mut self, mut bytes: &[u8]) -> Result<(), FrameError> {
        while !bytes.is_empty() {
            if self.body_left == 0 {
                let take = (HEAD - self.head_len).min(bytes.len());
                self.head[self.head_len..self.head_len + take].copy_from_slice(&bytes[..take]);
                self.head_len += take;
                bytes = &bytes[take..];
                if self.head_len == HEAD {
                    self.head_len = 0;
                    let len = u32::from_be_bytes(self.head) as usize;
                    if len > self.limits.request_frame {
                        return Err(FrameError::TooLarge {
                            len,
                            max: self.limits.request_frame,
                        });
                    }
                    self.body_left = len;
                }
                continue;
            }
            let take = self.body_left.min(bytes.len());
            self.body_left -= take;
            bytes = &bytes[take..];
            if self.body_left == 0 {
                // Complete: the codec decodes it from this very read.
                self.release();
                continue;
            }
            self.charged += take;
            let total = self.load.partial.fetch_add(take, Ordering::Relaxed) + take;
            if total > self.limits.partial_bytes_per_uid {
                return Err(FrameError::OverBudget {
                    uid: self.uid,
                    total,
                    max: self.limits.partial_bytes_per_uid,
                });
            }
        }
        Ok(())
    }

    fn release(&mut self) {
        let charged = std::mem::take(&mut self.charged);
        self.load.partial.fetch_sub(charged, Ordering::Relaxed);
    }
}

impl<S> Drop for FrameGuard<S> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if let Err(e) = this.scan(&buf.filled()[before..]) {
            if let Some(skipped) = REFUSED_FRAME.allow("rpc frame") {
                tracing::warn!(uid = this.uid, error = %e, "connection closed{skipped}");
            }
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: usize = 1024;

    fn limits() -> Limits {
        Limits {
            request_frame: 64 * KB,
            partial_bytes_per_uid: 100 * KB,
            ..Limits::DEFAULT
        }
    }

    fn guard(load: &Arc<UidLoad>) -> FrameGuard<()> {
        FrameGuard::new((), 1000, load.clone(), limits())
    }

    fn frame(len: usize) -> Vec<u8> {
        let mut f = (len as u32).to_be_bytes().to_vec();
        f.resize(HEAD + len, 7);
        f
    }

    #[test]
    fn whole_frames_leave_nothing_charged_however_they_are_split() {
        let load = Arc::new(UidLoad::default());
        let mut g = guard(&load);
        let mut bytes = Vec::new();
        for len in [0, 1, 10, 64 * KB, 3] {
            bytes.extend(frame(len));
        }
        for chunk in bytes.chunks(5) {
            g.scan(chunk).unwrap();
            assert!(load.partial() < 64 * KB);
        }
        assert_eq!(load.partial(), 0);
        g.scan(&bytes).unwrap();
        assert_eq!(load.partial(), 0);
    }

    #[test]
    fn a_length_over_the_limit_fails_at_its_prefix() {
        let load = Arc::new(UidLoad::default());
        let mut g = guard(&load);
        // Just the four bytes of a 16 MiB prefix: refused before any of the body arrives.
        let err = g.scan(&(16u32 << 20).to_be_bytes()).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLarge {
                len: 16 << 20,
                max: 64 * KB
            }
        );
        assert_eq!(load.partial(), 0);
        // The limit itself is allowed.
        let mut g = guard(&load);
        g.scan(&frame(64 * KB)).unwrap();
    }

    #[test]
    fn unfinished_frames_are_charged_to_the_uid_across_connections() {
        let load = Arc::new(UidLoad::default());
        let mut a = guard(&load);
        let mut b = guard(&load);
        let f = frame(60 * KB);
        a.scan(&f[..HEAD + 50 * KB]).unwrap();
        assert_eq!(load.partial(), 50 * KB);
        let err = b.scan(&f[..HEAD + 51 * KB]).unwrap_err();
        assert!(
            matches!(err, FrameError::OverBudget { uid: 1000, .. }),
            "{err}"
        );
        // A closed connection gives its bytes back; the other finishes its frame.
        drop(b);
        assert_eq!(load.partial(), 50 * KB);
        a.scan(&f[HEAD + 50 * KB..]).unwrap();
        assert_eq!(load.partial(), 0);
        let mut c = guard(&load);
        c.scan(&f[..HEAD + 59 * KB]).unwrap();
        drop(c);
        assert_eq!(load.partial(), 0);
    }
}
