//! The daemon's control socket, `DATA_DIR/control.sock`: operations for the daemon's own
//! account (and root), kept off the team-facing RPC service. It lives in the 0700 data dir and
//! checks the peer's uid as well. One request line per connection:
//! - `backup`: the reply is a backup stream ([`super::backup`]) of a consistent snapshot;
//! - `check`: the reply is `records N`, `waiting N` (webhook deliveries, bodies checked), then
//!   one `problem ...` line per corrupt record or damaged body, the store's health as the
//!   daemon sees it (`space FREE TOTAL MARGIN`; `failed SINCE DISK_FULL<TAB>REASON` while sled
//!   cannot write; `spool-failed SINCE ATTEMPTS<TAB>REASON` while spool batches fail;
//!   `reopened COUNT LAST`), then `end`. A client ignores lines it does not know;
//! - `ping`: the reply is `pong` (is a daemon serving this data dir?);
//! - `github`: the daemon checks each connected team's GitHub connection (`connection.rs`) and
//!   replies one `check VERDICT NAME<TAB>DETAIL` line per verdict, then `end`. Only verdicts
//!   cross the socket: the tokens stay in the daemon.
//!
//! An error is a reply starting with `ERR `.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::backup;
use crate::context::Context;
use crate::store::Space;
use crate::store::health::{Failure, Report};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

pub const CONTROL_FILE: &str = "control.sock";

static REFUSED: crate::logging::Throttle = crate::logging::Throttle::new();

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(CONTROL_FILE)
}

/// Removes the control socket when the daemon stops.
#[derive(Debug)]
pub struct ControlGuard(PathBuf);

impl Drop for ControlGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Bind the control socket. Call with the store open (sled's lock makes us the data dir's only
/// daemon, so a socket file already there is stale).
pub fn bind(data_dir: &Path) -> std::io::Result<(tokio::net::UnixListener, ControlGuard)> {
    let path = path(data_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, ControlGuard(path)))
}

/// Serve control requests until the future is dropped (forever pending without a listener).
pub async fn serve(listener: Option<tokio::net::UnixListener>, ctx: Arc<Context>) {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    // SAFETY: geteuid has no preconditions.
    let own_uid = unsafe { libc::geteuid() };
    let mut backoff = crate::accept::Backoff::new();
    loop {
        let stream = crate::accept::accept(&listener, &mut backoff, "control").await;
        let allowed = stream
            .peer_cred()
            .is_ok_and(|c| c.uid() == own_uid || c.uid() == 0);
        if !allowed {
            if let Some(skipped) = REFUSED.allow("control other user") {
                tracing::warn!("control socket: a connection from another user refused{skipped}");
            }
            continue;
        }
        tokio::spawn(handle(stream, ctx.clone()));
    }
}

/// How long a control connection has to send its request line: a client that connects and
/// says nothing must not hold a descriptor and a task for ever.
const REQUEST_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn handle(mut stream: tokio::net::UnixStream, ctx: Arc<Context>) {
    // The request line, byte by byte (nothing read past it), at most 64 bytes.
    let read_line = async {
        let mut line = Vec::new();
        while line.len() < 64 {
            match stream.read_u8().await {
                Ok(b'\n') => break,
                Ok(b) => line.push(b),
                Err(_) => return None,
            }
        }
        Some(line)
    };
    let Ok(Some(line)) = tokio::time::timeout(REQUEST_WAIT, read_line).await else {
        return;
    };
    let op = String::from_utf8_lossy(&line).trim().to_string();
    if op == "github" {
        // Async (it asks GitHub): answered here, not from the blocking thread below.
        let text = github_reply(&ctx).await;
        let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, text.as_bytes()).await;
        return;
    }
    // The reply is written from a blocking thread: a backup streams straight from the snapshot
    // to the socket, with no second copy of the store in memory.
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let _ = tokio::task::spawn_blocking(move || {
        if stream.set_nonblocking(false).is_err() {
            return;
        }
        let mut out = std::io::BufWriter::new(&stream);
        if let Err(e) = reply(&op, &ctx, &mut out) {
            let _ = out.write_all(format!("ERR {e}\n").as_bytes());
        }
        let _ = out.flush();
    })
    .await;
}

