//! The systemd unit tidemarkd installs: rendered from a few settings, pure (tests parse it).
//!
//! Hardening aims at `systemd-analyze security` exposure ≤ 2.0 for the system unit. What stays
//! open, and why: the network (GitHub's API and the webhook listener need AF_INET/AF_INET6),
//! and the user namespace (`PrivateUsers=` would map every connecting client to `nobody`, and
//! the daemon attributes each call to the caller's uid).

use std::path::{Path, PathBuf};

pub const UNIT_NAME: &str = "tidemarkd.service";
pub use tidemark_protocol::paths::SYSTEM_USER;
pub const SYSTEM_DATA_DIR: &str = "/var/lib/tidemark";
pub const SYSTEM_SOCKET: &str = "/run/tidemark/tidemark.sock";
pub const SYSTEM_ENV_FILE: &str = "/etc/tidemark/tidemarkd.env";
/// The system service's config file (`tidemark setup github` writes to it, so its directory
/// is the service's to write).
pub const SYSTEM_CONFIG_DIR: &str = "/etc/tidemark";
pub const SYSTEM_CONFIG_FILE: &str = "/etc/tidemark/daemon.toml";
/// Open files the unit allows (soft and hard).
pub const NOFILE_LIMIT: u32 = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A user unit (`systemctl --user`): runs as you, data in your home.
    User,
    /// A system unit: runs as user `tidemark`, shares its socket with group `tidemark`.
    System,
}

/// What the unit needs to know.
#[derive(Debug, Clone)]
pub struct UnitSpec {
    pub scope: Scope,
    /// The tidemarkd binary to run.
    pub exec: PathBuf,
    /// Data dir for a user unit when not the default (a system unit always uses
    /// [`SYSTEM_DATA_DIR`]).
    pub data_dir: Option<PathBuf>,
    /// Extra arguments for `tidemarkd run` (e.g. `--public-url`), passed through as given.
    pub extra_args: Vec<String>,
}

/// Hardening shared by both scopes. Every line is a directive `systemd-analyze security` scores.
const HARDENING: &[&str] = &[
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "DevicePolicy=closed",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "ProcSubset=pid",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "PrivateMounts=yes",
    "RemoveIPC=yes",
    "KeyringMode=private",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @mount @cpu-emulation @debug @obsolete @raw-io @reboot @swap",
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "LimitCORE=0",
    "UMask=0077",
];

/// Render the unit file.
pub fn render(spec: &UnitSpec) -> String {
    let mut args = vec![spec.exec.display().to_string()];
    let mut lines = vec![
        "# Written by `tidemarkd install-service`; `tidemarkd uninstall-service` removes it."
            .into(),
        "[Unit]".to_string(),
        "Description=tidemark daemon (code review metrics)".into(),
        "Documentation=https://example.invalid/tidemark#installing-as-a-service".into(),
        "After=network-online.target".into(),
        "Wants=network-online.target".into(),
        String::new(),
        "[Service]".into(),
        "Type=simple".into(),
        // `tidemark daemon status` says who starts and stops it.
        format!(
            "Environment={}=systemd",
            crate::context::runtime::MANAGED_BY_ENV
        ),
        // `systemctl reload` = `tidemark daemon reload`: the config file read again.
        "ExecReload=/bin/kill -HUP $MAINPID".into(),
    ];
    match spec.scope {
        Scope::System => {
            for arg in [
                "--data-dir",
                SYSTEM_DATA_DIR,
                "--socket",
                SYSTEM_SOCKET,
                "--socket-group",
                SYSTEM_USER,
                "--socket-mode",
                "0660",
                "--config",
                SYSTEM_CONFIG_FILE,
            ] {
                args.push(arg.into());
            }
            lines.extend([
                format!("User={SYSTEM_USER}"),
                format!("Group={SYSTEM_USER}"),
                format!("EnvironmentFile=-{SYSTEM_ENV_FILE}"),
                // /var/lib/tidemark, 0700, owned by the service user.
                "StateDirectory=tidemark".into(),
                "StateDirectoryMode=0700".into(),
                // /run/tidemark, 0750: the socket's group can reach the 0660 socket in it.
                "RuntimeDirectory=tidemark".into(),
                "RuntimeDirectoryMode=0750".into(),
                format!("ReadWritePaths={SYSTEM_DATA_DIR}"),
                format!("ReadWritePaths=-{SYSTEM_CONFIG_DIR}"),
                "ProtectHome=yes".into(),
                "PrivateIPC=yes".into(),
            ]);
        }
        Scope::User => {
            if let Some(dir) = &spec.data_dir {
                args.push("--data-dir".into());
                args.push(dir.display().to_string());
            }
            let data_dir = spec.data_dir.as_ref().map_or_else(
                || "%h/.local/share/tidemark".into(),
                |d| d.display().to_string(),
            );
            lines.extend([
                "EnvironmentFile=-%h/.config/tidemark/tidemarkd.env".into(),
                // $XDG_RUNTIME_DIR/tidemark, where the socket goes by default.
                "RuntimeDirectory=tidemark".into(),
                "RuntimeDirectoryMode=0700".into(),
                format!("ReadWritePaths={}", escape_path(&data_dir)),
                // Its config file, which `tidemark setup github` writes.
                "ReadWritePaths=-%h/.config/tidemark".into(),
                // The data dir is in the home: the rest of it is read-only, not hidden.
                "ProtectHome=read-only".into(),
            ]);
        }
    }
    args.extend(spec.extra_args.iter().cloned());
    args.push("run".into());
    let exec: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
    lines.push(format!("ExecStart={}", exec.join(" ")));
    lines.extend(HARDENING.iter().map(std::string::ToString::to_string));
    lines.extend([
        // systemd's default soft limit is 1,024 descriptors, shared by RPC connections and
        // webhook clients; the daemon caps connections per user well below this.
        format!("LimitNOFILE={NOFILE_LIMIT}"),
        // SIGTERM: the daemon finishes in-flight webhook writes and exits within 5 s.
        "KillSignal=SIGTERM".into(),
        "TimeoutStopSec=10s".into(),
        "Restart=on-failure".into(),
        "RestartSec=5s".into(),
        String::new(),
        "[Install]".into(),
        match spec.scope {
            Scope::System => "WantedBy=multi-user.target".into(),
            Scope::User => "WantedBy=default.target".into(),
        },
    ]);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// One ExecStart argument: `%` doubled (specifiers), quoted when it has spaces or quotes.
fn quote_arg(arg: &str) -> String {
    let escaped = arg.replace('%', "%%");
    if escaped.is_empty() || escaped.contains([' ', '\t', '"', '\'', '\\', ';']) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// A path in a path-list directive: specifiers allowed (we pass `%h`), spaces escaped.
fn escape_path(path: &str) -> String {
    path.replace(' ', "\\x20")
}

/// Parse a unit file into (section, key, value) triples, in order (for tests and `--print`
/// checks; comments and blank lines skipped).
pub fn parse(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// Where a unit of this scope is written by default.
pub fn default_unit_dir(scope: Scope) -> Option<PathBuf> {
    match scope {
        Scope::System => Some(PathBuf::from("/etc/systemd/system")),
        Scope::User => {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|v| !v.is_empty())
                        .map(|h| Path::new(&h).join(".config"))
                })?;
            Some(config.join("systemd/user"))
        }
    }
}

#[cfg(test)]
#[path = "unit_tests.rs"]
mod tests;
