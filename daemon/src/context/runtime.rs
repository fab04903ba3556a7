//! The running daemon as its user sees it: when it started, the settings it runs with and where
//! they came from, reloading them (SIGHUP, `tidemark daemon reload`), saving the GitHub app's
//! settings (`tidemark setup github`), and the request to stop or restart.

use super::{Context, Event};
use crate::crypto::Secret;
use crate::settings::{self, ConfigFile, Key, Layer, SecretChange, Settings, SettingsError};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tidemark_protocol::{ReloadReport, SettingSource};
use tokio::sync::watch;

/// What the daemon was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Exit,
    /// Stop, then run again with the same command line (the config file read anew).
    Restart,
}

/// The settings' inputs: the process's own (fixed) and the config file (read again on reload).
pub struct ConfigState {
    pub given: Layer,
    pub file: Option<ConfigFile>,
    pub current: Settings,
}

pub struct Runtime {
    /// Unix seconds.
    pub started_at: i64,
    started: std::time::Instant,
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// `systemd` when a unit runs the daemon (its `Environment=TIDEMARK_MANAGED_BY`).
    pub managed_by: Option<String>,
    stop: watch::Sender<Option<Stop>>,
    config: Mutex<ConfigState>,
    /// The webhook listener runs (its hooks are worth moving when the public URL changes).
    webhooks: AtomicBool,
    /// Time between reconciliation syncs, in seconds (a reload may change it).
    sync_every_secs: AtomicU64,
    /// How often expiring tokens are looked for, in seconds.
    token_check_secs: AtomicU64,
}

/// Set by the systemd units, so status can say who restarts the daemon.
pub const MANAGED_BY_ENV: &str = "TIDEMARK_MANAGED_BY";

impl Runtime {
    pub fn new(data_dir: PathBuf, socket: PathBuf, config: ConfigState) -> Runtime {
        let sync_every = config.current.sync_every.as_secs();
        let token_check = config.current.token_check.as_secs();
        Runtime {
            started_at: crate::store::now(),
            started: std::time::Instant::now(),
            data_dir,
            socket,
            managed_by: std::env::var(MANAGED_BY_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty()),
            stop: watch::channel(None).0,
            config: Mutex::new(config),
            webhooks: AtomicBool::new(false),
            sync_every_secs: AtomicU64::new(sync_every),
            token_check_secs: AtomicU64::new(token_check),
        }
    }

    /// Time between reconciliation syncs.
    pub fn sync_every(&self) -> Duration {
        Duration::from_secs(self.sync_every_secs.load(Ordering::Relaxed))
    }

    /// How often the token refresher looks for tokens about to expire.
    pub fn token_check(&self) -> Duration {
        Duration::from_secs(self.token_check_secs.load(Ordering::Relaxed))
    }

    pub fn set_webhooks_running(&self) {
        self.webhooks.store(true, Ordering::Relaxed);
    }