/// Answer one request. An error before anything was written becomes an `ERR` line.
fn reply(op: &str, ctx: &Context, out: &mut impl Write) -> Result<(), String> {
    match op {
        "backup" => {
            let started = std::time::Instant::now();
            let snapshot = ctx.store.snapshot().map_err(|e| e.to_string())?;
            // About how long writers waited (the snapshot holds the write lock).
            let snapshot_ms = started.elapsed().as_millis() as u64;
            let keys = ctx.keyring.backup_keys();
            let header = backup::write(&snapshot, &keys[0], out).map_err(|e| e.to_string())?;
            tracing::info!(
                records = header.records,
                snapshot_ms,
                "backup snapshot sent"
            );
            Ok(())
        }
        "check" => {
            // A store in error may fail to be read whole: said as a problem, with the health
            // lines that say why, rather than as an error that would hide them.
            let report = ctx
                .store
                .check_integrity()
                .unwrap_or_else(|e| crate::store::Integrity {
                    problems: vec![format!("the store could not be read whole: {e}")],
                    ..Default::default()
                });
            let mut text = format!(
                "records {}\nwaiting {}\n",
                report.records, report.webhooks_waiting
            );
            for p in &report.problems {
                text.push_str(&format!("problem {}\n", p.replace('\n', " ")));
            }
            text.push_str(&health_lines(&ctx.store.health().report()));
            text.push_str("end\n");
            out.write_all(text.as_bytes()).map_err(|e| e.to_string())
        }
        "ping" => out.write_all(b"pong\n").map_err(|e| e.to_string()),
        other => Err(format!("unknown request {other:?}")),
    }
}

/// The `github` request's reply: each connected team's connection checks, as lines.
async fn github_reply(ctx: &Context) -> String {
    let live = ctx.github.live();
    let checks = match super::connection::daemon_teams(ctx).await {
        Ok(teams) => {
            let cx = super::connection::Context {
                api: &live.api,
                web_url: &live.github.web_url,
                public_url: live.public_url.as_deref(),
            };
            super::connection::run(&cx, &teams).await
        }
        Err(e) => return format!("ERR {}\n", e.replace('\n', " ")),
    };
    let mut text = String::new();
    for ch in checks {
        let clean = |s: &str| s.replace(['\n', '\t', '\r'], " ");
        text.push_str(&format!(
            "check {} {}\t{}\n",
            ch.verdict.as_str(),
            clean(&ch.name),
            clean(&ch.detail)
        ));
    }
    text.push_str("end\n");
    text
}

/// Ask the running daemon to check each connected team's GitHub connection. `Ok(None)`: no
/// daemon answers.
pub fn github_checks(data_dir: &Path) -> Result<Option<Vec<super::doctor::Check>>, String> {
    let Some(stream) = request(data_dir, "github") else {
        return Ok(None);
    };
    let mut checks = Vec::new();
    let mut ended = false;
    for line in BufReader::new(stream).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(e) = line.strip_prefix("ERR ") {
            return Err(e.to_string());
        } else if let Some(rest) = line.strip_prefix("check ") {
            let bad = || format!("bad reply {line:?}");
            let (verdict, rest) = rest.split_once(' ').ok_or_else(bad)?;
            let (name, detail) = rest.split_once('\t').ok_or_else(bad)?;
            checks.push(super::doctor::Check {
                name: name.to_string(),
                verdict: super::doctor::Verdict::parse(verdict).ok_or_else(bad)?,
                detail: detail.to_string(),
            });
        } else if line == "end" {
            ended = true;
        }
    }
    if !ended {
        return Err("the daemon's answer was cut short".into());
    }
    Ok(Some(checks))
}

/// Client side: `None` when no daemon serves this data dir's control socket.
fn request(data_dir: &Path, op: &str) -> Option<std::os::unix::net::UnixStream> {
    let mut stream = std::os::unix::net::UnixStream::connect(path(data_dir)).ok()?;
    stream.write_all(format!("{op}\n").as_bytes()).ok()?;
    Some(stream)
}

/// Ask the running daemon for a backup; its bytes are copied to `out` as they come.
/// `Ok(None)`: no daemon answers.
pub fn fetch_backup(data_dir: &Path, out: &mut impl Write) -> Result<Option<()>, String> {
    let Some(mut stream) = request(data_dir, "backup") else {
        return Ok(None);
    };
    let mut first = [0u8; 4];
    stream
        .read_exact(&mut first)
        .map_err(|e| format!("the daemon did not answer the backup request: {e}"))?;
    if &first == b"ERR " {
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest);
        return Err(format!(
            "the daemon could not take a backup: {}",
            rest.trim()
        ));
    }
    out.write_all(&first).map_err(|e| e.to_string())?;
    std::io::copy(&mut stream, out).map_err(|e| format!("backup stream: {e}"))?;
    Ok(Some(()))
}

