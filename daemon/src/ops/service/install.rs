//! Writing and removing the unit: for a system install also the `tidemark` account and group
//! and an environment file for the OAuth app's settings; `systemctl daemon-reload` when
//! systemctl is there. Enabling is left to the admin (printed), so nothing starts by surprise.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::unit::{self, Scope, UnitSpec};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServiceError {
    let what = what.into();
    move |source| ServiceError::Io { what, source }
}

#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub spec: UnitSpec,
    /// Where the unit goes (default: `/etc/systemd/system` or `~/.config/systemd/user`).
    pub unit_dir: Option<PathBuf>,
}

fn unit_path(scope: Scope, dir: Option<&Path>) -> Result<PathBuf, ServiceError> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => unit::default_unit_dir(scope).ok_or_else(|| {
            ServiceError::Refused("neither XDG_CONFIG_HOME nor HOME is set; pass --unit-dir".into())
        })?,
    };
    Ok(dir.join(unit::UNIT_NAME))
}

/// Directories whose contents a system unit cannot see (ProtectHome=yes, PrivateTmp=yes).
fn hidden_from_system_units(path: &Path) -> bool {
    ["/home", "/root", "/run/user", "/tmp", "/var/tmp"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Write the unit; returns its path and what to run next.
pub fn install(opts: &InstallOptions) -> Result<(PathBuf, Vec<String>), ServiceError> {
    let scope = opts.spec.scope;
    let path = unit_path(scope, opts.unit_dir.as_deref())?;
    let mut next = Vec::new();
    // Packaging (--unit-dir) may name a binary that is installed later.
    if opts.unit_dir.is_none() && !opts.spec.exec.is_file() {
        return Err(ServiceError::Refused(format!(
            "{} does not exist; pass --exec with the tidemarkd to run",
            opts.spec.exec.display()
        )));
    }
    if scope == Scope::System {
        if hidden_from_system_units(&opts.spec.exec) {
            return Err(ServiceError::Refused(format!(
                "{} is where the hardened system unit cannot see it (ProtectHome/PrivateTmp); \
                 install the binary first, e.g. `install -m 0755 {} /usr/local/bin/tidemarkd`, \
                 and run that one (or pass --exec)",
                opts.spec.exec.display(),
                opts.spec.exec.display()
            )));
        }
        // SAFETY: geteuid has no preconditions.
        if opts.unit_dir.is_none() && unsafe { libc::geteuid() } != 0 {
            return Err(ServiceError::Refused(
                "a system install needs root (sudo tidemarkd install-service --system)".into(),
            ));
        }
        if opts.unit_dir.is_none() {
            ensure_account()?;
            write_env_template(Path::new(unit::SYSTEM_ENV_FILE))?;
            write_config_template(Path::new(unit::SYSTEM_CONFIG_FILE))?;
        }
        next.push(format!(
            "usermod -aG {} USER   # each user who may use the daemon (then log in again)",
            unit::SYSTEM_USER
        ));
        next.push("systemctl enable --now tidemarkd".into());
        next.push(format!(
            "export TIDEMARK_SOCKET={}   # for clients, e.g. in /etc/profile.d/tidemark.sh",
            unit::SYSTEM_SOCKET
        ));
    } else {
        // ProtectSystem=strict leaves only ReadWritePaths writable: the data dir must exist.
        let data_dir = match &opts.spec.data_dir {
            Some(d) => d.clone(),
            None => crate::paths::default_data_dir()
                .map_err(|e| ServiceError::Refused(e.to_string()))?,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&data_dir)
            .map_err(io(format!("cannot create {}", data_dir.display())))?;
        // The unit makes the home read-only but for the data dir and this one (its config).
        if let Some(config) = crate::settings::default_path()
            && let Some(dir) = config.parent()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io(format!("cannot create {}", dir.display())))?;
        }
        next.push("systemctl --user enable --now tidemarkd".into());
        next.push(
            "loginctl enable-linger \"$USER\"   # to keep it running while logged out".into(),
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let text = unit::render(&opts.spec);
    let tmp = path.with_extension("service.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(io(format!("cannot write {}", path.display())))?;
    if opts.unit_dir.is_none() {
        systemctl(scope, &["daemon-reload"]);
    }
    Ok((path, next))
}

/// Stop, disable and remove the unit. Data, account and group stay (said so by the caller).
pub fn uninstall(scope: Scope, unit_dir: Option<&Path>) -> Result<Option<PathBuf>, ServiceError> {
    let path = unit_path(scope, unit_dir)?;
    if unit_dir.is_none() {
        systemctl(scope, &["disable", "--now", unit::UNIT_NAME]);
    }
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("cannot remove {}", path.display()))(e)),
    }
    if unit_dir.is_none() {
        systemctl(scope, &["daemon-reload"]);
    }
    Ok(Some(path))
}