    pub fn webhooks_running(&self) -> bool {
        self.webhooks.load(Ordering::Relaxed)
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    pub fn config(&self) -> MutexGuard<'_, ConfigState> {
        self.config
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ask the daemon to stop (or restart); the serve loop acts on it.
    pub fn request_stop(&self, how: Stop) {
        self.stop.send_replace(Some(how));
    }

    /// Resolves once a stop is asked for.
    pub async fn stopped(&self) -> Stop {
        let mut rx = self.stop.subscribe();
        loop {
            if let Some(how) = *rx.borrow_and_update() {
                return how;
            }
            if rx.changed().await.is_err() {
                return Stop::Exit;
            }
        }
    }
}

/// Read the config file again and apply what a reload can; say what needs a restart. A new
/// public URL moves the hooks (and makes missing ones) right away, as a heal round does.
pub fn reload(ctx: &Context) -> Result<ReloadReport, SettingsError> {
    let life = &ctx.runtime;
    let mut state = life.config();
    let file_layer = match &state.file {
        Some(file) => settings::read_file(file)?,
        None => Layer::default(),
    };
    let mut fresh = Settings::resolve(&state.given, &file_layer)?;
    fresh.unseal(&ctx.keyring)?;
    let changed = state.current.changed(&fresh);
    let (applied, need_restart): (Vec<Key>, Vec<Key>) =
        changed.into_iter().partition(|k| k.reloadable());
    fresh.keep_fixed_from(&state.current);
    apply(ctx, &fresh);
    let overridden = file_layer
        .keys()
        .filter_map(|k| state.given.get(k).map(|(_, o)| (k, o.source())))
        .map(|(k, s)| (k.name().to_string(), s))
        .collect::<Vec<(String, SettingSource)>>();
    state.current = fresh;
    let report = ReloadReport {
        config_file: state.file.as_ref().map(|f| f.path.display().to_string()),
        applied: applied.iter().map(|k| k.name().to_string()).collect(),
        need_restart: need_restart.iter().map(|k| k.name().to_string()).collect(),
        overridden,
    };
    drop(state);
    if applied.contains(&Key::PublicUrl) && ctx.runtime.webhooks_running() {
        ctx.bus.publish(Event::PublicUrlChanged);
    }
    tracing::info!(
        applied = ?report.applied,
        need_restart = ?report.need_restart,
        "settings reloaded"
    );
    Ok(report)
}

/// Put settings into effect (at start and on each reload).
pub fn apply(ctx: &Context, settings: &Settings) {
    ctx.github
        .set_live(settings.github.clone(), settings.public_url.clone());
    ctx.github.set_secondary_wait(settings.secondary_wait);
    let rt = &ctx.runtime;
    rt.sync_every_secs
        .store(settings.sync_every.as_secs(), Ordering::Relaxed);
    rt.token_check_secs
        .store(settings.token_check.as_secs(), Ordering::Relaxed);
    ctx.store
        .set_backlog_limits(crate::store::BacklogLimits::for_deliveries(
            settings.webhook_backlog_max,
        ));
}

/// Why saving the GitHub app's settings failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(
        "this daemon has no config file to save to (neither XDG_CONFIG_HOME nor HOME is set for \
         it; start it with --config FILE)"
    )]
    NoFile,
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// Save the OAuth app's client id (and the secret, sealed) in the config file and reload.
pub fn set_github_app(
    ctx: &Context,
    client_id: &str,
    secret: Option<Secret>,
    clear_secret: bool,
) -> Result<ReloadReport, AppError> {
    let client_id = client_id.trim();
    if !settings::valid_client_id(client_id) {
        return Err(AppError::Invalid {
            field: "client id",
            reason: format!("expected {}", Key::GithubClientId.allowed()),
        });
    }
    let change = match (secret, clear_secret) {
        (Some(_), true) => {
            return Err(AppError::Invalid {
                field: "client secret",
                reason: "give a secret or clear it, not both".into(),
            });
        }
        (Some(s), false) => {
            let text = s.expose().trim();
            if text.is_empty()
                || text.len() > 255
                || text.chars().any(|c| c.is_control() || c == ' ')
            {
                return Err(AppError::Invalid {
                    field: "client secret",
                    reason: "expected the secret as GitHub shows it (no spaces)".into(),
                });
            }
            SecretChange::Set(settings::seal_secret(&ctx.keyring, &Secret::new(text)))
        }
        (None, true) => SecretChange::Remove,
        (None, false) => SecretChange::Keep,
    };
    let path = {
        let state = ctx.runtime.config();
        state
            .file
            .as_ref()
            .map(|f| f.path.clone())
            .ok_or(AppError::NoFile)?
    };
    settings::write_github_app(&path, client_id, change)?;
    tracing::info!(file = %path.display(), "GitHub OAuth app settings saved");
    Ok(reload(ctx)?)
}
