//! The webhook listener: HTTP/1.1 by hyper on the daemon's tokio runtime, a task per connection,
//! so a slow or stalled client holds up only its own task. The signature is checked before
//! anything is written, and the 2xx goes out only once the delivery is durable.
//!
//! What an attacker without a secret can make it hold is bounded (issue 15): a request with no
//! signature, without GitHub's headers, or for a hook no team has is refused from its head,
//! before any body byte is kept; a body's buffer grows as bytes arrive (never from
//! `Content-Length`), from a daemon-wide budget of unverified bytes (`budget.rs`: when spent,
//! the largest body gives way to a smaller one, else 503), hashed as it streams in; heads must
//! arrive within `HEAD_TIMEOUT` (also the keep-alive idle limit), bodies at a minimum rate; and
//! when every connection slot is taken the connection idle the longest is evicted
//! (`conns.rs`). Refusals are counted and logged a line per kind per 10 s (`refusals.rs`).
//!
//! Why not tiny_http, which the OAuth callback uses: its connection pool queues a new connection
//! behind open keep-alive ones when two arrive at once (its idle-thread count is read before the
//! woken thread takes the first task), so a delivery could wait until another client hung up.

use super::body::{self, BodyError, Limits};
use super::budget::{Budget, Refused};
use super::conns::{Backoff, Conns, Slot, connections_that_fit, is_resource_exhaustion};
use super::index::{Hooks, Lookup, Owner, Target};
use super::refusals::{Kind, Refusals};
use super::verify::{Verifier, parse_header};
use super::writer::Writer;
use crate::context::Context;
use crate::github::hooks::headers;
use crate::store::{Admission, InboxEntry, TeamId};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

pub const PATH: &str = "/webhooks/github";

/// The path a team's hooks call: `PATH/team/{id}`. Each team's hook has a URL of its own, so
/// two teams may track one repository (GitHub refuses a second hook with the same URL: 422
/// "Hook already exists on this repository"), and the receiver knows whose a new hook's ping
/// is before its id is stored. Hooks made before this (at `PATH`) are moved by self-healing
/// and still served meanwhile.
pub fn team_path(team: TeamId) -> String {
    format!("{PATH}/team/{team}")
}

