//! Starting the built-in daemon when nothing answers on the socket.
//!
//! The client re-executes itself as `tidemark daemon --data-dir D --socket S` with exactly the
//! settings it resolved, so client and daemon cannot disagree about where the socket is. The
//! daemon is detached (own process group, no terminal on stdin, output appended to
//! `D/daemon.log`) so it outlives the client and never scribbles over the TUI.

use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::client::{ClientError, Connection};

pub const DAEMON_LOG: &str = "daemon.log";
/// Long enough for a cold start on a loaded 2-core machine (store upgrade, key creation).
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
pub const STARTING_MESSAGE: &str = "starting the tidemark daemon…";

/// Where the client talks to the daemon, and whether it may start one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    pub autostart: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {}: {source}", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the daemon log {}: {source}", log.display())]
    Log {
        log: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot find the tidemark executable to start the daemon: {0}")]
    CurrentExe(#[source] io::Error),
    #[error("cannot start the tidemark daemon ({}): {source}", exe.display())]
    Spawn {
        exe: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the tidemark daemon exited during start-up ({status}){}; {} {}",
        reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default(),
        if reason.is_some() { "more in its log at" } else { "see its log at" },
        log.display()
    )]
    Exited {
        status: ExitStatus,
        log: PathBuf,
        /// The daemon's own words (its `startup-error` file), when it could leave them.
        reason: Option<String>,
    },
    #[error(
        "the tidemark daemon did not answer on {} within {} s after starting; see its log at {}",
        socket.display(), after.as_secs(), log.display()
    )]
    NoAnswer {
        socket: PathBuf,
        after: Duration,
        log: PathBuf,
    },
}

/// Why the daemon's last start failed, as it left it in its data dir (if it could).
pub fn last_start_failure(data_dir: &Path) -> Option<String> {
    let path = data_dir.join(tidemark_protocol::paths::STARTUP_ERROR_FILE);
    let text = std::fs::read_to_string(path).ok()?;
    let line: String = text
        .lines()
        .next()?
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    (!line.is_empty()).then_some(line)
}

/// Arguments after the executable: `daemon --data-dir D --socket S`.
pub fn daemon_args(data_dir: &Path, socket: &Path) -> Vec<OsString> {
    vec![
        "daemon".into(),
        "--data-dir".into(),
        data_dir.as_os_str().to_owned(),
        "--socket".into(),
        socket.as_os_str().to_owned(),
    ]
}

/// Create the data dir (and parents) with mode 0700: it holds the store and the key file.
pub fn ensure_data_dir(dir: &Path) -> Result<(), StartError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StartError::DataDir {
            dir: dir.to_path_buf(),
            source,
        })
}

fn open_log(log: &Path) -> Result<File, StartError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(log)
        .map_err(|source| StartError::Log {
            log: log.to_path_buf(),
            source,
        })
}

/// The command that starts the daemon, detached. Built separately so tests can inspect it.
pub fn daemon_command(
    exe: &Path,
    data_dir: &Path,
    socket: &Path,
    log: File,
) -> io::Result<Command> {
    let mut cmd = Command::new(exe);
    cmd.args(daemon_args(data_dir, socket))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        // Its own process group: a ctrl-c in the client's terminal must not stop the daemon.
        .process_group(0);
    Ok(cmd)
}

/// Start the daemon in the background and return its process.
pub fn spawn_daemon(data_dir: &Path, socket: &Path) -> Result<Child, StartError> {
    ensure_data_dir(data_dir)?;
    // A reason left by an earlier failed start must not pass for this one's.
    let _ = std::fs::remove_file(data_dir.join(tidemark_protocol::paths::STARTUP_ERROR_FILE));
    let log = open_log(&data_dir.join(DAEMON_LOG))?;
    let exe = std::env::current_exe().map_err(StartError::CurrentExe)?;
    let spawn_err = |source| StartError::Spawn {
        exe: exe.clone(),
        source,
    };
    let mut cmd = daemon_command(&exe, data_dir, socket, log).map_err(spawn_err)?;
    tracing::info!(exe = %exe.display(), data_dir = %data_dir.display(), "starting daemon");
    cmd.spawn().map_err(spawn_err)
}

/// Poll `probe` with a short, growing backoff until it yields `Some` or `timeout` passes.
/// Returns `None` on timeout. The first probe runs at once.
pub async fn wait_until<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return None;
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

/// Outcome of one look at a starting daemon.
enum Probe {
    Ready(Connection),
    Failed(ClientError),
}

/// Wait for the started daemon to answer `hello`, noticing if it dies first.
pub async fn wait_for_daemon(
    child: &mut Child,
    socket: &Path,
    log: &Path,
    timeout: Duration,
) -> Result<Connection, ClientError> {
    let outcome = wait_until(timeout, || {
        let exited = child.try_wait();
        async move {
            match exited {
                Ok(Some(status)) => Some(Probe::Failed(
                    StartError::Exited {
                        status,
                        log: log.to_path_buf(),
                        reason: log.parent().and_then(last_start_failure),
                    }
                    .into(),
                )),
                // Keep waiting on a socket that is not there yet; any other answer is final.
                _ => match Connection::connect(socket).await {
                    Ok(conn) => Some(Probe::Ready(conn)),
                    Err(err) if err.is_not_running() => None,
                    Err(err) => Some(Probe::Failed(err)),
                },
            }
        }
    })
    .await;
    match outcome {
        Some(Probe::Ready(conn)) => Ok(conn),
        Some(Probe::Failed(err)) => Err(err),
        None => Err(StartError::NoAnswer {
            socket: socket.to_path_buf(),
            after: timeout,
            log: log.to_path_buf(),
        }
        .into()),
    }
}

