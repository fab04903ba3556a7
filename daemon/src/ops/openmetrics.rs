//! The optional OpenMetrics (Prometheus) endpoint: `GET /metrics` on `--metrics-addr` (off by
//! default; a bare port binds loopback). Per team, and per tracked repository, the five
//! delivery measures and the review measures over the last 12 weeks, and the daemon's own
//! health: syncs, GitHub's rate budget, the webhook backlog and deliveries applied.
//!
//! What it serves names teams and repositories and it asks nobody who they are, so it binds
//! loopback unless told otherwise, answers only `GET /metrics`, holds at most [`MAX_CONNS`]
//! connections for at most [`CONN_LIFETIME`] each, and computes the text at most once per
//! [`CACHE_FOR`]: a peer scraping in a loop costs a copy of a string, not a report.

use crate::context::Ctx;
use crate::store::{HookHealth, TeamId};
use crate::sync::Syncs;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use tidemark_protocol::delivery::{DoraGrouping, DoraQuery, DoraReport};
use tidemark_protocol::metrics::dora::WEEK;
use tidemark_protocol::{MetricsGrouping, MetricsQuery, SyncStatus, TeamRef};

/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNS: usize = 8;
/// A connection is closed after this, whatever it is doing.
pub const CONN_LIFETIME: Duration = Duration::from_secs(30);
/// The text is computed again at most this often.
pub const CACHE_FOR: Duration = Duration::from_secs(10);
/// The window of the measures.
pub const WINDOW_WEEKS: i64 = 12;

pub const CONTENT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type FloatGauge = Family<Labels, Gauge<f64, AtomicU64>>;
type IntGauge = Family<Labels, Gauge<i64>>;

struct Cache {
    text: String,
    at: Option<Instant>,
}

/// Bind and serve in the background. Returns the bound address (port 0 picks one).
pub fn start(ctx: &Ctx, syncs: Arc<Syncs>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let bound = listener.local_addr()?;
    if !bound.ip().is_loopback() {
        tracing::warn!(%bound, "the metrics endpoint is reachable beyond this machine: it names teams and repositories to anyone who asks");
    }
    let ctx = ctx.clone();
    let cache = Arc::new(tokio::sync::Mutex::new(Cache {
        text: String::new(),
        at: None,
    }));
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNS));
    tokio::spawn(async move {
        let mut backoff = crate::accept::Backoff::new();
        loop {
            let permit = slots.clone().acquire_owned().await.expect("never closed");
            let (stream, _) =
                crate::accept::accept_with(|| listener.accept(), &mut backoff, "metrics").await;
            let (ctx, syncs, cache) = (ctx.clone(), syncs.clone(), cache.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let (ctx, syncs, cache) = (ctx.clone(), syncs.clone(), cache.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(answer(ctx, syncs, &cache, &req).await)
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5))
                    .max_buf_size(16 * 1024)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let _ = tokio::time::timeout(CONN_LIFETIME, conn).await;
                drop(permit);
            });
        }
    });
    tracing::info!(%bound, "OpenMetrics endpoint serving /metrics");
    Ok(bound)
}

async fn answer(
    ctx: Ctx,
    syncs: Arc<Syncs>,
    cache: &tokio::sync::Mutex<Cache>,
    req: &Request<Incoming>,
) -> Response<String> {
    let plain = |status: StatusCode, text: &str| {
        let mut r = Response::new(format!("{text}\n"));
        *r.status_mut() = status;
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if req.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: the metrics are at /metrics",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET");
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let text = {
        // One computation at a time; scrapes meanwhile wait for its text (an async lock: they
        // hold no runtime thread while they wait).
        let mut c = cache.lock().await;
        if c.at.is_none_or(|at| at.elapsed() >= CACHE_FOR) {
            // Store reads and reports: off the runtime's threads.
            let now = crate::store::now();
            match tokio::task::spawn_blocking(move || render(&ctx, &syncs, now)).await {
                Ok(text) => {
                    c.text = text;
                    c.at = Some(Instant::now());
                }
                Err(e) => {
                    tracing::error!(error = %e, "metrics endpoint: the metrics were not computed");
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "metrics not computed");
                }
            }
        }
        c.text.clone()
    };
    let mut r = Response::new(text);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT));
    r
}

/// A family's labels are the same on every sample (OpenMetrics): the team's own figures carry
/// `repo=""`, which Prometheus reads as no repo.
fn labels(team: &str, repo: Option<&str>) -> Labels {
    vec![
        ("team".to_string(), team.to_string()),
        ("repo".to_string(), repo.unwrap_or("").to_string()),
    ]
}

fn team_only(team: &str) -> Labels {
    vec![("team".to_string(), team.to_string())]
}

