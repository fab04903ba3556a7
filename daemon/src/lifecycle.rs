//! The daemon's life: claim the socket, load keys, open the store, serve, and on SIGTERM/SIGINT
//! stop accepting, flush the store and remove the socket.

use crate::auth::Policy;
use crate::context::{ConfigState, Context, Runtime, Stop};
use crate::crypto::{self, CryptoError};
use crate::rpc::{self, Shared, socket::SocketError};

/// The RPC socket's mode and group, as the command line gives them.
pub use crate::rpc::socket::Access as SocketAccess;
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// The socket's mode and group (a system install shares it with group `tidemark`).
    pub socket_access: rpc::socket::Access,
    /// What the daemon runs with; a sealed client secret is opened once the keys are loaded.
    pub settings: crate::settings::Settings,
    /// The command line and environment's settings, fixed for the process's life.
    pub given: crate::settings::Layer,
    /// The config file, read again on each reload.
    pub file: Option<crate::settings::ConfigFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Socket(#[from] SocketError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    #[error(transparent)]
    Hardening(#[from] crate::ops::hardening::HardeningError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
}

pub use crate::data_dir::{prepare_data_dir, store_dir};

/// How long shutdown waits for webhook deliveries in hand (systemd and the tests give the
/// whole shutdown 5 s).
const WEBHOOK_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Run the daemon in the foreground until SIGTERM or SIGINT, or until a client asks it to stop
/// or restart (which the caller does: see `cli`).
pub fn run(config: Config) -> Result<Stop, DaemonError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(config));
    // Work still in flight (a sync's HTTP call, a blocking task) must not hold up the exit:
    // everything acknowledged is durable by now.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