/// Connect, starting the daemon first if nothing answers and the endpoint allows it.
/// `on_starting` runs once, just before the daemon is started, so the caller can say so.
pub async fn connect_or_start(
    endpoint: &Endpoint,
    on_starting: impl FnOnce(),
) -> Result<Connection, ClientError> {
    match Connection::connect(&endpoint.socket).await {
        Err(err) if err.is_not_running() && endpoint.autostart => {}
        other => return other,
    }
    on_starting();
    let mut child = spawn_daemon(&endpoint.data_dir, &endpoint.socket)?;
    let log = endpoint.data_dir.join(DAEMON_LOG);
    let result = wait_for_daemon(&mut child, &endpoint.socket, &log, START_TIMEOUT).await;
    // Reap the daemon whenever it ends so it never lingers as a zombie of a long-lived TUI.
    std::thread::spawn(move || child.wait());
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn daemon_args_carry_the_resolved_settings() {
        let args = daemon_args(Path::new("/d/data"), Path::new("/r/t.sock"));
        assert_eq!(
            args,
            ["daemon", "--data-dir", "/d/data", "--socket", "/r/t.sock"]
                .map(OsString::from)
                .to_vec()
        );
    }

    #[test]
    fn daemon_command_is_detached_and_logs_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = open_log(&dir.path().join(DAEMON_LOG)).unwrap();
        let cmd =
            daemon_command(Path::new("/bin/tidemark"), dir.path(), Path::new("/s"), log).unwrap();
        assert_eq!(cmd.get_program(), "/bin/tidemark");
        assert_eq!(cmd.get_args().next().unwrap(), "daemon");
        let mode = std::fs::metadata(dir.path().join(DAEMON_LOG))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn data_dir_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/b/tidemark");
        ensure_data_dir(&data).unwrap();
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Idempotent: a second start finds it in place.
        ensure_data_dir(&data).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn wait_until_returns_the_first_success() {
        let calls = Cell::new(0);
        let got = wait_until(Duration::from_secs(10), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { (n == 4).then_some(n) }
        })
        .await;
        assert_eq!(got, Some(4));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_until_gives_up_at_the_deadline_with_backoff() {
        let calls = Cell::new(0);
        let start = tokio::time::Instant::now();
        let got: Option<()> = wait_until(Duration::from_secs(2), || {
            calls.set(calls.get() + 1);
            async { None }
        })
        .await;
        assert_eq!(got, None);
        let waited = start.elapsed();
        assert!(waited >= Duration::from_secs(2), "{waited:?}");
        assert!(waited < Duration::from_millis(2100), "{waited:?}");
        // 20, 40, 80, 160 ms then 250 ms steps: a poll, not a busy loop nor one long sleep.
        assert!((8..=14).contains(&calls.get()), "{} probes", calls.get());
    }

    #[tokio::test]
    async fn a_daemon_that_exits_early_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let log = dir.path().join(DAEMON_LOG);
        let err = wait_for_daemon(&mut child, &dir.path().join("s.sock"), &log, START_TIMEOUT)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("exited during start-up"), "{text}");
        assert!(text.contains("see its log at"), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.contains(&log.display().to_string()), "{text}");
    }

    #[tokio::test]
    async fn a_daemon_that_exits_early_says_why_when_it_left_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path()
                .join(tidemark_protocol::paths::STARTUP_ERROR_FILE),
            "bad config file /c/daemon.toml: key `x`: unknown key\n",
        )
        .unwrap();
        let mut child = Command::new("sh").args(["-c", "exit 1"]).spawn().unwrap();
        let log = dir.path().join(DAEMON_LOG);
        let err = wait_for_daemon(&mut child, &dir.path().join("s.sock"), &log, START_TIMEOUT)
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("(exit status: 1): bad config file /c/daemon.toml: key `x`: unknown key; more in its log at"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_daemon_that_never_answers_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let log = dir.path().join(DAEMON_LOG);
        let err = wait_for_daemon(
            &mut child,
            &dir.path().join("s.sock"),
            &log,
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(err.to_string().contains("did not answer"), "{err}");
    }

    #[tokio::test]
    async fn no_start_reports_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint {
            data_dir: dir.path().join("data"),
            socket: dir.path().join("s.sock"),
            autostart: false,
        };
        let mut told = false;
        let err = connect_or_start(&endpoint, || told = true)
            .await
            .unwrap_err();
        assert!(err.is_not_running(), "{err}");
        assert!(!told, "must not announce a start it does not make");
        assert!(
            !endpoint.data_dir.exists(),
            "--no-start must not create the data dir"
        );
    }
}
