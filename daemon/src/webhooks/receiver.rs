//! The webhook listener: HTTP/1.1 by hyper on the daemon's tokio runtime, a task per connection,
//! so a slow or stalled client holds up only its own task (and is cut off after `BODY_TIMEOUT`).
//! Bodies are capped at GitHub's 25 MB (refused on `Content-Length` before any of it is read),
//! the signature is checked before anything is written, and the 2xx goes out only once the
//! delivery is durable.
//!
//! Why not tiny_http, which the OAuth callback uses: its connection pool queues a new connection
//! behind open keep-alive ones when two arrive at once (its idle-thread count is read before the
//! woken thread takes the first task), so a delivery could wait until another client hung up.

use super::inbox::Writer;
use super::parse::{check_signature, unverified_organization_id, unverified_repository_id};
use super::verify::parse_header;
use crate::crypto::Secret;
use crate::rpc::Shared;
use crate::store::{Admission, InboxEntry, Provider, TeamId};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

pub const PATH: &str = "/webhooks/github";
/// GitHub's own cap on a webhook payload.
pub const MAX_BODY: usize = 25 * 1024 * 1024;
/// Connections open at once; more wait to be accepted (GitHub gives us 10 s per delivery).
const MAX_CONNECTIONS: usize = 1024;
/// A request's head must arrive within this long (also closes idle keep-alive connections).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A request's body must arrive within this long; a stalled client is answered 408.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// Which team and repository a hook id belongs to, and the team's secrets.
#[derive(Default)]
struct HookIndex {
    built: Option<Instant>,
    /// `Connector::hooks_changed` when built: a rotation, connect or track makes it stale.
    generation: u64,
    /// Hook id → (team, repository; None for the team's organization hook).
    hooks: HashMap<u64, (TeamId, Option<u64>)>,
    repos: HashMap<u64, Vec<TeamId>>,
    /// Organization id → the teams connected to it.
    orgs: HashMap<u64, Vec<TeamId>>,
    /// The current secret, and the previous one during a rotation's grace period.
    secrets: HashMap<TeamId, Vec<Secret>>,
}

