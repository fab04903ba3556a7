//! A faithful, stateful GitHub for tests and the offline demo: web host (OAuth) and API host
//! (REST, GraphQL) on one address, webhooks to the hooks created through its API, rate limits,
//! ETags, faults on demand, and a control API under `/_sim/`.
//!
//! Start it in-process with [`Sim::start`], or as the `github-sim` binary.

pub mod activity;
pub mod api;
pub mod clock;
pub mod control;
pub mod control_delivery;
pub mod generate;
pub mod generate_delivery;
pub mod graphql;
pub mod hooks_api;
pub mod http;
pub mod json;
pub mod json_delivery;
pub mod limits;
pub mod oauth;
pub mod org_hooks;
pub mod rest;
pub mod rest_delivery;
pub mod webhooks;
pub mod world;

use http::{Fault, Request, Response};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use generate::OrgSpec;
pub use world::World;

/// How the simulator behaves (the `github-sim` flags).
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub org: OrgSpec,
    /// REST requests per hour per user (GitHub: 5,000 for a user token); GraphQL points too.
    pub rate_limit: u64,
    /// More requests than this in flight at once trip the secondary limit.
    pub max_concurrent: usize,
    /// Seconds a secondary-limited client is told to wait (`retry-after`).
    pub secondary_retry_after: u64,
    /// Answer secondary limits with 429 (else 403, GitHub does both).
    pub secondary_429: bool,
    /// Added to every request but the control API.
    pub latency_ms: u64,
    /// Device codes are approved by the viewer after this many polls (None: never by itself).
    pub auto_approve: Option<u32>,
    pub client_id: String,
    pub client_secret: String,
    /// A GraphQL query touching more nodes than this answers 502 ("took too long").
    pub graphql_timeout_nodes: u64,
    /// Seconds a device-flow client must wait between polls (GitHub: 5). Polling sooner answers
    /// `slow_down`; 0 lets tests poll as fast as they like. `POST /_sim/oauth {"interval": n}`.
    pub device_interval: u64,
    /// Issue expiring tokens (`expires_in` this many seconds, with a `ghr_` refresh token), as an
    /// app with token expiration on; None: tokens that never expire (an OAuth app's default).
    pub token_lifetime: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            org: OrgSpec::default(),
            rate_limit: 5_000,
            max_concurrent: 100,
            secondary_retry_after: 60,
            secondary_429: false,
            latency_ms: 0,
            auto_approve: Some(2),
            client_id: "Iv1.tidemarksim0001".into(),
            client_secret: "sim-client-secret-0123456789abcdef".into(),
            graphql_timeout_nodes: 20_000,
            device_interval: 5,
            token_lifetime: None,
        }
    }
}

/// Faults switched on through `/_sim/faults` (rates are per mille of API requests).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Faults {
    pub error_rate: u32,
    pub reset_rate: u32,
    pub truncate_rate: u32,
    pub latency_ms: Option<u64>,
    /// Overrides the config's GraphQL 502 threshold.
    pub graphql_timeout_nodes: Option<u64>,
    /// The next N API requests answer 502 (then it clears itself).
    pub fail_next: u32,
    /// The next N API requests trip the secondary limit (`retry-after` as configured).
    pub secondary_next: u32,
    /// The next N API requests trip a secondary limit that names no `retry-after` (GitHub: then
    /// wait at least a minute; the simulator holds the caller for the configured time and
    /// counts a request before it as early).
    pub secondary_bare_next: u32,
    /// The next N API requests get a bare gateway page from GitHub's front end: a 502, then a
    /// 504, alternating (HTML, no GraphQL body).
    pub gateway_next: u32,
    /// Spend the next caller's whole budget of the resource it asks for, until this many
    /// seconds from now (then its primary limit answers, and a request before the reset is
    /// early); cleared once used.
    pub exhaust_for_secs: u64,
    /// GraphQL's primary limit answers 403 like REST (else HTTP 200 with `RATE_LIMITED`, as
    /// GitHub usually does).
    pub graphql_limit_403: bool,
    /// GraphQL timeouts come in each form GitHub sends, in turn: a 502 with a GraphQL body, a
    /// bare 502 page, a bare 504 page (else always the first).
    pub timeout_forms: bool,
    /// How far ahead (or, negative, behind) of the real time the `Date` header is, in seconds.
    pub clock_skew_secs: i64,
}

