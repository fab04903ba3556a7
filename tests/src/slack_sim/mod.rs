//! A faithful, stateful Slack for tests: the Web API methods tidemark uses, the OAuth v2 install
//! ("Add to Slack") flow, rate limits, faults on demand, and a control API under `/_sim/`.
//!
//! Start it in-process with [`SlackSim::start`] (or as the `slack-sim` binary) and put
//! [`SlackSim::url`] where `https://slack.com` would be: methods are `POST {url}/api/<method>`,
//! the install page `GET {url}/oauth/v2/authorize`.
//!
//! Slack behaviours it holds to (api.slack.com/methods/…, /docs/rate-limits, /authentication):
//! - Bodies form-encoded or JSON; the token as `Authorization: Bearer` (or a form `token`). A
//!   JSON body whose `Content-Type` names no charset succeeds with `warning: missing_charset`.
//! - Errors are HTTP 200 `{"ok":false,"error":…}`: `not_authed`, `invalid_auth`,
//!   `token_revoked`, `account_inactive`, `missing_scope` (with `needed`, `provided`),
//!   `channel_not_found`, `not_in_channel`, `is_archived`, `no_text`, `msg_too_long`,
//!   `invalid_blocks`, `message_not_found`, `cant_update_message`, `invalid_cursor`,
//!   `invalid_ts_latest`/`_oldest`, `invalid_arguments`; unknown methods 404 `unknown_method`.
//!   Every authenticated answer carries `x-oauth-scopes`.
//! - Rate limits: HTTP 429 `ratelimited` with `Retry-After` in seconds; `chat.postMessage`
//!   about one a second per channel with a short burst, other methods by Slack's tiers
//!   ([`limits`]).
//! - `ts` is unique and increasing per channel; history is newest first; cursors are opaque
//!   base64 and `next_cursor` is empty at the end of `conversations.list`.
//! - A bot may post only where it is a member (`chat:write.public` lifts that for public
//!   channels) and edit only its own messages.
//! - OAuth codes are single-use and expire after 10 minutes; a reinstall while the bot token
//!   lives hands back that same token with the scopes added; an uninstall revokes every token.
//!
//! Left out: threads, files, reactions, user tokens, token rotation, Events API, Socket Mode.

pub mod api;
pub mod chat;
pub mod control;
pub mod limits;
pub mod oauth;
pub mod world;

use crate::sim::http::{self, Request, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use limits::{Bucket, FaultKind, FaultRule, LimitSettings};
pub use oauth::OAuthMode;
pub use world::{Message, Secret, World};

/// How the simulator starts (the `slack-sim` flags).
#[derive(Clone)]
pub struct SlackConfig {
    pub team_id: String,
    pub team_name: String,
    /// `<domain>.slack.com`.
    pub team_domain: String,
    /// Public channels generated, the bot a member of each.
    pub channels: usize,
    /// People in the workspace (authors of the generated messages; the first installs apps).
    pub people: usize,
    /// Messages from people generated in each channel.
    pub human_messages: usize,
    pub client_id: String,
    pub client_secret: String,
    /// Start with the app installed: a bot token with these scopes ([`SlackSim::bot_token`]).
    /// None: not installed until an OAuth round trip.
    pub installed_scopes: Option<Vec<String>>,
    /// The app's registered redirect URLs; a `redirect_uri` must start with one of them.
    /// Empty: any http(s) URL.
    pub redirect_uris: Vec<String>,
    pub limits: LimitSettings,
    pub oauth_mode: OAuthMode,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            team_id: "T0SIMTEAM1".into(),
            team_name: "Tidemark Sim".into(),
            team_domain: "tidemark-sim".into(),
            channels: 8,
            people: 4,
            human_messages: 1,
            client_id: "1111111111.2222222222".into(),
            client_secret: "sim-slack-client-secret-0123456789ab".into(),
            installed_scopes: Some(
                ["chat:write", "channels:read", "channels:history"]
                    .map(String::from)
                    .to_vec(),
            ),
            redirect_uris: Vec::new(),
            limits: LimitSettings {
                // Slack: "1 per second per channel, short bursts allowed".
                post_per_channel: Some(Bucket {
                    burst: 5,
                    interval_ms: 1000,
                }),
                methods: limits::default_method_limits(),
            },
            oauth_mode: OAuthMode::Approve,
        }
    }
}

