//! The daemon's life: claim the socket, load keys, open the store, serve, and on SIGTERM/SIGINT
//! stop accepting, flush the store and remove the socket.

use crate::auth::Policy;
use crate::crypto::{self, CryptoError, Keyring};
use crate::lifecycle::{ConfigState, Lifecycle, Stop};
use crate::rpc::{self, Shared, socket::SocketError};
use crate::store::{SecretField, Store, StoreError};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
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
    #[error("data dir {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error(transparent)]
    Hardening(#[from] crate::ops::hardening::HardeningError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
}

/// The sled store lives in this subdirectory of the data dir.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// Create the data dir (0700) if needed, and refuse one that others could write to.
pub fn prepare_data_dir(dir: &Path) -> Result<(), DaemonError> {
    let err = |reason: String| DaemonError::DataDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err(format!("cannot create it: {e}")))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| err(e.to_string()))?;
    if !meta.is_dir() {
        return Err(err("not a directory".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(err(format!(
            "mode {mode:04o} lets other users write to it; fix it with `chmod 700 {}`",
            dir.display()
        )));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid && euid != 0 {
        return Err(err(format!(
            "it belongs to uid {}, not to uid {euid}",
            meta.uid()
        )));
    }
    Ok(())
}

/// Say which stored secrets cannot be decrypted. They are kept, never deleted.
pub(crate) fn report_unreadable_secrets(
    store: &Store,
    keyring: &Keyring,
) -> Result<usize, StoreError> {
    let mut unreadable = 0;
    for team in store.teams()? {
        for cred in store.credentials(team.id)? {
            for field in [SecretField::AccessToken, SecretField::RefreshToken] {
                if let Err(e) = store.credential_secret(keyring, &cred, field) {
                    unreadable += 1;
                    tracing::error!(team = team.id, error = %e, "stored secret cannot be decrypted; kept as is");
                }
            }
        }
        if let Some(g) = store.github_integration(team.id)?
            && let Err(e) = store.webhook_secret(keyring, &g)
        {
            unreadable += 1;
            tracing::error!(team = team.id, error = %e, "stored secret cannot be decrypted; kept as is");
        }
    }
    Ok(unreadable)
}

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
            tracing::info!(before, soft, hard, "open file limit (RLIMIT_NOFILE)")
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open file limit (RLIMIT_NOFILE)"),
    }
    prepare_data_dir(&config.data_dir)?;
    // Claim the socket first: a second daemon learns at once that one is running.
    let (listener, guard) = rpc::socket::bind(&config.socket, config.socket_access)?;
    let (keyring, key_source) = crypto::load_keyring(&config.data_dir, true)?;
    let store = Store::open(&store_dir(&config.data_dir))?;
    let unreadable = report_unreadable_secrets(&store, &keyring)?;
    config.settings.unseal(&keyring)?;
    let settings = config.settings.clone();
    let shared = Arc::new(Shared {
        store,
        keyring,
        policy: Policy::current(),
        connector: crate::connect::Connector::new(
            settings.github.clone(),
            settings.public_url.clone(),
        ),
        refreshes: crate::tokens::Refreshes::default(),
        syncs: crate::sync::Syncs::new(settings.sync_every, settings.secondary_wait),
        lifecycle: Lifecycle::new(
            config.data_dir.clone(),
            guard.path().to_path_buf(),
            ConfigState {
                given: config.given,
                file: config.file,
                current: settings.clone(),
            },
        ),
    });
    crate::lifecycle::apply(&shared, &settings);
    // Free space, and a store whose sled failed to write reopened once it can (`ops/disk.rs`).
    crate::ops::disk::start(&shared)?;
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
        match crate::webhooks::start(&shared, addr) {
            Ok((_, stopper)) => {
                shared.lifecycle.set_webhooks_running();
                webhooks = Some(stopper)
            }
            Err(e) => {
                tracing::error!(%addr, error = %e, "webhook listener not started (is the port in use? see --webhook-addr); syncs continue without webhooks")
            }
        }
    }
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let reloader = shared.clone();
    tokio::spawn(async move {
        while sighup.recv().await.is_some() {
            // A bad file keeps the settings running: said in the log, not fatal.
            match crate::lifecycle::reload(&reloader) {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "SIGHUP: settings not reloaded"),
            }
        }
    });
    let live = shared.connector.live();
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
    let stop = tokio::select! {
        () = rpc::serve(listener, shared.clone()) => Stop::Exit,
        () = crate::ops::control::serve(control, shared.clone()) => Stop::Exit,
        () = crate::tokens::refresh_loop(shared.clone()) => Stop::Exit,
        () = crate::sync::scheduler(shared.clone()) => Stop::Exit,
        how = shared.lifecycle.stopped() => {
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
