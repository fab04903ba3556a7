//! `tidemark daemon status|stop|restart|reload` and `tidemark setup github`: the daemon itself,
//! seen and steered from the client.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use tidemark_protocol::{GitHubAppRequest, RpcError};

use super::{CliError, connect, emit};
use crate::autostart::{Endpoint, START_TIMEOUT, connect_or_start, last_start_failure, wait_until};
use crate::cli::{DaemonCtl, Format, SetupGithub};
use crate::client::{ClientError, Connection};
use crate::output;

/// A secret in the client's environment that `setup github` hands to the daemon.
const SECRET_ENV: &str = "GITHUB_CLIENT_SECRET";

/// How long a stopping daemon may take: it lets webhook deliveries in hand finish (3 s) and
/// flushes the store.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn control(ctl: DaemonCtl, endpoint: &Endpoint) -> Result<(), CliError> {
    match ctl {
        DaemonCtl::Status { format } => status(format, endpoint).await,
        DaemonCtl::Stop => stop(endpoint).await,
        DaemonCtl::Restart => restart(endpoint).await,
        DaemonCtl::Reload { format } => {
            let conn = running(endpoint)
                .await?
                .ok_or_else(|| not_running(endpoint, "nothing to reload"))?;
            let report = conn.daemon_reload().await?;
            emit(format, &report, || output::reload_report(&report))
        }
    }
}