async fn serve(mut config: Config) -> Result<Stop, DaemonError> {
    let started = std::time::Instant::now();
    // Before any secret is read: no core dumps, no ptrace by same-user processes.
    crate::ops::hardening::disable_core_dumps()?;
    // Connections and webhook clients share the fd limit: the soft one up to the hard one.
    match rpc::limits::raise_nofile_limit() {
        Ok((before, soft, hard)) => {
            tracing::info!(before, soft, hard, "open file limit (RLIMIT_NOFILE)");
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open file limit (RLIMIT_NOFILE)"),
    }
    prepare_data_dir(&config.data_dir)?;
    // Claim the socket first: a second daemon learns at once that one is running.
    let (listener, guard) = rpc::socket::bind(&config.socket, config.socket_access)?;
    let (keyring, key_source) = crypto::load_keyring(&config.data_dir, true)?;
    let store = Store::open(&store_dir(&config.data_dir))?;
    let unreadable = store.report_unreadable_secrets(&keyring)?;
    config.settings.unseal(&keyring)?;
    let settings = config.settings.clone();
    let runtime = Runtime::new(
        config.data_dir.clone(),
        guard.path().to_path_buf(),
        ConfigState {
            given: config.given,
            file: config.file,
            current: settings.clone(),
        },
    );
    let ctx = Context::new(store, keyring, Policy::current(), runtime);
    let shared = Arc::new(Shared::new(ctx.clone()));
    // Free space, and a store whose sled failed to write reopened once it can (`ops/disk.rs`).
    crate::ops::disk::start(&ctx)?;
    // Operations for the daemon's own account (backup, store check), off the team-facing RPC.
    // A failure (e.g. a data dir path too long for a socket) costs only online backups.
    let control = match crate::ops::control::bind(&config.data_dir) {
        Ok(bound) => Some(bound),
        Err(e) => {
            tracing::warn!(error = %e, "control socket not bound: `tidemarkd backup` and `doctor` cannot reach this daemon");
            None
        }
    };
    let (control, _control_guard) = match control {
        Some((listener, guard)) => (Some(listener), Some(guard)),
        None => (None, None),
    };
    let mut webhooks = None;
    if let Some(addr) = settings.webhook_addr {
        // Without its listener the daemon still works (periodic syncs): say so, carry on.
        match crate::webhooks::start(&ctx, addr) {
            Ok((_, stopper)) => {
                ctx.runtime.set_webhooks_running();
                webhooks = Some(stopper);
            }
            Err(e) => {
                tracing::error!(%addr, error = %e, "webhook listener not started (is the port in use? see --webhook-addr); syncs continue without webhooks");
            }
        }
    }
    if let Some(addr) = settings.metrics_addr {
        // Optional: without it everything else works; said in the log.
        if let Err(e) = crate::ops::openmetrics::start(&ctx, shared.syncs.clone(), addr) {
            tracing::error!(%addr, error = %e, "metrics endpoint not started (is the port in use? see --metrics-addr)");
        }
    }
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let reloader = ctx.clone();
    tokio::spawn(async move {
        while sighup.recv().await.is_some() {
            // A bad file keeps the settings running: said in the log, not fatal.
            match crate::context::runtime::reload(&reloader) {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "SIGHUP: settings not reloaded"),
            }
        }
    });
    let live = ctx.github.live();
    tracing::info!(
        socket = %guard.path().display(),
        data_dir = %config.data_dir.display(),
        keys = %key_source,
        github = %live.github.api_url,
        github_client_id = live.github.client_id.is_some(),
        unreadable_secrets = unreadable,
        ready_ms = started.elapsed().as_millis() as u64,
        "tidemarkd ready"
    );
    drop(live);
    clear_startup_error(&config.data_dir);
    // Subscribed before any of them runs: the scheduler's first reconciliation publishes at once.
    let sync_events = ctx.bus.subscribe();
    let webhook_events = ctx.bus.subscribe();
    let agreement_events = ctx.bus.subscribe();
    let slack_events = ctx.bus.subscribe();
    let stop = tokio::select! {
        () = rpc::serve(listener, shared.clone()) => Stop::Exit,
        () = crate::ops::control::serve(control, ctx.clone()) => Stop::Exit,
        () = crate::github::tokens::refresh_loop(
            &ctx.store,
            &ctx.keyring,
            &ctx.github,
            || ctx.runtime.token_check(),
        ) => Stop::Exit,
        () = crate::sync::scheduler(shared.syncs.clone(), sync_events) => Stop::Exit,
        () = crate::webhooks::listen(ctx.clone(), webhook_events) => Stop::Exit,
        () = crate::agreements::live::run(ctx.clone(), agreement_events) => Stop::Exit,
        () = crate::slack::notify::run(ctx.clone(), slack_events) => Stop::Exit,
        how = ctx.runtime.stopped() => {
            tracing::info!(?how, "asked to stop by a client");
            how
        }
        _ = sigterm.recv() => { tracing::info!("SIGTERM: shutting down"); Stop::Exit }
        _ = sigint.recv() => { tracing::info!("SIGINT: shutting down"); Stop::Exit }
    };
    // Deliveries already being received finish: written, fsynced and answered (their senders
    // were or will be told 2xx only once durable). New ones are refused from here on.
    if let Some(stopper) = webhooks {
        let still = tokio::task::spawn_blocking(move || stopper.stop(WEBHOOK_GRACE))
            .await
            .unwrap_or(0);
        if still > 0 {
            tracing::warn!(
                deliveries = still,
                "stopping with deliveries still being received (none was acknowledged)"
            );
        }
    }
    shared.store.flush()?;
    drop(guard);
    tracing::info!("store flushed; stopped");
    Ok(stop)
}

pub use tidemark_protocol::paths::STARTUP_ERROR_FILE;

/// Leave the reason a start failed in the data dir (best effort: the dir may be the problem).
pub fn record_startup_error(data_dir: &Path, message: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if !data_dir.is_dir() {
        return;
    }
    let path = data_dir.join(STARTUP_ERROR_FILE);
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{}", message.replace('\n', " ")));
}

fn clear_startup_error(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join(STARTUP_ERROR_FILE));
}