/// Which team a request's path names: `Some(None)` for the ctx `PATH`, `Some(Some(team))`
/// for `team_path(team)`, None for anything else (404).
pub fn route(path: &str) -> Option<Option<TeamId>> {
    let rest = path.strip_prefix(PATH)?;
    if rest.is_empty() {
        return Some(None);
    }
    let id = rest.strip_prefix("/team/")?;
    // Digits only (no sign, no leading zero): one path per team.
    if id.is_empty() || id.starts_with('0') || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse::<TeamId>().ok().map(Some)
}
/// GitHub's own cap on a webhook payload.
pub const MAX_BODY: usize = 25 * 1024 * 1024;
/// Unverified body bytes held at once, all connections together.
pub const UNVERIFIED_BUDGET: usize = 64 * 1024 * 1024;
/// Connection slots (fewer if the open-files limit cannot be raised that far).
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections the kernel queues for us to accept (it caps this at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 1024;
/// A request's head must arrive within this long; also how long a keep-alive connection may
/// sit idle between requests.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How a body must arrive. GitHub gives a delivery 10 s in all, so a body slower than this is
/// of no use to it anyway.
pub const BODY: Limits = Limits {
    max_body: MAX_BODY,
    grace: Duration::from_secs(5),
    min_rate: 32 * 1024,
    timeout: Duration::from_secs(20),
    grow_wait: Duration::from_secs(1),
};
/// A body whose owner only the body can tell (no hook id we know, no target headers: GitHub
/// sends both, so in practice a ping before its hook's id is stored) is capped lower: an
/// attacker naming no hook holds at most this much of the budget per connection.
pub const FROM_BODY_MAX: usize = 1024 * 1024;
/// What a 503 asks the client to wait, in seconds.
const RETRY_AFTER_SECS: &str = "10";
/// At most one log line per kind of refusal per window.
const LOG_WINDOW: Duration = Duration::from_secs(10);
/// How long an evicted connection has to finish writing an answer before it is dropped.
const EVICT_GRACE: Duration = Duration::from_secs(1);

pub struct Receiver {
    ctx: Weak<Context>,
    writer: Writer,
    hooks: Hooks,
    budget: Arc<Budget>,
    conns: Arc<Conns>,
    refusals: Refusals,
    /// Requests being handled (head read, not answered yet).
    in_flight: AtomicUsize,
}

/// Stops the listener at shutdown, letting deliveries already being handled finish.
pub struct Stopper {
    stop: tokio::sync::watch::Sender<bool>,
    receiver: Arc<Receiver>,
}

impl Stopper {
    /// Stop accepting (and close idle connections), then wait up to `grace` for the requests in
    /// hand: each one's write and fsync completes and its answer is sent. Returns how many were
    /// still running. Blocking: call it off the runtime's worker threads.
    pub fn stop(self, grace: Duration) -> usize {
        let deadline = Instant::now() + grace;
        let _ = self.stop.send(true);
        loop {
            let running = self.receiver.in_flight.load(Ordering::SeqCst);
            if running == 0 || Instant::now() >= deadline {
                return running;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Counts a request in flight while it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Open the listener on `addr` (on the current tokio runtime); returns its bound address and
/// its [`Stopper`].
pub fn start(
    ctx: &Arc<Context>,
    addr: std::net::SocketAddr,
    writer: Writer,
) -> std::io::Result<(std::net::SocketAddr, Stopper)> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // std's 128 overflows under a burst of connections (a flood, or GitHub after an outage):
    // a dropped SYN costs its sender a 1 s retransmission, a legitimate one too.
    let listener = socket.listen(LISTEN_BACKLOG)?;
    let bound = listener.local_addr()?;
    let slots = connections_that_fit(MAX_CONNECTIONS);
    let receiver = Arc::new(Receiver {
        ctx: Arc::downgrade(ctx),
        writer,
        hooks: Hooks::default(),
        budget: Budget::new(UNVERIFIED_BUDGET),
        conns: Conns::new(slots),
        refusals: Refusals::new(LOG_WINDOW),
        in_flight: AtomicUsize::new(0),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(accept_loop(listener, receiver.clone(), stopped.clone()));
    tokio::spawn(housekeeping(receiver.clone(), stopped));
    tracing::info!(%bound, path = PATH, slots, "webhook listener open");
    Ok((bound, Stopper { stop, receiver }))
}

/// Every second: give large refused bodies' pages back to the OS; once per window, tell the
/// refusals counted since the last line.
async fn housekeeping(receiver: Arc<Receiver>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut last_flush = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = until_stopped(&mut stopped) => return receiver.refusals.flush(),
        }
        receiver.budget.tidy();
        if last_flush.elapsed() >= LOG_WINDOW {
            receiver.refusals.flush();
            last_flush = Instant::now();
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    receiver: Arc<Receiver>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = until_stopped(&mut stopped) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            Err(e) if is_resource_exhaustion(&e) => {
                // Out of descriptors: an idle connection gives its one up, and the loop waits
                // (growing to 1 s) instead of spinning on the same error.
                receiver
                    .refusals
                    .record(Kind::AcceptFailed, || e.to_string());
                receiver.conns.evict_oldest_idle();
                tokio::select! {
                    () = tokio::time::sleep(backoff.wait()) => continue,
                    () = until_stopped(&mut stopped) => return,
                }
            }
            Err(e) => {
                // That one connection failed (reset before we took it): take the next.
                tracing::debug!(error = %e, "webhook listener: accept failed");
                continue;
            }
        };
        // All slots taken: the connection idle the longest makes room, or we wait for one.
        tokio::select! {
            () = receiver.conns.make_room() => {}
            () = until_stopped(&mut stopped) => return,
        }
        let slot = receiver.conns.open();
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(receiver.clone(), stream, slot, stopped.clone()));
    }
}

/// One connection, until it closes, is evicted or the listener stops.
async fn serve(
    receiver: Arc<Receiver>,
    stream: tokio::net::TcpStream,
    slot: Slot,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let conn = slot.conn.clone();
    let r = receiver.clone();
    let service = hyper::service::service_fn(move |req| {
        let (r, conn) = (r.clone(), conn.clone());
        async move {
            let _busy = conn.busy(&r.conns);
            Ok::<_, Infallible>(r.handle(req).await)
        }
    });
    let http = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(64 * 1024)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut http = std::pin::pin!(http);
    let served = tokio::select! {
        served = http.as_mut() => served,
        () = until_stopped(&mut stopped) => {
            // Shutting down: the request in hand (if any) finishes, then it closes.
            http.as_mut().graceful_shutdown();
            http.await
        }
        () = slot.conn.evicted() => {
            // Idle: it closes at once, or once the answer it was writing is out; a head that
            // started trickling in is cut after the grace, a request begun meanwhile finishes.
            http.as_mut().graceful_shutdown();
            match tokio::time::timeout(EVICT_GRACE, http.as_mut()).await {
                Ok(served) => served,
                Err(_) if slot.conn.is_busy() => http.await,
                Err(_) => Ok(()),
            }
        }
    };
    if let Err(e) = served {
        tracing::debug!(error = %e, "webhook connection ended");
    }
    drop(slot);
}

/// Read and drop the body of a request refused from its head, so that the client gets our
/// answer rather than a reset: nothing is kept, at most `MAX_BODY` bytes are read, at the
/// bodies' minimum rate.
async fn discard(mut body: Incoming) {
    let start = tokio::time::Instant::now();
    let mut seen = 0usize;
    while seen <= MAX_BODY {
        let due = body::deadline(&BODY, start, seen);
        match tokio::time::timeout_at(due, body.frame()).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, hyper::body::Bytes::len),
            _ => return,
        }
    }
}

/// Resolves once the listener is told to stop (or its stopper is gone).
async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

fn respond(status: u16, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// An answer after which the connection closes (its body was not read to the end).
fn respond_and_close(status: u16, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = respond(status, text);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    if status == 503 {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    resp
}

fn header<'a>(req: &'a hyper::http::request::Parts, name: &str) -> Option<&'a [u8]> {
    req.headers
        .get(name)
        .map(hyper::http::HeaderValue::as_bytes)
}

fn header_str(req: &hyper::http::request::Parts, name: &str) -> String {
    header(req, name)
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What identifies a delivery in a refusal's log line: never its body or signature.
fn detail(hook_id: Option<u64>, event: &str, guid: &str) -> String {
    format!("hook {hook_id:?}, event {event:?}, delivery {guid:?}")
}

impl Receiver {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let _counted = InFlight::new(&self.in_flight);
        tracing::trace!(path = req.uri().path(), "webhook request: head read");
        // A browser coming back through the public URL (an https OAuth redirect).
        if req.method() == Method::GET
            && let Some(ctx) = self.ctx.upgrade()
            && let Some(page) = ctx.returns.get(req.uri().path())
        {
            drop(ctx);
            let query = req.uri().query().unwrap_or_default().to_string();
            let (status, html) = page(query).await;
            let mut resp = Response::new(Full::new(Bytes::from(html)));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let h = resp.headers_mut();
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
            h.insert(
                hyper::header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            return resp;
        }
        let Some(named) = route(req.uri().path()) else {
            return respond(404, "not found\n");
        };
        if req.method() != Method::POST {
            return respond(405, "POST only\n");
        }
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let event = header_str(&parts, headers::EVENT);
        let guid = header_str(&parts, headers::DELIVERY);
        let hook_id = header_str(&parts, headers::HOOK_ID).parse::<u64>().ok();
        let what = || detail(hook_id, &event, &guid);
        // Everything the head alone can refuse is refused before a byte of the body is kept.
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return self.refuse_unread(body, Kind::TooLarge, what, 413, "payload too large\n");
        }
        let Ok(signature) = parse_header(header(&parts, headers::SIGNATURE_256)) else {
            return self.refuse_unread(body, Kind::NoSignature, what, 401, "bad signature\n");
        };
        if event.is_empty() || guid.is_empty() || guid.len() > 100 || event.len() > 100 {
            let text = "missing X-GitHub-Event or X-GitHub-Delivery\n";
            return self.refuse_unread(body, Kind::MissingHeaders, what, 400, text);
        }
        let Some(ctx) = self.ctx.upgrade() else {
            return respond_and_close(503, "shutting down\n");
        };
        let index = self.hooks.get(&ctx).await;
        let target = Target::from_headers(
            &header_str(&parts, headers::TARGET_TYPE),
            &header_str(&parts, headers::TARGET_ID),
        );
        let lookup = index.by_headers(hook_id, target, named);
        // A team whose backlog is full costs nothing to refuse: no body byte is read.
        if let Lookup::Found(owner) = &lookup
            && !ctx.store.inbox_has_room(owner.team, declared.unwrap_or(0))
        {
            // Counted (and logged, a line a minute per team) by the store, for `status`.
            tokio::spawn(discard(body));
            let text = "too many deliveries wait for this team; the next sync covers this one\n";
            return respond_and_close(503, text);
        }
        // Not held while the body arrives: a slow client must not keep the store open.
        drop(ctx);
        let (owner, body) = match lookup {
            Lookup::Unknown => {
                return self.refuse_unread(body, Kind::UnknownHook, what, 401, "unknown hook\n");
            }
            Lookup::Found(owner) => {
                // The owner is known from the head: the HMACs run as the body streams in.
                let hold = self.budget.hold();
                let mut verifier = Verifier::from_keyed(&owner.macs);
                let read = body::read(body, declared, &hold, Some(&mut verifier), &BODY).await;
                let body = match read {
                    Ok(body) => body,
                    Err(e) => return self.body_refused(e, what),
                };
                if verifier.finish(&signature).is_err() {
                    self.refusals.record(Kind::BadSignature, what);
                    return respond(401, "bad signature\n");
                }
                (owner, body)
            }
            Lookup::FromBody => {
                // No hook id we know and no target headers: only the body names its owner.
                let hold = self.budget.hold();
                let limits = Limits {
                    max_body: FROM_BODY_MAX,
                    ..BODY
                };
                let body = match body::read(body, declared, &hold, None, &limits).await {
                    Ok(body) => body,
                    Err(e) => return self.body_refused(e, what),
                };
                let Some(owner) = index.by_body(&body, named) else {
                    self.refusals.record(Kind::UnknownHook, what);
                    return respond(401, "unknown hook\n");
                };
                let mut verifier = Verifier::from_keyed(&owner.macs);
                verifier.update(&body);
                if verifier.finish(&signature).is_err() {
                    self.refusals.record(Kind::BadSignature, what);
                    return respond(401, "bad signature\n");
                }
                (owner, body)
            }
        };
        // Verified (each branch's hold gave its bytes back as it ended): from here on the
        // bytes are the inbox's, not the unverified budget's.
        self.store(owner, event, guid, hook_id, body).await
    }

    async fn store(
        &self,
        owner: Owner,
        event: String,
        guid: String,
        hook_id: Option<u64>,
        body: Vec<u8>,
    ) -> Response<Full<Bytes>> {
        let entry = InboxEntry {
            team_id: owner.team,
            seq: 0,
            guid,
            event,
            hook_id,
            repo_id: owner.repo,
            received_at: crate::store::now(),
            body,
        };
        match self.writer.write(entry).await {
            Ok(Admission::Stored) => respond(202, "accepted\n"),
            Ok(Admission::DuplicateId) => respond(200, "duplicate delivery; already accepted\n"),
            // 2xx, so GitHub does not retry; counted for `status` (store/intake.rs).
            Ok(Admission::Replay) => respond(200, "same body as an earlier delivery; ignored\n"),
            Ok(Admission::BacklogFull) => respond(
                503,
                "too many deliveries wait for this team; the next sync covers this one\n",
            ),
            Err(e) => {
                // A full disk refuses every delivery: one line per window, with the count.
                static NOT_STORED: crate::logging::Throttle =
                    crate::logging::Throttle::with_window(Duration::from_secs(10));
                if let Some(skipped) = NOT_STORED.allow("webhook not stored") {
                    tracing::error!(error = %e, "webhook not stored{skipped}");
                }
                respond(503, "could not store the delivery; retry\n")
            }
        }
    }

    /// Refused from its head: counted, answered, and what the client still sends is read and
    /// dropped (not kept).
    fn refuse_unread(
        &self,
        body: Incoming,
        kind: Kind,
        what: impl FnOnce() -> String,
        status: u16,
        text: &'static str,
    ) -> Response<Full<Bytes>> {
        self.refusals.record(kind, what);
        tokio::spawn(discard(body));
        if status == 503 {
            respond_and_close(status, text)
        } else {
            respond(status, text)
        }
    }

    /// The body could not be read whole: counted and answered; the connection closes.
    fn body_refused(&self, e: BodyError, what: impl FnOnce() -> String) -> Response<Full<Bytes>> {
        let (kind, status, text) = match e {
            BodyError::TooLarge => (Kind::TooLarge, 413, "payload too large\n"),
            BodyError::Broken => (Kind::Unreadable, 400, "could not read the body\n"),
            BodyError::TooSlow => (Kind::TooSlow, 408, "the body did not arrive in time\n"),
            BodyError::NoRoom(Refused::Spent | Refused::GaveWay) => {
                (Kind::NoRoom, 503, "too many deliveries in flight; retry\n")
            }
        };
        self.refusals.record(kind, what);
        respond_and_close(status, text)
    }
}

#[cfg(test)]
mod tests {
    use super::{route, team_path};

    #[test]
    fn paths_name_a_team_or_none() {
        assert_eq!(route("/webhooks/github"), Some(None));
        assert_eq!(route(&team_path(7)), Some(Some(7)));
        assert_eq!(
            route("/webhooks/github/team/18446744073709551615"),
            Some(Some(u64::MAX))
        );
        for bad in [
            "/webhooks/github/",
            "/webhooks/github/team/",
            "/webhooks/github/team/07",
            "/webhooks/github/team/0",
            "/webhooks/github/team/+7",
            "/webhooks/github/team/7/",
            "/webhooks/github/team/18446744073709551616",
            "/webhooks/githubx",
            "/webhooks/github/other",
            "/other",
        ] {
            assert_eq!(route(bad), None, "{bad}");
        }
    }
}
