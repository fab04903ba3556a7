//! The webhook listener: tiny_http on its own threads, one thread per delivery (so a slow or
//! stalled client holds up only itself), bodies capped at GitHub's 25 MB, the signature checked
//! before anything is written, and the 2xx sent only once the delivery is durable.

use super::inbox::Writer;
use super::parse::{check_signature, unverified_repository_id};
use super::verify::parse_header;
use crate::crypto::Secret;
use crate::rpc::Shared;
use crate::store::{InboxEntry, Provider, TeamId};
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

pub const PATH: &str = "/webhooks/github";
/// GitHub's own cap on a webhook payload.
pub const MAX_BODY: usize = 25 * 1024 * 1024;
/// Deliveries handled at once; more wait for a thread (GitHub gives us 10 s).
const MAX_THREADS: usize = 512;

/// Which team and repository a hook id belongs to, and the team's secrets.
#[derive(Default)]
struct HookIndex {
    built: Option<Instant>,
    /// `Connector::hooks_changed` when built: a rotation, connect or track makes it stale.
    generation: u64,
    hooks: HashMap<u64, (TeamId, u64)>,
    repos: HashMap<u64, Vec<TeamId>>,
    /// The current secret, and the previous one during a rotation's grace period.
    secrets: HashMap<TeamId, Vec<Secret>>,
}

pub struct Receiver {
    shared: Weak<Shared>,
    writer: Writer,
    index: Mutex<HookIndex>,
    threads: AtomicUsize,
}

