//! tidemarkd's settings: defaults, the config file, the environment and the command line, in
//! that order (the later wins), resolved into one [`Settings`]. The config file is read at start
//! and again on a reload (SIGHUP, `tidemark daemon reload`); the command line and environment
//! are the process's own and never change.
//!
//! The data dir and the socket are not in the file: clients find the daemon by them without
//! reading the daemon's config, so both sides take them from the same flags and variables.

mod file;
mod keys;

pub use file::{
    ConfigFile, SEALED_SECRET_KEY, SecretChange, default_path, read as read_file, seal_secret,
    template, write_github_app,
};
pub use keys::Key;

use crate::crypto::{Binding, Ciphertext, Keyring, Secret};
use crate::github::GitHubConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tidemark_protocol::{SettingInfo, SettingSource};

/// Where the sealed client secret belongs (no team has id 0).
pub const SECRET_BINDING: Binding<'static> = Binding {
    team_id: 0,
    provider: "daemon",
    field: "github_client_secret",
};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad config file {}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    /// A value that does not fit its setting; `origin` names the file, variable or flag.
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("cannot write the config file {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
}

/// A raw value and where it was given.
#[derive(Clone)]
pub enum Raw {
    Text(String),
    /// The client secret as `tidemark setup github` stores it.
    Sealed(Ciphertext),
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: never printed here.
        match self {
            Raw::Text(t) => write!(f, "Text({} chars)", t.chars().count()),
            Raw::Sealed(c) => write!(f, "Sealed({c:?})"),
        }
    }
}

/// Where one value came from, for the source shown and for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Env,
    Flag,
}

impl Origin {
    pub fn source(&self) -> SettingSource {
        match self {
            Origin::File(_) => SettingSource::ConfigFile,
            Origin::Env => SettingSource::Environment,
            Origin::Flag => SettingSource::CommandLine,
        }
    }

    fn describe(&self, key: Key) -> String {
        match self {
            Origin::File(path) => format!("bad config file {}: key `{key}`", path.display()),
            Origin::Env => key.env().to_string(),
            Origin::Flag => key.flag().unwrap_or_else(|| key.name().to_string()),
        }
    }
}

/// Values given by one source, or by the command line and environment together.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    values: BTreeMap<Key, (Raw, Origin)>,
}

impl Layer {
    pub fn set(&mut self, key: Key, raw: Raw, origin: Origin) {
        self.values.insert(key, (raw, origin));
    }

    pub fn get(&self, key: Key) -> Option<&(Raw, Origin)> {
        self.values.get(&key)
    }

    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.values.keys().copied()
    }

    /// The environment's value of every setting that has no flag value in `self` (empty
    /// variables count as unset).
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> Layer {
        for key in Key::ALL {
            if self.values.contains_key(&key) {
                continue;
            }
            if let Some(v) = var(key.env()).filter(|v| !v.trim().is_empty()) {
                self.set(key, Raw::Text(v), Origin::Env);
            }
        }
        self
    }
}

/// tidemark's Slack app: where Slack is and the app's credentials (both needed to connect).
#[derive(Clone)]
pub struct SlackApp {
    pub url: String,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

impl std::fmt::Debug for SlackApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApp")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "set"))
            .finish()
    }
}

/// Everything the daemon runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub github: GitHubConfig,
    pub public_url: Option<String>,
    pub webhook_addr: Option<SocketAddr>,
    /// Where the OpenMetrics endpoint binds (`/metrics`); None: off (the default).
    pub metrics_addr: Option<SocketAddr>,
    pub sync_every: Duration,
    pub token_check: Duration,
    pub secondary_wait: Duration,
    /// Webhook deliveries that may wait per team (then 503; `store/intake.rs`).
    pub webhook_backlog_max: u64,
    pub socket_group: Option<String>,
    pub socket_mode: Option<u32>,
    /// tidemark's Slack app (alerts and digests).
    pub slack: SlackApp,
    /// Each setting's value as shown (secrets as `set`) and its source.
    shown: BTreeMap<Key, (Option<String>, SettingSource)>,
    /// The client secret from the file, sealed: opened by [`Settings::unseal`].
    sealed: Option<(Ciphertext, PathBuf)>,
}

