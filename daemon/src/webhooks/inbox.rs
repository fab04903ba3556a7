//! Group commit for the inbox: one thread writes whatever deliveries are waiting in one batch,
//! makes it durable with one `fdatasync` of the spool, and only then releases their
//! acknowledgements. Many deliveries at once cost one fsync, not one each.

use crate::rpc::Shared;
use crate::store::InboxEntry;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most deliveries written in one batch.
const MAX_BATCH: usize = 512;
/// A delivery not durable within this long is answered 503 (GitHub waits 10 s).
const ACK_TIMEOUT: Duration = Duration::from_secs(8);

type Job = (InboxEntry, oneshot::Sender<Result<bool, String>>);

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Write one verified delivery durably. Ok(true): its id was seen before (nothing written).
    pub async fn write(&self, entry: InboxEntry) -> Result<bool, String> {
        let (tx, rx) = oneshot::channel();
        let durable = async {
            self.tx
                .send((entry, tx))
                .await
                .map_err(|_| "the inbox writer stopped".to_string())?;
            rx.await
                .map_err(|_| "the inbox writer stopped".to_string())?
        };
        tokio::time::timeout(ACK_TIMEOUT, durable)
            .await
            .map_err(|_| "the delivery was not durable in time".to_string())?
    }
}

/// Start the writer thread; `written` is notified after each durable batch.
pub fn start(shared: &Arc<Shared>, written: Arc<tokio::sync::Notify>) -> std::io::Result<Writer> {
    let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    let weak = Arc::downgrade(shared);
    // Unknown: refuse to start rather than reuse a sequence number (it would overwrite a
    // waiting delivery).
    let next_seq = shared
        .store
        .inbox_max_seq()
        .map_err(|e| std::io::Error::other(format!("the webhook inbox cannot be read: {e}")))?
        + 1;
    std::thread::Builder::new()
        .name("webhook-inbox".into())
        .spawn(move || run(weak, rx, next_seq, written))?;
    Ok(Writer { tx })
}

fn run(
    shared: Weak<Shared>,
    mut rx: mpsc::Receiver<Job>,
    mut next_seq: u64,
    written: Arc<tokio::sync::Notify>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let Some(shared) = shared.upgrade() else {
            break;
        };
        let (entries, replies): (Vec<InboxEntry>, Vec<_>) = batch
            .into_iter()
            .map(|(mut e, reply)| {
                e.seq = next_seq;
                next_seq += 1;
                (e, reply)
            })
            .unzip();
        // Durable when `inbox_add` returns (the spool's fdatasync; see store/spool.rs).
        let result = shared.store.inbox_add(&entries);
        match result {
            Ok(dups) => {
                for (reply, dup) in replies.into_iter().zip(dups) {
                    let _ = reply.send(Ok(dup));
                }
                written.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook inbox write failed");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