pub struct Receiver {
    shared: Weak<Shared>,
    writer: Writer,
    index: Mutex<HookIndex>,
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
    shared: &Arc<Shared>,
    addr: std::net::SocketAddr,
    writer: Writer,
) -> std::io::Result<(std::net::SocketAddr, Stopper)> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let bound = listener.local_addr()?;
    let receiver = Arc::new(Receiver {
        shared: Arc::downgrade(shared),
        writer,
        index: Mutex::new(HookIndex::default()),
        in_flight: AtomicUsize::new(0),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(accept_loop(listener, receiver.clone(), stopped));
    tracing::info!(%bound, path = PATH, "webhook listener open");
    Ok((bound, Stopper { stop, receiver }))
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    receiver: Arc<Receiver>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = until_stopped(&mut stopped) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: try again shortly.
                tracing::warn!(error = %e, "webhook listener: accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let r = receiver.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let r = r.clone();
                async move { Ok::<_, Infallible>(r.handle(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let served = tokio::select! {
                served = conn.as_mut() => served,
                () = until_stopped(&mut stopped) => {
                    // Shutting down: the request in hand (if any) finishes, then it closes.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "webhook connection ended");
            }
            drop(slot);
        });
    }
}

/// Read and drop a refused body: up to `DISCARD_MAX` bytes or `DISCARD_TIME`, then hang up.
async fn discard(mut body: Incoming) {
    const DISCARD_MAX: usize = 4 * MAX_BODY;
    const DISCARD_TIME: Duration = Duration::from_secs(20);
    let _ = tokio::time::timeout(DISCARD_TIME, async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > DISCARD_MAX {
                break;
            }
        }
    })
    .await;
}

enum BodyError {
    TooLarge,
    Broken,
}

/// The body in one buffer, sized by `Content-Length` when there is one: each chunk is copied
/// once out of hyper's read buffer (collecting the chunks and then copying them out would
/// copy a 21 KB body twice more). Over `MAX_BODY` is refused as soon as it is.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> Result<Vec<u8>, BodyError> {
    let capacity = declared.unwrap_or(0).min(MAX_BODY as u64) as usize;
    let mut out = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Some(data) = frame.data_ref() {
            if out.len() + data.len() > MAX_BODY {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}

/// Resolves once the listener is told to stop (or its stopper is gone).
async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

fn respond(status: u16, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn header<'a>(req: &'a hyper::http::request::Parts, name: &str) -> Option<&'a [u8]> {
    req.headers.get(name).map(|v| v.as_bytes())
}

fn header_str(req: &hyper::http::request::Parts, name: &str) -> String {
    header(req, name)
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or_default()
        .trim()
        .to_string()
}

impl Receiver {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let _counted = InFlight::new(&self.in_flight);
        tracing::trace!(path = req.uri().path(), "webhook request: head read");
        if req.uri().path() != PATH {
            return respond(404, "not found\n");
        }
        if req.method() != Method::POST {
            return respond(405, "POST only\n");
        }
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            // Refused on its header alone; what the client still sends is read and dropped (not
            // kept), so that it gets our answer rather than a reset.
            tokio::spawn(discard(req.into_body()));
            return respond(413, "payload too large\n");
        }
        let (parts, body) = req.into_parts();
        let body = match tokio::time::timeout(BODY_TIMEOUT, read_body(body, declared)).await {
            Ok(Ok(body)) => body,
            Ok(Err(BodyError::TooLarge)) => return respond(413, "payload too large\n"),
            Ok(Err(BodyError::Broken)) => return respond(400, "could not read the body\n"),
            Err(_) => return respond(408, "the body did not arrive in time\n"),
        };
        let Some(shared) = self.shared.upgrade() else {
            return respond(503, "shutting down\n");
        };
        // A header that is no signature at all is refused before any lookup.
        let signature = header(&parts, "x-hub-signature-256");
        if let Err(e) = parse_header(signature) {
            tracing::warn!(error = %e, "webhook refused");
            return respond(401, "bad signature\n");
        }
        let event = header_str(&parts, "x-github-event");
        let guid = header_str(&parts, "x-github-delivery");
        let hook_id = header_str(&parts, "x-github-hook-id").parse::<u64>().ok();
        if event.is_empty() || guid.is_empty() || guid.len() > 100 || event.len() > 100 {
            return respond(400, "missing X-GitHub-Event or X-GitHub-Delivery\n");
        }
        // Whose hook is it? By hook id, else by the repository (or, with none, the
        // organization) the body names.
        let Some((team, repo_id, secrets)) = self.owner(&shared, hook_id, &body) else {
            tracing::warn!(?hook_id, event, "webhook for no tracked repository refused");
            return respond(401, "unknown hook\n");
        };
        let keys: Vec<&[u8]> = secrets.iter().map(|s| s.expose().as_bytes()).collect();
        if let Err(e) = check_signature(&keys, signature, &body) {
            tracing::warn!(team, ?hook_id, error = %e, "webhook refused");
            return respond(401, "bad signature\n");
        }
        drop(shared);
        let entry = InboxEntry {
            team_id: team,
            seq: 0,
            guid,
            event,
            hook_id,
            repo_id,
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
                tracing::error!(error = %e, "webhook not stored");
                respond(503, "could not store the delivery; retry\n")
            }
        }
    }

    /// (team, repository — None for an organization hook's —, the team's webhook secrets) for
    /// a delivery.
    fn owner(
        &self,
        shared: &Shared,
        hook_id: Option<u64>,
        body: &[u8],
    ) -> Option<(TeamId, Option<u64>, Vec<Secret>)> {
        let mut idx = self.index.lock().unwrap_or_else(|e| e.into_inner());
        let generation = shared.connector.hooks_generation();
        let stale = idx.generation != generation
            || idx
                .built
                .is_none_or(|t| t.elapsed() > Duration::from_secs(5));
        let find = |idx: &HookIndex| -> Option<(TeamId, Option<u64>)> {
            if let Some(found) = hook_id.and_then(|h| idx.hooks.get(&h)) {
                return Some(*found);
            }
            // No hook id we know (GitHub pings a new hook before we have stored its id): the
            // repository the body names (its id only; nothing else is read), or for a body
            // with no repository (an organization hook's) the organization. The signature is
            // still checked with that team's secret.
            if let Some(repo) = unverified_repository_id(body) {
                let teams = idx.repos.get(&repo)?;
                return (teams.len() == 1).then(|| (teams[0], Some(repo)));
            }
            let org = unverified_organization_id(body)?;
            let teams = idx.orgs.get(&org)?;
            (teams.len() == 1).then(|| (teams[0], None))
        };
        let mut found = find(&idx);
        if found.is_none() || stale {
            *idx = build_index(shared);
            found = find(&idx);
        }
        let (team, repo) = found?;
        let secrets = idx.secrets.get(&team)?.clone();
        Some((team, repo, secrets))
    }
}

fn build_index(shared: &Shared) -> HookIndex {
    let mut idx = HookIndex {
        built: Some(Instant::now()),
        generation: shared.connector.hooks_generation(),
        ..HookIndex::default()
    };
    let Ok(teams) = shared.store.teams() else {
        return idx;
    };
    for team in teams {
        let Ok(Some(g)) = shared.store.github_integration(team.id) else {
            continue;
        };
        if shared
            .store
            .credential(team.id, Provider::Github)
            .ok()
            .flatten()
            .is_none()
        {
            continue;
        }
        match shared.store.webhook_secret(&shared.keyring, &g) {
            Ok(secret) => {
                let mut secrets = vec![secret];
                if let Ok(Some(previous)) = shared
                    .store
                    .previous_webhook_secret(&shared.keyring, team.id)
                {
                    secrets.push(previous);
                }
                idx.secrets.insert(team.id, secrets);
            }
            Err(e) => {
                tracing::error!(team = team.id, error = %e, "webhook secret unreadable; its deliveries are refused");
                continue;
            }
        }
        for r in shared.store.tracked_repos(team.id).unwrap_or_default() {
            if let Some(h) = r.webhook_id {
                idx.hooks.insert(h, (team.id, Some(r.github_repo_id)));
            }
            idx.repos.entry(r.github_repo_id).or_default().push(team.id);
        }
        if let Some((_, h)) = super::org_hook::live(shared, team.id) {
            idx.hooks.insert(h, (team.id, None));
        }
        idx.orgs.entry(g.organization_id).or_default().push(team.id);
    }
    idx
}