/// Run systemctl when it is there; a failure (no systemd running, no user bus) is a warning.
fn systemctl(scope: Scope, args: &[&str]) {
    let mut cmd = Command::new("systemctl");
    if scope == Scope::User {
        cmd.arg("--user");
    }
    match cmd.args(args).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => eprintln!(
            "tidemarkd: warning: systemctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => eprintln!("tidemarkd: warning: cannot run systemctl: {e}"),
    }
}

/// The system account: group `tidemark` and a user of that group with no login and no home
/// of its own beyond the data dir.
fn ensure_account() -> Result<(), ServiceError> {
    let name = unit::SYSTEM_USER;
    if crate::auth::group_id(name).is_err() {
        run("groupadd", &["--system", name])?;
    }
    let known = Command::new("id")
        .args(["-u", name])
        .output()
        .is_ok_and(|o| o.status.success());
    if !known {
        run(
            "useradd",
            &[
                "--system",
                "--gid",
                name,
                "--home-dir",
                unit::SYSTEM_DATA_DIR,
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
        )?;
    }
    Ok(())
}

fn run(program: &str, args: &[&str]) -> Result<(), ServiceError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(io(format!("cannot run {program}")))?;
    if !out.status.success() {
        return Err(ServiceError::Refused(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// `/etc/tidemark/daemon.toml` (0600 tidemark:tidemark, every key commented out), with
/// `/etc/tidemark` group-writable for the service, which rewrites the file (atomically, in the
/// same directory) on `tidemark setup github`. Kept if it exists.
fn write_config_template(path: &Path) -> Result<(), ServiceError> {
    if path.exists() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    file.write_all(crate::settings::template().as_bytes())
        .map_err(io(format!("cannot write {}", path.display())))?;
    if let (Ok(uid), Ok(gid)) = (
        user_id(unit::SYSTEM_USER),
        crate::auth::group_id(unit::SYSTEM_USER),
    ) {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(io(format!("cannot chown {}", path.display())))?;
        if let Some(dir) = path.parent() {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o770))
                .map_err(io(format!("cannot chmod {}", dir.display())))?;
        }
    }
    Ok(())
}

/// A user's uid by name.
fn user_id(name: &str) -> Result<u32, String> {
    let c = std::ffi::CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: getpwnam reads a NUL-terminated name; the result is used at once.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        Err(format!("no user {name}"))
    } else {
        // SAFETY: non-null pointer from getpwnam.
        Ok(unsafe { (*pw).pw_uid })
    }
}

/// `/etc/tidemark/tidemarkd.env` (0640 root:tidemark) with the settings commented out; kept if
/// it exists (it may hold the client secret).
fn write_env_template(path: &Path) -> Result<(), ServiceError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)
            .map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    file.write_all(
        b"# Environment of tidemarkd.service (see `tidemarkd --help`).\n\
          # GITHUB_CLIENT_ID=Ov23li...\n\
          # GITHUB_CLIENT_SECRET=...\n\
          # TIDEMARK_PUBLIC_URL=https://<your tunnel>\n\
          # TIDEMARK_WEBHOOK_ADDR=127.0.0.1:8787\n",
    )
    .map_err(io(format!("cannot write {}", path.display())))?;
    if let Ok(gid) = crate::auth::group_id(unit::SYSTEM_USER) {
        std::os::unix::fs::chown(path, Some(0), Some(gid))
            .map_err(io(format!("cannot chown {}", path.display())))?;
        if let Some(dir) = path.parent() {
            std::os::unix::fs::chown(dir, Some(0), Some(gid))
                .map_err(io(format!("cannot chown {}", dir.display())))?;
        }
    }
    Ok(())
}
