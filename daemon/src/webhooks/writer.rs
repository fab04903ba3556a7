//! Group commit for the store's inbox (`store::inbox`): one thread writes whatever deliveries are waiting in one batch,
//! makes it durable with one `fdatasync` of the spool, and only then releases their
//! acknowledgements. Many deliveries at once cost one fsync, not one each.
//!
//! Deliveries are refused (503, which GitHub may send again) while they could not be stored
//! (`store/health.rs`): below the free-space margin (checked for each batch before it is
//! written), while sled cannot write, and after a failed batch for a backoff that grows while
//! batches keep failing; the first batch after it is tried for real, so deliveries are
//! acknowledged again only once one was written.
//!
//! What is not to be stored (an id or a body received before, a full backlog: see
//! `store/intake.rs`) is answered before it reaches the writer thread, so a flood of replays
//! costs a hash and a lookup each, in the receiver's own tasks; the writer decides again for
//! its batch.

use crate::context::Context;
use crate::logging::Throttle;
use crate::store::{Admission, InboxEntry, Incoming};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most deliveries written in one batch.
const MAX_BATCH: usize = 512;
/// A delivery not durable within this long is answered 503 (GitHub waits 10 s).
const ACK_TIMEOUT: Duration = Duration::from_secs(8);

type Job = (Incoming, oneshot::Sender<Result<Admission, String>>);

/// Refusals and failed batches are logged at most once per 30 s each.
static REFUSED_LOG: Throttle = Throttle::with_window(Duration::from_secs(30));
const REFUSED: &str = "inbox refused";
const FAILED: &str = "inbox write failed";

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    ctx: Weak<Context>,
}

impl Writer {
    /// Offer one verified delivery to the inbox: written durably, or answered as a known id, a
    /// replayed body or a full backlog (nothing written; see [`Admission`]).
    pub async fn write(&self, entry: InboxEntry) -> Result<Admission, String> {
        // Refused at once, not queued, while nothing could be stored (a cached free-space
        // reading will do here; each batch measures again).
        if let Some(ctx) = self.ctx.upgrade()
            && let Err(refusal) = ctx.store.health().admit(entry.body.len() as u64, false)
        {
            return Err(refusal.to_string());
        }
        // Hashed here, in the receiver's task: the writer thread is one for all.
        let entry = Incoming::new(entry);
        if let Some(ctx) = self.ctx.upgrade()
            && let Some(answer) = ctx
                .store
                .inbox_precheck(&entry)
                .map_err(|e| e.to_string())?
        {
            return Ok(answer);
        }
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
pub fn start(ctx: &Arc<Context>, written: Arc<tokio::sync::Notify>) -> std::io::Result<Writer> {
    let (tx, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    let weak = Arc::downgrade(ctx);
    // Unknown: refuse to start rather than reuse a sequence number (it would overwrite a
    // waiting delivery).
    let next_seq = ctx
        .store
        .inbox_max_seq()
        .map_err(|e| std::io::Error::other(format!("the webhook inbox cannot be read: {e}")))?
        + 1;
    std::thread::Builder::new()
        .name("webhook-inbox".into())
        .spawn(move || run(weak, rx, next_seq, written))?;
    Ok(Writer {
        tx,
        ctx: Arc::downgrade(ctx),
    })
}

fn run(
    ctx: Weak<Context>,
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
        let Some(ctx) = ctx.upgrade() else {
            break;
        };
        if let Err(refusal) = admit_batch(&ctx, &batch) {
            for (_, reply) in batch {
                let _ = reply.send(Err(refusal.clone()));
            }
            continue;
        }
        let (entries, replies): (Vec<Incoming>, Vec<_>) = batch
            .into_iter()
            .map(|(mut i, reply)| {
                i.entry.seq = next_seq;
                next_seq += 1;
                (i, reply)
            })
            .unzip();
        // Durable when `inbox_admit` returns (the spool's fdatasync; see store/spool.rs).
        let result = ctx.store.inbox_admit(&entries);
        match result {
            Ok(answers) => {
                let stored = answers.contains(&Admission::Stored);
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
                if stored {
                    written.notify_one();
                }
                // The next refusal is logged at once again.
                REFUSED_LOG.settle(REFUSED);
                if let Some(failed) = ctx.store.health().spool_ok() {
                    REFUSED_LOG.settle(FAILED);
                    tracing::warn!(
                        failed_batches = failed.attempts,
                        since = failed.since,
                        "webhook inbox: a batch was written again; deliveries are acknowledged again"
                    );
                }
            }
            Err(e) => {
                let retry_in = ctx.store.health().spool_failed(&e.to_string());
                if let Some(skipped) = REFUSED_LOG.allow(FAILED) {
                    tracing::error!(error = %e, retry_in_ms = retry_in.as_millis() as u64, "webhook inbox write failed: nothing of the batch was kept, its deliveries were answered 503; deliveries are refused until the retry{skipped}");
                }
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Whether a batch may be written now (see the module comment): the free space is measured
/// for it, its bodies and a page per delivery for their frames.
fn admit_batch(ctx: &Context, batch: &[Job]) -> Result<(), String> {
    let bytes: u64 = batch
        .iter()
        .map(|(e, _)| e.entry.body.len() as u64 + 4096)
        .sum();
    ctx.store.health().admit(bytes, true).map_err(|refusal| {
        if let Some(skipped) = REFUSED_LOG.allow(REFUSED) {
            tracing::warn!(reason = %refusal, "webhook deliveries refused (503) until they can be stored{skipped}");
        }
        refusal.to_string()
    })
}