/// Counters the tests read through `/_sim/stats`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// "GET /repos/{owner}/{repo}/pulls" → count.
    pub endpoints: std::collections::BTreeMap<String, u64>,
    pub requests: u64,
    /// REST requests counted against the core limit.
    pub rest_requests: u64,
    pub graphql_requests: u64,
    pub graphql_points: u64,
    /// Operation name → (requests answered, points charged).
    pub graphql_operations: std::collections::BTreeMap<String, (u64, u64)>,
    pub not_modified: u64,
    pub max_concurrency: usize,
    /// Requests that arrived while the client had been told to wait (retry-after or reset).
    pub early_requests: u64,
    pub rate_limited: u64,
    pub secondary_limited: u64,
    pub faults_injected: u64,
    pub deliveries: u64,
}

/// What clients sent, for contract tests: each distinct GraphQL document once (with the
/// variables it first came with), and each API endpoint once (with a concrete path it was
/// called with). Control, OAuth web and stats requests are not recorded.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Document text → variables.
    pub graphql: std::collections::BTreeMap<String, serde_json::Value>,
    /// "GET /repos/{owner}/{repo}" → ("GET", "/repos/acme/web?per_page=100").
    pub endpoints: std::collections::BTreeMap<String, (String, String)>,
}

/// (world generation, rendered JSON by (record id, kind)).
type RenderCache = (u64, std::collections::HashMap<(u64, u8), Arc<[u8]>>);

/// Everything the handlers share.
pub struct Shared {
    pub urls: json::Urls,
    pub config: SimConfig,
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    pub stats: Mutex<Stats>,
    pub limits: Mutex<limits::Limits>,
    pub oauth: Mutex<oauth::OAuthState>,
    pub inflight: AtomicUsize,
    pub recorded: Mutex<Recorded>,
    /// Gateway pages and timeout answers sent so far (which form comes next).
    gateway_count: std::sync::atomic::AtomicU64,
    pub deliverer: webhooks::Deliverer,
    /// The simulator's runtime, for work started outside a request (webhook deliveries).
    pub runtime: std::sync::OnceLock<tokio::runtime::Handle>,
    /// Rendered pull requests by (id, kind), valid for one world generation: list pages are
    /// ~1 MB of JSON, and rendering them is most of what the simulator does.
    render_cache: Mutex<RenderCache>,
    rng: Mutex<rand::rngs::StdRng>,
}