impl Settings {
    /// Resolve the command line and environment (`given`) over the config file (`file`) over
    /// the defaults.
    pub fn resolve(given: &Layer, file: &Layer) -> Result<Settings, SettingsError> {
        let pick = |key: Key| given.get(key).or_else(|| file.get(key));
        let mut shown = BTreeMap::new();
        let mut text = BTreeMap::new();
        let mut sealed = None;
        for key in Key::ALL {
            let source = match pick(key) {
                None => {
                    shown.insert(
                        key,
                        (key.default_text().map(String::from), SettingSource::Default),
                    );
                    continue;
                }
                Some((raw, origin)) => {
                    match raw {
                        Raw::Text(t) => {
                            text.insert(key, (t.trim().to_string(), origin.clone()));
                        }
                        Raw::Sealed(c) => {
                            let Origin::File(path) = origin else {
                                unreachable!("only the file holds sealed values")
                            };
                            sealed = Some((c.clone(), path.clone()));
                        }
                    }
                    origin.source()
                }
            };
            let value = match (key.is_secret(), text.get(&key)) {
                (true, _) => Some("set".to_string()),
                (false, Some((t, _))) => Some(t.clone()),
                (false, None) => None,
            };
            shown.insert(key, (value, source));
        }
        let get = |key: Key| text.get(&key);
        let bad = |key: Key, origin: &Origin, value: &str| -> SettingsError {
            let shown = if key.is_secret() {
                String::new()
            } else {
                format!("{value:?} is not allowed; ")
            };
            SettingsError::Invalid {
                origin: origin.describe(key),
                message: format!("{shown}expected {}", key.allowed()),
            }
        };
        let url = |key: Key| -> Result<Option<String>, SettingsError> {
            let Some((value, origin)) = get(key) else {
                return Ok(key.default_text().map(String::from));
            };
            match url::Url::parse(value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    Ok(Some(value.trim_end_matches('/').to_string()))
                }
                _ => Err(bad(key, origin, value)),
            }
        };
        // A whole number, 1 or more (seconds, mostly: read as such).
        let secs = |key: Key| -> Result<Duration, SettingsError> {
            let (value, origin) = match get(key) {
                Some((v, o)) => (v.as_str(), Some(o)),
                None => (key.default_text().expect("a default"), None),
            };
            match value.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Duration::from_secs(n)),
                _ => Err(bad(key, origin.expect("defaults parse"), value)),
            }
        };
        let client_id = match get(Key::GithubClientId) {
            None => None,
            Some((v, origin)) => {
                if valid_client_id(v) {
                    Some(v.clone())
                } else {
                    return Err(bad(Key::GithubClientId, origin, v));
                }
            }
        };
        let oauth_addr = match get(Key::OauthAddr) {
            None => None,
            Some((v, origin)) => match v.parse::<SocketAddr>() {
                Ok(a) if a.ip().is_loopback() => Some(a),
                Ok(_) => {
                    return Err(SettingsError::Invalid {
                        origin: origin.describe(Key::OauthAddr),
                        message: format!(
                            "{v:?}: the OAuth callback listener binds loopback only; expected {}",
                            Key::OauthAddr.allowed()
                        ),
                    });
                }
                Err(_) => return Err(bad(Key::OauthAddr, origin, v)),
            },
        };
        let webhook_addr = match get(Key::WebhookAddr) {
            None => Some(
                Key::WebhookAddr
                    .default_text()
                    .and_then(|d| d.parse().ok())
                    .expect("the default parses"),
            ),
            Some((v, _)) if v == "off" || v.is_empty() => None,
            Some((v, origin)) => Some(
                v.parse::<SocketAddr>()
                    .map_err(|_| bad(Key::WebhookAddr, origin, v))?,
            ),
        };
        let metrics_addr = match get(Key::MetricsAddr) {
            None => None,
            Some((v, _)) if v == "off" || v.is_empty() => None,
            Some((v, origin)) => {
                Some(parse_metrics_addr(v).ok_or_else(|| bad(Key::MetricsAddr, origin, v))?)
            }
        };
        let socket_mode = match get(Key::SocketMode) {
            None => None,
            Some((v, origin)) => match u32::from_str_radix(v.trim_start_matches("0o"), 8) {
                Ok(m @ (0o600 | 0o660)) => Some(m),
                _ => return Err(bad(Key::SocketMode, origin, v)),
            },
        };
        let client_secret = get(Key::GithubClientSecret).map(|(v, _)| Secret::new(v.clone()));
        let slack = SlackApp {
            url: url(Key::SlackUrl)?.expect("a default"),
            client_id: match get(Key::SlackClientId) {
                None => None,
                Some((v, _)) if valid_client_id(v) => Some(v.clone()),
                Some((v, origin)) => return Err(bad(Key::SlackClientId, origin, v)),
            },
            client_secret: get(Key::SlackClientSecret).map(|(v, _)| Secret::new(v.clone())),
        };
        Ok(Settings {
            github: GitHubConfig {
                web_url: url(Key::GithubUrl)?.expect("a default"),
                api_url: url(Key::GithubApiUrl)?.expect("a default"),
                client_id,
                client_secret,
                oauth_addr,
            },
            public_url: url(Key::PublicUrl)?,
            webhook_addr,
            metrics_addr,
            sync_every: secs(Key::SyncIntervalSecs)?,
            token_check: secs(Key::TokenCheckSecs)?,
            secondary_wait: secs(Key::GithubSecondaryWaitSecs)?,
            webhook_backlog_max: secs(Key::WebhookBacklogMax)?.as_secs(),
            socket_group: get(Key::SocketGroup).map(|(v, _)| v.clone()),
            socket_mode,
            slack,
            shown,
            sealed,
        })
    }

    /// Open the client secret the file holds sealed (with the daemon's keys).
    pub fn unseal(&mut self, keyring: &Keyring) -> Result<(), SettingsError> {
        if let Some((ciphertext, path)) = self.sealed.take() {
            let opened =
                crate::crypto::decrypt(keyring, SECRET_BINDING, &ciphertext).map_err(|e| {
                    SettingsError::Invalid {
                        origin: format!(
                            "bad config file {}: key `{SEALED_SECRET_KEY}`",
                            path.display()
                        ),
                        message: format!(
                            "{e}; it is sealed with the key of the daemon that wrote it: set the \
                         secret again (`tidemark setup github`)"
                        ),
                    }
                })?;
            self.github.client_secret = Some(opened.secret);
        }
        Ok(())
    }

    /// Whether the secret still waits for [`Settings::unseal`].
    pub fn is_sealed(&self) -> bool {
        self.sealed.is_some()
    }

    pub fn source(&self, key: Key) -> SettingSource {
        self.shown[&key].1
    }

    /// Every setting for `tidemark daemon status`: value (secrets masked) and source.
    pub fn describe(&self) -> Vec<SettingInfo> {
        Key::ALL
            .into_iter()
            .map(|key| {
                let (value, source) = self.shown[&key].clone();
                SettingInfo {
                    key: key.name().into(),
                    value,
                    source,
                    reloadable: key.reloadable(),
                }
            })
            .collect()
    }

    /// Keep the settings a reload cannot change (the listener, the socket) as they are.
    pub fn keep_fixed_from(&mut self, running: &Settings) {
        self.webhook_addr = running.webhook_addr;
        self.metrics_addr = running.metrics_addr;
        self.socket_group = running.socket_group.clone();
        self.socket_mode = running.socket_mode;
        for key in Key::ALL.into_iter().filter(|k| !k.reloadable()) {
            self.shown.insert(key, running.shown[&key].clone());
        }
    }

    /// The settings whose values differ between `self` and `other`.
    pub fn changed(&self, other: &Settings) -> Vec<Key> {
        Key::ALL
            .into_iter()
            .filter(|&key| {
                if key.is_secret() {
                    let secret = |s: &Settings| match key {
                        Key::SlackClientSecret => s.slack.client_secret.clone(),
                        _ => s.github.client_secret.clone(),
                    };
                    let (a, b) = (secret(self), secret(other));
                    a.as_ref().map(Secret::expose) != b.as_ref().map(Secret::expose)
                } else {
                    self.shown[&key].0 != other.shown[&key].0
                }
            })
            .collect()
    }
}

/// A GitHub OAuth client id as GitHub issues them (`Ov23li…`, `Iv1.…`, older 20-hex ones).
pub fn valid_client_id(id: &str) -> bool {
    (4..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests;

/// `9464` (loopback) or `HOST:PORT`.
fn parse_metrics_addr(v: &str) -> Option<SocketAddr> {
    if let Ok(port) = v.parse::<u16>() {
        return Some(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    v.parse().ok()
}