/// Stops the listener at shutdown, letting deliveries already being handled finish.
pub struct Stopper {
    server: Arc<tiny_http::Server>,
    receiver: Arc<Receiver>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Stopper {
    /// Stop accepting, then wait (up to `grace`) for the deliveries in hand: each one's write
    /// and fsync completes and its answer is sent. Returns how many were still running.
    pub fn stop(mut self, grace: Duration) -> usize {
        let deadline = Instant::now() + grace;
        self.server.unblock();
        if let Some(accept) = self.accept.take() {
            // The accept loop ends at once once unblocked (it may wait for a free thread slot).
            let _ = accept.join();
        }
        loop {
            let running = self.receiver.threads.load(Ordering::SeqCst);
            if running == 0 || Instant::now() >= deadline {
                return running;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Start the listener on `addr`; returns its bound address and its [`Stopper`].
pub fn start(
    shared: &Arc<Shared>,
    addr: std::net::SocketAddr,
    writer: Writer,
) -> std::io::Result<(std::net::SocketAddr, Stopper)> {
    let server = Arc::new(tiny_http::Server::http(addr).map_err(std::io::Error::other)?);
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other("the webhook listener has no IP address"))?;
    let receiver = Arc::new(Receiver {
        shared: Arc::downgrade(shared),
        writer,
        index: Mutex::new(HookIndex::default()),
        threads: AtomicUsize::new(0),
    });
    let (server_for_loop, receiver_for_loop) = (server.clone(), receiver.clone());
    let accept = std::thread::Builder::new()
        .name("webhook-accept".into())
        .spawn(move || {
            let (server, receiver) = (server_for_loop, receiver_for_loop);
            while let Ok(req) = server.recv() {
                while receiver.threads.load(Ordering::SeqCst) >= MAX_THREADS {
                    std::thread::sleep(Duration::from_millis(1));
                }
                receiver.threads.fetch_add(1, Ordering::SeqCst);
                let r = receiver.clone();
                let spawned = std::thread::Builder::new()
                    .name("webhook".into())
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        r.handle(req);
                        r.threads.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    receiver.threads.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })?;
    tracing::info!(%bound, path = PATH, "webhook listener open");
    Ok((
        bound,
        Stopper {
            server,
            receiver,
            accept: Some(accept),
        },
    ))
}

fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn respond(req: tiny_http::Request, status: u16, body: &str) {
    let resp = tiny_http::Response::from_string(body).with_status_code(status);
    let _ = req.respond(resp);
}

impl Receiver {
    fn handle(&self, mut req: tiny_http::Request) {
        if req.url().split('?').next() != Some(PATH) {
            return respond(req, 404, "not found\n");
        }
        if *req.method() != tiny_http::Method::Post {
            return respond(req, 405, "POST only\n");
        }
        if req.body_length().is_some_and(|n| n > MAX_BODY) {
            // Not read: a 25 MB+ body is refused on its header alone.
            return respond(req, 413, "payload too large\n");
        }
        let mut body = Vec::with_capacity(req.body_length().unwrap_or(0).min(MAX_BODY));
        if req
            .as_reader()
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut body)
            .is_err()
        {
            return respond(req, 400, "could not read the body\n");
        }
        if body.len() > MAX_BODY {
            return respond(req, 413, "payload too large\n");
        }
        let Some(shared) = self.shared.upgrade() else {
            return respond(req, 503, "shutting down\n");
        };
        // A header that is no signature at all is refused before any lookup.
        let signature = header(&req, "x-hub-signature-256").map(str::as_bytes);
        if let Err(e) = parse_header(signature) {
            tracing::warn!(error = %e, "webhook refused");
            return respond(req, 401, "bad signature\n");
        }
        let event = header(&req, "x-github-event")
            .unwrap_or_default()
            .to_string();
        let guid = header(&req, "x-github-delivery")
            .unwrap_or_default()
            .to_string();
        let hook_id = header(&req, "x-github-hook-id").and_then(|h| h.trim().parse::<u64>().ok());
        if event.is_empty() || guid.is_empty() || guid.len() > 100 || event.len() > 100 {
            return respond(req, 400, "missing X-GitHub-Event or X-GitHub-Delivery\n");
        }
        // Whose hook is it? By hook id, else by the repository the body names.
        let Some((team, repo_id, secrets)) = self.owner(&shared, hook_id, &body) else {
            tracing::warn!(?hook_id, event, "webhook for no tracked repository refused");
            return respond(req, 401, "unknown hook\n");
        };
        let keys: Vec<&[u8]> = secrets.iter().map(|s| s.expose().as_bytes()).collect();
        if let Err(e) = check_signature(&keys, signature, &body) {
            tracing::warn!(team, ?hook_id, error = %e, "webhook refused");
            return respond(req, 401, "bad signature\n");
        }
        let entry = InboxEntry {
            team_id: team,
            seq: 0,
            guid,
            event,
            hook_id,
            repo_id: Some(repo_id),
            received_at: crate::store::now(),
            body,
        };
        match self.writer.write(entry) {
            Ok(false) => respond(req, 202, "accepted\n"),
            Ok(true) => respond(req, 200, "duplicate delivery; already accepted\n"),
            Err(e) => {
                tracing::error!(error = %e, "webhook not stored");
                respond(req, 503, "could not store the delivery; retry\n")
            }
        }
    }

    /// (team, repository, the team's webhook secrets) for a delivery.
    fn owner(
        &self,
        shared: &Shared,
        hook_id: Option<u64>,
        body: &[u8],
    ) -> Option<(TeamId, u64, Vec<Secret>)> {
        let mut idx = self.index.lock().unwrap_or_else(|e| e.into_inner());
        let generation = shared.connector.hooks_generation();
        let stale = idx.generation != generation
            || idx
                .built
                .is_none_or(|t| t.elapsed() > Duration::from_secs(5));
        let find = |idx: &HookIndex| -> Option<(TeamId, u64)> {
            if let Some(found) = hook_id.and_then(|h| idx.hooks.get(&h)) {
                return Some(*found);
            }
            // No hook id we know (GitHub pings a new hook before we have stored its id): the
            // repository the body names (its id only; nothing else is read). The signature is
            // still checked with that repository's team's secret.
            let repo = unverified_repository_id(body)?;
            let teams = idx.repos.get(&repo)?;
            (teams.len() == 1).then(|| (teams[0], repo))
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
                idx.hooks.insert(h, (team.id, r.github_repo_id));
            }
            idx.repos.entry(r.github_repo_id).or_default().push(team.id);
        }
    }
    idx
}
