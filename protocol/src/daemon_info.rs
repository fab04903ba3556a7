//! The daemon itself (protocol v10): what runs, with which settings, and the calls that stop,
//! restart, reload and configure it. Secrets never travel back: a setting that is a secret is
//! shown as set or not set.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `daemon_info`: the running daemon, for `tidemark daemon status` and the TUI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub version: String,
    pub protocol_version: u32,
    /// Unix seconds.
    pub started_at: i64,
    pub uptime_secs: u64,
    /// The OS user it runs as.
    pub user: String,
    pub data_dir: String,
    pub socket: String,
    /// The config file it reads (and whether it exists; a missing one means defaults).
    pub config_file: Option<String>,
    pub config_file_exists: bool,
    /// Every setting with its value (secrets masked) and where the value came from.
    pub settings: Vec<SettingInfo>,
    /// `systemd` when a unit runs it (restart and stop then belong to systemctl too).
    pub managed_by: Option<String>,
    pub github: GitHubAppInfo,
    /// Whether the caller may stop, restart, reload and configure this daemon (its own user
    /// and root).
    pub caller_may_operate: bool,
}

impl DaemonInfo {
    pub fn setting(&self, key: &str) -> Option<&SettingInfo> {
        self.settings.iter().find(|s| s.key == key)
    }
}

/// One setting as the daemon runs with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingInfo {
    /// The config file's key (also the flag's name, `-` for `_`).
    pub key: String,
    /// None: not set. A secret reads `set` (never its value).
    pub value: Option<String>,
    pub source: SettingSource,
    /// Whether a reload applies a new value (else only a restart does).
    pub reloadable: bool,
}

/// Where a setting's value comes from; the later ones win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    Default,
    ConfigFile,
    Environment,
    CommandLine,
}

impl fmt::Display for SettingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SettingSource::Default => "default",
            SettingSource::ConfigFile => "config file",
            SettingSource::Environment => "environment",
            SettingSource::CommandLine => "command line",
        })
    }
}

/// What GitHub needs to know about tidemark, and whether the daemon has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubAppInfo {
    /// A client id is set: connecting GitHub can start.
    pub configured: bool,
    /// A client secret is set too (the browser flow, and revoking on disconnect).
    pub has_secret: bool,
    /// GitHub's web URL (`https://github.com`, or an Enterprise Server's).
    pub web_url: String,
    /// Where to register a new OAuth app.
    pub register_url: String,
    /// The "Authorization callback URL" to register (GitHub lets a loopback redirect take any
    /// port).
    pub callback_url: String,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    pub config_file: Option<String>,
    /// Settings whose new values are in effect now.
    pub applied: Vec<String>,
    /// Settings changed in the file that take effect only at a restart.
    pub need_restart: Vec<String>,
    /// Settings the file sets but the environment or command line overrides.
    pub overridden: Vec<(String, SettingSource)>,
}

/// `github_app_set`: the OAuth app's client id and, optionally, its secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubAppRequest {
    pub client_id: String,
    /// None keeps the secret already set (if any).
    pub client_secret: Option<String>,
    /// Remove a secret that is set (the device flow needs none).
    pub clear_secret: bool,
}

impl fmt::Debug for GitHubAppRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubAppRequest")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .field("clear_secret", &self.clear_secret)
            .finish()
    }
}

/// What `github_app_set` wrote and what is in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubAppReport {
    pub config_file: String,
    pub github: GitHubAppInfo,
    pub reload: ReloadReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_never_shows_its_secret() {
        let req = GitHubAppRequest {
            client_id: "Ov23liABC".into(),
            client_secret: Some("s3cr3t-value".into()),
            clear_secret: false,
        };
        let text = format!("{req:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("<set>"), "{text}");
    }
}