struct Families {
    deployments: IntGauge,
    per_week: FloatGauge,
    lead_p50: FloatGauge,
    lead_p90: FloatGauge,
    finished: IntGauge,
    failed: IntGauge,
    fail_ratio: FloatGauge,
    recovery_p50: FloatGauge,
    recovery_p90: FloatGauge,
    rework_ratio: FloatGauge,
    merged: IntGauge,
    cycle_p50: FloatGauge,
    cycle_p90: FloatGauge,
    review_p50: FloatGauge,
    review_p90: FloatGauge,
    sync_running: IntGauge,
    sync_failed: IntGauge,
    last_sync: IntGauge,
    rate_remaining: IntGauge,
    rate_limit: IntGauge,
    backlog: IntGauge,
    applied: Family<Labels, Counter<u64>>,
}

impl Families {
    fn register(registry: &mut Registry) -> Families {
        let f = Families {
            deployments: IntGauge::default(),
            per_week: FloatGauge::default(),
            lead_p50: FloatGauge::default(),
            lead_p90: FloatGauge::default(),
            finished: IntGauge::default(),
            failed: IntGauge::default(),
            fail_ratio: FloatGauge::default(),
            recovery_p50: FloatGauge::default(),
            recovery_p90: FloatGauge::default(),
            rework_ratio: FloatGauge::default(),
            merged: IntGauge::default(),
            cycle_p50: FloatGauge::default(),
            cycle_p90: FloatGauge::default(),
            review_p50: FloatGauge::default(),
            review_p90: FloatGauge::default(),
            sync_running: IntGauge::default(),
            sync_failed: IntGauge::default(),
            last_sync: IntGauge::default(),
            rate_remaining: IntGauge::default(),
            rate_limit: IntGauge::default(),
            backlog: IntGauge::default(),
            applied: Family::default(),
        };
        let w = "over the last 12 weeks (repo=\"\": the team as a whole)";
        let r = registry;
        r.register(
            "tidemark_dora_deployments",
            format!("Successful production deployments {w}"),
            f.deployments.clone(),
        );
        r.register(
            "tidemark_dora_deployments_per_week",
            format!("Deployment frequency: successful deployments per week {w}"),
            f.per_week.clone(),
        );
        r.register_with_unit(
            "tidemark_dora_change_lead_time_p50",
            format!("Change lead time, median: first commit to deployment {w}"),
            Unit::Seconds,
            f.lead_p50.clone(),
        );
        r.register_with_unit(
            "tidemark_dora_change_lead_time_p90",
            format!("Change lead time, 90th percentile {w}"),
            Unit::Seconds,
            f.lead_p90.clone(),
        );
        r.register(
            "tidemark_dora_deployments_finished",
            format!("Deployments that finished, successful or failed {w}"),
            f.finished.clone(),
        );
        r.register(
            "tidemark_dora_deployments_failed",
            format!("Deployments that failed: their status, an incident or a revert {w}"),
            f.failed.clone(),
        );
        r.register(
            "tidemark_dora_change_fail_ratio",
            format!("Change fail rate: failed over finished deployments {w}"),
            f.fail_ratio.clone(),
        );
        r.register_with_unit(
            "tidemark_dora_recovery_time_p50",
            format!("Failed deployment recovery time, median {w}"),
            Unit::Seconds,
            f.recovery_p50.clone(),
        );
        r.register_with_unit(
            "tidemark_dora_recovery_time_p90",
            format!("Failed deployment recovery time, 90th percentile {w}"),
            Unit::Seconds,
            f.recovery_p90.clone(),
        );
        r.register("tidemark_dora_rework_ratio", format!("Deployment rework rate: deployments shipping a revert or hotfix over finished ones {w}"), f.rework_ratio.clone());
        r.register(
            "tidemark_pull_requests_merged",
            format!("Pull requests merged {w}"),
            f.merged.clone(),
        );
        r.register_with_unit(
            "tidemark_cycle_time_p50",
            format!("Cycle time (opened to merged), median {w}"),
            Unit::Seconds,
            f.cycle_p50.clone(),
        );
        r.register_with_unit(
            "tidemark_cycle_time_p90",
            format!("Cycle time, 90th percentile {w}"),
            Unit::Seconds,
            f.cycle_p90.clone(),
        );
        r.register_with_unit(
            "tidemark_review_time_p50",
            format!("Review time (ready to first review), median {w}"),
            Unit::Seconds,
            f.review_p50.clone(),
        );
        r.register_with_unit(
            "tidemark_review_time_p90",
            format!("Review time, 90th percentile {w}"),
            Unit::Seconds,
            f.review_p90.clone(),
        );
        r.register(
            "tidemark_sync_running",
            "1 while a sync of the team runs",
            f.sync_running.clone(),
        );
        r.register(
            "tidemark_sync_failed",
            "1 when the team's last sync failed",
            f.sync_failed.clone(),
        );
        r.register_with_unit(
            "tidemark_last_sync_timestamp",
            "When the team's last sync finished (Unix time)",
            Unit::Seconds,
            f.last_sync.clone(),
        );
        r.register(
            "tidemark_github_rate_remaining",
            "GitHub's rate budget left for the team's token, per resource, as last seen",
            f.rate_remaining.clone(),
        );
        r.register(
            "tidemark_github_rate_limit",
            "GitHub's rate limit for the team's token, per resource",
            f.rate_limit.clone(),
        );
        r.register(
            "tidemark_webhook_backlog",
            "Webhook deliveries received and not applied yet",
            f.backlog.clone(),
        );
        r.register(
            "tidemark_webhook_deliveries_applied",
            "Webhook deliveries applied, per repository",
            f.applied.clone(),
        );
        f
    }
}