/// The daemon answering on the socket, if any (never starts one).
async fn running(endpoint: &Endpoint) -> Result<Option<Connection>, CliError> {
    match Connection::connect(&endpoint.socket).await {
        Ok(conn) => Ok(Some(conn)),
        Err(e) if e.is_not_running() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn not_running(endpoint: &Endpoint, what: &str) -> CliError {
    let mut text = format!(
        "the daemon is not running (nothing answers on {}): {what}",
        endpoint.socket.display()
    );
    if let Some(reason) = last_start_failure(&endpoint.data_dir) {
        text.push_str(&format!("; its last start failed: {reason}"));
    }
    CliError::NotRunning(text)
}

async fn status(format: Format, endpoint: &Endpoint) -> Result<(), CliError> {
    let Some(conn) = running(endpoint).await? else {
        if format.json {
            let failure = last_start_failure(&endpoint.data_dir);
            println!(
                "{}",
                serde_json::json!({
                    "running": false,
                    "socket": endpoint.socket,
                    "last_start_failure": failure,
                })
            );
        }
        return Err(not_running(endpoint, "`tidemark daemon restart` starts it"));
    };
    let info = conn.daemon_info().await?;
    emit(format, &info, || {
        output::daemon_status(&info, crate::timefmt::now())
    })
}

/// Whether process `pid` has ended: no such process, or one that ended and waits for its
/// parent to collect it (a zombie: its parent may be a shell or a test that has not looked).
fn gone(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    if rc == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
        return true;
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, after_name) = stat.rsplit_once(')')?;
            Some(after_name.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Wait until the daemon closes our connection (it stopped, or replaced itself).
async fn closed(conn: &Connection, timeout: Duration) -> bool {
    wait_until(timeout, || async { conn.ping().await.err().map(drop) })
        .await
        .is_some()
}

fn operator_hint(err: ClientError, user: &str) -> CliError {
    match err {
        ClientError::Rpc(RpcError::PermissionDenied(reason)) => CliError::ConnectFailed(format!(
            "{reason}: run this as {user} or root (e.g. `sudo -u {user} tidemark …`)"
        )),
        other => other.into(),
    }
}

async fn stop(endpoint: &Endpoint) -> Result<(), CliError> {
    let Some(conn) = running(endpoint).await? else {
        println!("The daemon is not running.");
        return Ok(());
    };
    let info = conn.daemon_info().await?;
    ask_to_stop(&conn, false, &info.user).await?;
    let stopped = closed(&conn, STOP_TIMEOUT).await
        && wait_until(STOP_TIMEOUT, || async { gone(info.pid).then_some(()) })
            .await
            .is_some();
    if !stopped {
        return Err(CliError::ConnectFailed(format!(
            "asked the daemon (pid {}) to stop, but it still runs after {} s",
            info.pid,
            STOP_TIMEOUT.as_secs()
        )));
    }
    println!("Stopped the daemon (pid {}).", info.pid);
    if info.managed_by.is_some() {
        println!(
            "systemd leaves it stopped; `systemctl start` (with --user for a user unit) starts it."
        );
    }
    Ok(())
}

/// Ask to stop; a connection closed before the answer arrived means it is on its way.
async fn ask_to_stop(conn: &Connection, restart: bool, user: &str) -> Result<(), CliError> {
    match conn.daemon_stop(restart).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_connection_lost() => Ok(()),
        Err(e) => Err(operator_hint(e, user)),
    }
}

async fn restart(endpoint: &Endpoint) -> Result<(), CliError> {
    let Some(conn) = running(endpoint).await? else {
        if !endpoint.autostart {
            return Err(not_running(
                endpoint,
                "and this client does not start one (--no-start, or the system service's socket)",
            ));
        }
        let conn = connect_or_start(endpoint, || {}).await?;
        let info = conn.daemon_info().await?;
        println!("Started the daemon (pid {}).", info.pid);
        return Ok(());
    };
    let info = conn.daemon_info().await?;
    ask_to_stop(&conn, true, &info.user).await?;
    if !closed(&conn, STOP_TIMEOUT).await {
        return Err(CliError::ConnectFailed(format!(
            "asked the daemon (pid {}) to restart, but it did not stop within {} s",
            info.pid,
            STOP_TIMEOUT.as_secs()
        )));
    }
    // The same process runs again (exec): it answers once up, or dies saying why.
    enum Back {
        Up(Box<Connection>),
        Died,
    }
    let back = wait_until(STOP_TIMEOUT + START_TIMEOUT, || async {
        if gone(info.pid) {
            return Some(Back::Died);
        }
        Connection::connect(&endpoint.socket)
            .await
            .ok()
            .map(|c| Back::Up(Box::new(c)))
    })
    .await;
    match back {
        Some(Back::Up(conn)) => {
            let now = conn.daemon_info().await?;
            println!(
                "Restarted the daemon (pid {}, config {}).",
                now.pid,
                now.config_file.as_deref().unwrap_or("none")
            );
            Ok(())
        }
        Some(Back::Died) => {
            let reason = last_start_failure(Path::new(&info.data_dir)).unwrap_or_else(|| {
                format!(
                    "see its log ({}/daemon.log, or `journalctl -u tidemark` for the service)",
                    info.data_dir
                )
            });
            Err(CliError::ConnectFailed(format!(
                "the daemon stopped for the restart but did not start again: {reason}"
            )))
        }
        None => Err(CliError::ConnectFailed(format!(
            "the daemon (pid {}) did not answer again within {} s of the restart",
            info.pid,
            (STOP_TIMEOUT + START_TIMEOUT).as_secs()
        ))),
    }
}

/// `tidemark setup github`: the OAuth app's client id (and secret) into the daemon's config.
pub async fn setup_github(args: SetupGithub, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let info = conn.daemon_info().await?;
    if !info.caller_may_operate {
        return Err(CliError::ConnectFailed(format!(
            "the daemon runs as {user}: only {user} and root may set up GitHub for it (e.g. \
             `sudo tidemark setup github`)",
            user = info.user
        )));
    }
    let terminal = io::stdin().is_terminal();
    let client_id = match args.client_id {
        Some(id) => id,
        None if !terminal => {
            return Err(CliError::ConnectFailed(
                "stdin is not a terminal: pass --client-id ID (and --client-secret-stdin to \
                 read the secret from stdin)"
                    .into(),
            ));
        }
        None => {
            eprintln!("{}", output::github_app_instructions(&info.github));
            if info.github.configured {
                eprintln!(
                    "(GitHub is already set up on this daemon; what you enter replaces it.)\n"
                );
            }
            prompt_line("Client ID: ")?
        }
    };
    let client_secret = if args.no_secret {
        None
    } else if args.client_secret_stdin {
        let mut text = String::new();
        io::stdin().lock().read_line(&mut text)?;
        Some(text.trim().to_string()).filter(|s| !s.is_empty())
    } else if let Some(secret) = std::env::var(SECRET_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        // Set in this shell: what the user meant the daemon to have.
        Some(secret.trim().to_string())
    } else if terminal {
        let text = rpassword::prompt_password(
            "Client secret (optional: the browser flow and revoking on disconnect need it; \
             Enter to skip): ",
        )?;
        Some(text.trim().to_string()).filter(|s| !s.is_empty())
    } else {
        None
    };
    let report = conn
        .github_app_set(GitHubAppRequest {
            client_id: client_id.trim().to_string(),
            client_secret,
            clear_secret: args.no_secret,
        })
        .await
        .map_err(|e| operator_hint(e, &info.user))?;
    emit(args.format, &report, || output::github_app_saved(&report))
}

fn prompt_line(prompt: &str) -> io::Result<String> {
    let mut err = io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}