impl std::fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConfig")
            .field("team_id", &self.team_id)
            .field("team_domain", &self.team_domain)
            .field("channels", &self.channels)
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .field("installed_scopes", &self.installed_scopes)
            .field("limits", &self.limits)
            .field("oauth_mode", &self.oauth_mode)
            .finish_non_exhaustive()
    }
}

/// Counters the tests read (`GET /_sim/stats`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Method → every call that reached it (failed, limited and faulted ones too).
    pub calls: BTreeMap<String, u64>,
    /// Method → calls answered `ok: true`.
    pub ok: BTreeMap<String, u64>,
    /// Method → error → count.
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
    /// Method → calls answered 429.
    pub rate_limited: BTreeMap<String, u64>,
    /// Channel id → messages stored by `chat.postMessage` (a double post shows here).
    pub posted: BTreeMap<String, u64>,
    pub faults_injected: u64,
    /// `GET /oauth/v2/authorize` visits.
    pub authorize: u64,
}

/// Everything the handlers share.
pub struct Shared {
    pub config: SlackConfig,
    pub base: String,
    world: Mutex<World>,
    stats: Mutex<Stats>,
    limits: Mutex<limits::Limits>,
    faults: Mutex<Vec<FaultRule>>,
    pub oauth: oauth::OAuthControl,
    /// Seconds added to the wall clock (code expiry), `POST /_sim/clock`.
    clock_offset: AtomicI64,
    rng: Mutex<rand::rngs::StdRng>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Lock order: world, then limits or stats; never the other way.
    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }

    pub fn limits(&self) -> MutexGuard<'_, limits::Limits> {
        lock(&self.limits)
    }

    pub fn faults(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.faults)
    }

    /// Unix seconds, with the control API's offset.
    pub fn now(&self) -> i64 {
        crate::sim::clock::now() + self.clock_offset.load(Ordering::Relaxed)
    }

    /// Unix microseconds, with the offset (message ts).
    pub fn now_micros(&self) -> u64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i128)
            .unwrap_or(0);
        let off = i128::from(self.clock_offset.load(Ordering::Relaxed)) * 1_000_000;
        (real + off).max(0) as u64
    }

    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.clock_offset.fetch_add(secs, Ordering::Relaxed) + secs
    }

    /// `len` random lowercase alphanumerics.
    pub fn random(&self, len: usize) -> String {
        self.random_of(b"abcdefghijklmnopqrstuvwxyz0123456789", len)
    }

    pub fn random_digits(&self, len: usize) -> String {
        self.random_of(b"0123456789", len)
    }

    fn random_of(&self, chars: &[u8], len: usize) -> String {
        use rand::Rng;
        let mut rng = lock(&self.rng);
        (0..len)
            .map(|_| chars[rng.random_range(0..chars.len())] as char)
            .collect()
    }

    /// A bot token in Slack's shape: `xoxb-<team>-<bot>-<24 random>`.
    pub fn new_bot_token(&self) -> String {
        format!(
            "xoxb-{}-{}-{}",
            self.random_digits(12),
            self.random_digits(13),
            self.random(24)
        )
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SlackSim {
    pub shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlackSim {
    /// Start on a free port of 127.0.0.1.
    pub fn start(config: SlackConfig) -> SlackSim {
        SlackSim::start_on(config, "127.0.0.1:0").expect("the Slack simulator starts")
    }

    /// Bind `addr` and serve from a thread with a runtime of its own, so sync and async tests
    /// alike can start and drop it.
    pub fn start_on(config: SlackConfig, addr: &str) -> std::io::Result<SlackSim> {
        use rand::SeedableRng;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let world = World::generate(&config, crate::sim::clock::now());
        let shared = Arc::new(Shared {
            base: http::local_url(addr),
            stats: Mutex::new(Stats::default()),
            limits: Mutex::new(limits::Limits::new(config.limits.clone())),
            faults: Mutex::new(Vec::new()),
            oauth: oauth::OAuthControl::new(config.oauth_mode),
            clock_offset: AtomicI64::new(0),
            rng: Mutex::new(rand::rngs::StdRng::from_os_rng()),
            world: Mutex::new(world),
            config,
        });
        if let Some(scopes) = shared.config.installed_scopes.clone() {
            let token = shared.new_bot_token();
            shared.world().mint_token(token, scopes);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("slack-sim")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler_shared = shared.clone();
        let handler: http::Handler = Arc::new(move |req| {
            let shared = handler_shared.clone();
            Box::pin(async move { handle(shared, req).await })
        });
        let thread = std::thread::Builder::new()
            .name("slack-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = http::serve(listener, handler) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_background();
            })?;
        Ok(SlackSim {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: in place of `https://slack.com`.
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// The world, to read or change directly.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world()
    }

    /// The first live bot token (the one the config installed with).
    pub fn bot_token(&self) -> Option<String> {
        let w = self.world();
        w.tokens
            .iter()
            .find(|t| !t.revoked)
            .map(|t| t.value.expose().to_string())
    }

    /// A new bot token with `scopes` (as if installed with them).
    pub fn mint_token(&self, scopes: &[&str]) -> String {
        let value = self.shared.new_bot_token();
        let scopes = scopes.iter().map(|s| s.to_string()).collect();
        self.world().mint_token(value, scopes)
    }

    /// A channel's id by name.
    pub fn channel_id(&self, name: &str) -> Option<String> {
        self.world().channel(name).map(|c| c.id.clone())
    }

    /// A channel's messages, oldest first, each with its edits (`channel`: id, name or #name).
    pub fn messages(&self, channel: &str) -> Vec<Message> {
        self.world()
            .channel(channel)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    /// Messages `chat.postMessage` stored in `channel` (id or name).
    pub fn posted(&self, channel: &str) -> u64 {
        let id = self.channel_id(channel).unwrap_or_else(|| channel.into());
        self.shared.stats().posted.get(&id).copied().unwrap_or(0)
    }

    /// Calls of `method` that reached the simulator.
    pub fn calls(&self, method: &str) -> u64 {
        self.shared.stats().calls.get(method).copied().unwrap_or(0)
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    /// Revoke one token (true if it was live).
    pub fn revoke(&self, token: &str) -> bool {
        self.world().revoke(token)
    }

    /// Remove the app from the workspace: every token revoked. How many were live.
    pub fn uninstall(&self) -> usize {
        self.world().uninstall()
    }

    /// Put the bot in `channel` or take it out; false if there is no such channel.
    pub fn set_member(&self, channel: &str, member: bool) -> bool {
        match self.world().channel_mut(channel) {
            Some(c) => {
                c.bot_member = member;
                true
            }
            None => false,
        }
    }

    /// The next `n` calls of `method` answer 429 with `Retry-After: retry_after`.
    pub fn fault_429(&self, method: &str, n: u32, retry_after: u64) {
        self.fault(FaultRule {
            method: Some(method.into()),
            kind: FaultKind::Ratelimited,
            n,
            retry_after,
        });
    }

    pub fn fault(&self, rule: FaultRule) {
        self.shared.faults().push(rule);
    }

    pub fn set_limits(&self, settings: LimitSettings) {
        self.shared.limits().set(settings);
    }

    pub fn set_oauth_mode(&self, mode: OAuthMode) {
        self.shared.oauth.set_mode(mode);
    }

    /// Let the held authorize requests through (approved); how many.
    pub fn approve(&self) -> usize {
        self.shared.oauth.release(true)
    }

    /// Send the held authorize requests back with `error=access_denied`; how many.
    pub fn deny(&self) -> usize {
        self.shared.oauth.release(false)
    }

    /// Wait until at least `n` authorize requests are held (mode [`OAuthMode::Hold`]).
    pub async fn wait_authorize_held(&self, n: usize) {
        self.shared.oauth.wait_held(n).await
    }
}

impl Drop for SlackSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Held authorize requests would keep their connections; answer them first.
        self.shared.oauth.release(false);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every request: the control API, the install page, or a Web API method.
async fn handle(shared: Arc<Shared>, req: Request) -> Response {
    let path = req.path.clone();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return control::handle(&shared, req);
    }
    if path == "/oauth/v2/authorize" {
        shared.stats().authorize += 1;
        return oauth::authorize(&shared, &req).await;
    }
    if let Some(method) = path.strip_prefix("/api/") {
        return api::call(&shared, method, &req);
    }
    Response::text(404, "text/html", "<html><body>Not Found</body></html>\n")
}