/// Whether a daemon serves this data dir's control socket.
pub fn ping(data_dir: &Path) -> bool {
    let Some(mut stream) = request(data_dir, "ping") else {
        return false;
    };
    let mut answer = String::new();
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    stream.read_to_string(&mut answer).is_ok() && answer == "pong\n"
}

/// The `check` reply's health lines (see the module comment).
fn health_lines(report: &Report) -> String {
    let clean = |s: &str| s.replace(['\n', '\t', '\r'], " ");
    let mut text = String::new();
    if let Some(s) = report.space {
        text.push_str(&format!("space {} {} {}\n", s.free, s.total, s.margin));
    }
    if let Some(f) = &report.failure {
        text.push_str(&format!(
            "failed {} {}\t{}\n",
            f.since,
            u8::from(f.disk_full),
            clean(&f.reason)
        ));
    }
    if let Some((since, reason, attempts)) = &report.spool {
        text.push_str(&format!(
            "spool-failed {since} {attempts}\t{}\n",
            clean(reason)
        ));
    }
    if let Some(last) = report.last_reopen {
        text.push_str(&format!("reopened {} {last}\n", report.reopens));
    }
    text
}

/// Read one health line into `report`; false when it is not one.
fn parse_health(line: &str, report: &mut Report) -> Result<bool, String> {
    let bad = || format!("bad reply {line:?}");
    let num =
        |s: Option<&str>| -> Result<i64, String> { s.and_then(|s| s.parse().ok()).ok_or_else(bad) };
    let (head, reason) = match line.split_once('\t') {
        Some((head, reason)) => (head, reason.to_string()),
        None => (line, String::new()),
    };
    let mut words = head.split(' ');
    match words.next() {
        Some("space") => {
            let mut n = || num(words.next()).map(|n| n as u64);
            report.space = Some(Space {
                free: n()?,
                total: n()?,
                margin: n()?,
            });
        }
        Some("failed") => {
            report.failure = Some(Failure {
                since: num(words.next())?,
                disk_full: num(words.next())? == 1,
                reason,
            });
        }
        Some("spool-failed") => {
            let since = num(words.next())?;
            report.spool = Some((since, reason, num(words.next())? as u32));
        }
        Some("reopened") => {
            report.reopens = num(words.next())? as u64;
            report.last_reopen = Some(num(words.next())?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Ask the running daemon to check its store; its health comes with the answer. `Ok(None)`:
/// no daemon answers.
pub fn check(data_dir: &Path) -> Result<Option<(crate::store::Integrity, Report)>, String> {
    let Some(stream) = request(data_dir, "check") else {
        return Ok(None);
    };
    let mut report = crate::store::Integrity::default();
    let mut health = Report::default();
    let mut ended = false;
    for line in BufReader::new(stream).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if parse_health(&line, &mut health)? {
            continue;
        }
        if let Some(e) = line.strip_prefix("ERR ") {
            return Err(e.to_string());
        } else if let Some(n) = line.strip_prefix("records ") {
            report.records = n.parse().map_err(|_| format!("bad reply {line:?}"))?;
        } else if let Some(n) = line.strip_prefix("waiting ") {
            report.webhooks_waiting = n.parse().map_err(|_| format!("bad reply {line:?}"))?;
        } else if let Some(p) = line.strip_prefix("problem ") {
            report.problems.push(p.to_string());
        } else if line == "end" {
            ended = true;
        }
    }
    if !ended {
        return Err("the daemon's answer was cut short".into());
    }
    Ok(Some((report, health)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_lines_read_back() {
        let report = Report {
            failure: Some(Failure {
                since: 1_700_000_000,
                reason: "the disk is full\t(ENOSPC)".into(),
                disk_full: true,
            }),
            spool: Some((1_700_000_001, "No space left on device".into(), 7)),
            space: Some(Space {
                free: 10,
                total: 64 << 20,
                margin: 671_088,
            }),
            reopens: 2,
            last_reopen: Some(1_700_000_002),
        };
        let mut back = Report::default();
        for line in health_lines(&report).lines() {
            assert!(parse_health(line, &mut back).unwrap(), "{line}");
        }
        let mut expected = report.clone();
        expected.failure.as_mut().unwrap().reason = "the disk is full (ENOSPC)".into();
        assert_eq!(back, expected);
        assert!(!parse_health("records 3", &mut back).unwrap());
        assert!(parse_health("space x", &mut back).is_err());
    }
}