impl Shared {
    /// The world, to read.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The world, to change: invalidates rendered JSON.
    pub fn world_mut(&self) -> MutexGuard<'_, World> {
        let mut w = self.world();
        w.generation += 1;
        w
    }

    /// JSON for `key` rendered under the world's current generation, from the cache or `render`.
    pub fn rendered(
        &self,
        w: &World,
        key: (u64, u8),
        render: impl FnOnce() -> serde_json::Value,
    ) -> Arc<[u8]> {
        let mut cache = self.render_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.0 != w.generation {
            cache.1.clear();
            cache.0 = w.generation;
        }
        cache
            .1
            .entry(key)
            .or_insert_with(|| Arc::from(serde_json::to_vec(&render()).expect("JSON serialises")))
            .clone()
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, req: &Request, key: String) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        if req.path == "/graphql" && req.method == "POST" {
            if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&req.body)
                && let Some(query) = body.get("query").and_then(|q| q.as_str())
            {
                let variables = body.get("variables").cloned().unwrap_or_default();
                recorded
                    .graphql
                    .entry(query.to_string())
                    .or_insert(variables);
            }
        } else if !req.path.starts_with("/login/") {
            let query: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let path = if query.is_empty() {
                req.path.clone()
            } else {
                format!("{}?{}", req.path, query.join("&"))
            };
            recorded
                .endpoints
                .entry(key)
                .or_insert((req.method.clone(), path));
        }
    }

    /// A counter for taking turns between the forms of a failure.
    pub fn next_gateway(&self) -> u64 {
        self.gateway_count.fetch_add(1, Ordering::Relaxed)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limits(&self) -> MutexGuard<'_, limits::Limits> {
        self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn oauth(&self) -> MutexGuard<'_, oauth::OAuthState> {
        self.oauth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A roll of the dice: true `per_mille` times in a thousand.
    pub fn roll(&self, per_mille: u32) -> bool {
        use rand::Rng;
        per_mille > 0
            && self
                .rng
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .random_range(0..1000)
                < per_mille
    }

    /// A random token of `len` alphanumerics.
    pub fn random_token(&self, len: usize) -> String {
        use rand::Rng;
        use rand::distr::Alphanumeric;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (0..len).map(|_| rng.sample(Alphanumeric) as char).collect()
    }

    /// Run `fut` on the simulator's runtime, from anywhere.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(rt) = self.runtime.get() {
            rt.spawn(fut);
        }
    }

    /// `bytes` random bytes as lowercase hex.
    pub fn random_hex(&self, bytes: usize) -> String {
        use rand::Rng;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (0..bytes)
            .map(|_| format!("{:02x}", rng.random::<u8>()))
            .collect()
    }

    /// Send the webhooks for `events` (in order, in the background).
    pub fn emit(self: &Arc<Self>, events: Vec<world::Event>) {
        webhooks::dispatch(self, events);
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    pub shared: Arc<Shared>,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sim {
    /// Bind `addr` (port 0 for any) and serve from a thread with a runtime of its own, so sync
    /// and async tests alike can start and drop it.
    pub fn start(config: SimConfig, addr: &str) -> std::io::Result<Sim> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, http::local_url(addr)));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("github-sim")
            .enable_all()
            .build()?;
        let _ = shared.runtime.set(runtime.handle().clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler_shared = shared.clone();
        let handler: http::Handler = Arc::new(move |req| {
            let shared = handler_shared.clone();
            Box::pin(async move { handle(shared, req).await })
        });
        let thread = std::thread::Builder::new()
            .name("github-sim".into())
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
        Ok(Sim {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: both the web URL and the API URL.
    pub fn url(&self) -> String {
        self.shared.urls.api.clone()
    }

    /// The world, to read or change (tests may change it directly, so this invalidates caches).
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world_mut()
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    /// What clients sent so far (see [`Recorded`]).
    pub fn recorded(&self) -> Recorded {
        self.shared
            .recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Issue a token for `login` directly (tests that do not go through OAuth).
    pub fn token_for(&self, login: &str) -> String {
        oauth::mint_token(
            &self.shared,
            login,
            vec!["repo".into(), "read:org".into(), "read:user".into()],
        )
        .expect("the login exists")
    }

    /// The login of the account OAuth grants are issued for.
    pub fn viewer_login(&self) -> String {
        let w = self.world();
        w.account(w.viewer_id).login.clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn new(config: SimConfig, base: String) -> Shared {
        use rand::SeedableRng;
        let world = generate::generate(&config.org);
        let seed = config.org.seed;
        Shared {
            urls: json::Urls {
                web: base.clone(),
                api: base,
            },
            world: Mutex::new(world),
            faults: Mutex::new(Faults::default()),
            stats: Mutex::new(Stats::default()),
            limits: Mutex::new(limits::Limits::default()),
            oauth: Mutex::new(oauth::OAuthState::default()),
            inflight: AtomicUsize::new(0),
            gateway_count: std::sync::atomic::AtomicU64::new(0),
            recorded: Mutex::new(Recorded::default()),
            deliverer: webhooks::Deliverer::new(),
            runtime: std::sync::OnceLock::new(),
            render_cache: Mutex::new((0, std::collections::HashMap::new())),
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed)),
            config,
        }
    }
}

/// "GET /repos/{owner}/{repo}/pulls/{number}" for stats: ids and names become placeholders.
pub fn endpoint_key(req: &Request) -> String {
    let segs = req.segments();
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        out.push('/');
        let prev = if i > 0 { segs[i - 1] } else { "" };
        let placeholder = match (prev, i) {
            ("repos", 1) => Some("{owner}"),
            (_, 2) if segs[0] == "repos" => Some("{repo}"),
            ("orgs", 1) => Some("{org}"),
            ("users", 1) => Some("{user}"),
            ("applications", 1) => Some("{client_id}"),
            ("compare", _) => Some("{basehead}"),
            ("pulls", _)
            | ("hooks", _)
            | ("deliveries", _)
            | ("deployments", _)
            | ("statuses", _)
            | ("runs", _)
            | ("issues", _)
                if s.chars().all(|c| c.is_ascii_digit()) =>
            {
                Some("{id}")
            }
            _ => None,
        };
        out.push_str(placeholder.unwrap_or(s));
    }
    if out.is_empty() {
        out.push('/');
    }
    format!("{} {out}", req.method)
}

/// Every request: control API first (never faulted or counted), then stats, concurrency,
/// latency and faults, then OAuth or the API.
async fn handle(shared: Arc<Shared>, req: Request) -> Response {
    if req.path.starts_with("/_sim/") || req.path == "/_sim" {
        return control::handle(&shared, req).await;
    }
    let key = endpoint_key(&req);
    {
        let mut stats = shared.stats();
        stats.requests += 1;
        *stats.endpoints.entry(key.clone()).or_default() += 1;
    }
    shared.record(&req, key);
    let inflight = InFlight::enter(&shared);
    let mut gateway = false;
    let (latency, fault) = {
        let mut faults = shared.faults();
        let latency = faults.latency_ms.unwrap_or(shared.config.latency_ms);
        let fault = if faults.gateway_next > 0 {
            faults.gateway_next -= 1;
            gateway = true;
            None
        } else if faults.fail_next > 0 {
            faults.fail_next -= 1;
            Some(None)
        } else if shared.roll(faults.reset_rate) {
            Some(Some(Fault::Reset))
        } else if shared.roll(faults.truncate_rate) {
            Some(Some(Fault::Truncate))
        } else if shared.roll(faults.error_rate) {
            Some(None)
        } else {
            None
        };
        (latency, fault)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let is_web = req.path.starts_with("/login/");
    let skew = shared.faults().clock_skew_secs;
    let mut response = match fault {
        Some(Some(Fault::Reset)) => Response::new(500).faulty(Fault::Reset),
        Some(None) => Response::json(
            502,
            &serde_json::json!({"message": "Server Error", "documentation_url": "https://docs.github.com/rest"}),
        ),
        _ if gateway => gateway_page(shared.next_gateway()),
        _ if is_web => oauth::handle(&shared, req).await,
        Some(Some(Fault::Truncate)) => {
            let r = api::handle(&shared, req, inflight.level).await;
            r.faulty(Fault::Truncate)
        }
        None => api::handle(&shared, req, inflight.level).await,
    };
    if fault.is_some() || gateway {
        shared.stats().faults_injected += 1;
    }
    drop(inflight);
    // GitHub dates every answer; `tidemarkd doctor` measures clock skew from it.
    response
        .headers
        .push(("date".into(), clock::http_date(clock::now() + skew)));
    response
}

/// What GitHub's front end sends when a request takes too long or a backend is down: an HTML
/// page, no JSON. `n` even: 502, odd: 504.
pub fn gateway_page(n: u64) -> Response {
    if n.is_multiple_of(2) {
        Response::text(
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n",
        )
    } else {
        Response::text(
            504,
            "text/html",
            "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n",
        )
    }
}

/// Counts requests in flight for the secondary limit and the stats' high-water mark.
struct InFlight<'a> {
    shared: &'a Shared,
    level: usize,
}

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let level = shared.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut stats = shared.stats();
        stats.max_concurrency = stats.max_concurrency.max(level);
        InFlight { shared, level }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.shared.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}