fn secs(v: Option<i64>) -> Option<f64> {
    v.map(|s| s as f64)
}

fn set_f(family: &FloatGauge, l: &Labels, v: Option<f64>) {
    if let Some(v) = v {
        family.get_or_create(l).set(v);
    }
}

fn set_i(family: &IntGauge, l: &Labels, v: u64) {
    family
        .get_or_create(l)
        .set(i64::try_from(v).unwrap_or(i64::MAX));
}

fn delivery(f: &Families, report: &DoraReport, team: &str, by_repo: bool) {
    for g in &report.groups {
        let l = labels(team, by_repo.then_some(g.key.as_str()));
        set_i(&f.deployments, &l, g.deployed.len() as u64);
        set_f(&f.per_week, &l, Some(g.per_week_milli as f64 / 1000.0));
        set_f(&f.lead_p50, &l, secs(g.lead_time.p50));
        set_f(&f.lead_p90, &l, secs(g.lead_time.p90));
        set_i(&f.finished, &l, g.finished.len() as u64);
        set_i(&f.failed, &l, g.failed.len() as u64);
        let ratio =
            |part: usize| (!g.finished.is_empty()).then(|| part as f64 / g.finished.len() as f64);
        set_f(&f.fail_ratio, &l, ratio(g.failed.len()));
        set_f(&f.recovery_p50, &l, secs(g.recovery.p50));
        set_f(&f.recovery_p90, &l, secs(g.recovery.p90));
        set_f(&f.rework_ratio, &l, ratio(g.rework.len()));
    }
}

fn team_metrics(f: &Families, ctx: &Ctx, syncs: &Syncs, id: TeamId, name: &str, now: i64) {
    let store = &ctx.store;
    let since = now - WINDOW_WEEKS * WEEK;
    for (by, by_repo) in [(DoraGrouping::Team, false), (DoraGrouping::Repo, true)] {
        let query = DoraQuery {
            team: TeamRef::Id(id),
            since: Some(since),
            until: Some(now),
            by,
            config: None,
            explain: false,
        };
        match crate::delivery::report(store, id, name, &query, now) {
            Ok(report) => delivery(f, &report, name, by_repo),
            Err(e) => tracing::warn!(team = id, error = %e, "metrics endpoint: no delivery report"),
        }
    }
    for (by, by_repo) in [
        (MetricsGrouping::Team, false),
        (MetricsGrouping::Repo, true),
    ] {
        let query = MetricsQuery {
            team: TeamRef::Id(id),
            since: Some(since),
            by,
            include_bots: false,
        };
        let Ok(rows) = crate::teams::reports::metrics(store, id, name, &query) else {
            continue;
        };
        for row in rows {
            let l = labels(name, by_repo.then_some(row.key.as_str()));
            set_i(&f.merged, &l, row.merged);
            set_f(&f.cycle_p50, &l, secs(row.cycle_time.p50));
            set_f(&f.cycle_p90, &l, secs(row.cycle_time.p90));
            set_f(&f.review_p50, &l, secs(row.review_time.p50));
            set_f(&f.review_p90, &l, secs(row.review_time.p90));
        }
    }
    let l = team_only(name);
    let progress = crate::sync::progress_now(syncs, id);
    set_i(&f.sync_running, &l, u64::from(progress.running));
    set_i(
        &f.sync_failed,
        &l,
        u64::from(progress.status == SyncStatus::Error),
    );
    if let Some(at) = progress.last_sync_at {
        f.last_sync.get_or_create(&l).set(at);
    }
    for b in ctx.github.budget(id).snapshot() {
        let mut rl = l.clone();
        rl.push(("resource".into(), b.resource.clone()));
        set_i(&f.rate_remaining, &rl, b.remaining);
        set_i(&f.rate_limit, &rl, b.limit);
    }
    set_i(&f.backlog, &l, store.inbox_backlog(id).0);
    if let Ok(repos) = store.tracked_repos(id) {
        for r in repos {
            let health: Option<HookHealth> = store.hook_health(id, r.github_repo_id).ok().flatten();
            let n = health.map_or(0, |h| h.deliveries);
            f.applied
                .get_or_create(&labels(name, Some(&r.full_name)))
                .inc_by(n);
        }
    }
}

/// The whole exposition, ending in `# EOF`.
pub fn render(ctx: &Ctx, syncs: &Syncs, now: i64) -> String {
    let mut registry = Registry::default();
    let f = Families::register(&mut registry);
    match ctx.store.teams() {
        Ok(teams) => {
            for t in teams {
                team_metrics(&f, ctx, syncs, t.id, &t.name, now);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics endpoint: teams not read"),
    }
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String does not fail");
    out
}
