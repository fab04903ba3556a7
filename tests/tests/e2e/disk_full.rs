//! A full disk, for real: the data dir on a small tmpfs (root only: mounting takes root; the
//! tests are counted as ignored elsewhere, see `tests/build.rs`).
//!
//! - The store alone: sled fails to write once the disk is full and keeps failing after space
//!   is back (reads too, often); reopening clears it, and what was durable before is all there.
//! - The daemon: deliveries are refused (503) below the free-space margin with no file added
//!   to the spool, a sled write that hits ENOSPC puts the store in error, `doctor` says so with
//!   the free space; once space is freed the store reopens by itself, and deliveries are
//!   acknowledged and applied again, without a restart.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tidemark_daemon::store::{Store, StoreError};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on, connect, ctx, seed_connected_team, use_simulator, wait_until,
};
use tidemark_tests::sim::{Sim, SimConfig};

const SECRET: &str = "disk-full-test-webhook-secret";
const REPO_ID: u64 = 1_296_269;

/// A tmpfs of `size` mounted on `dir` (created), unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs on {}", dir.display());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the filesystem of `dir` with `dir/filler` until it is full. Returns its size.
fn fill(dir: &Path) -> u64 {
    let mut file = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    let mut written = 0;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", dir.display()),
        }
    }
    let _ = file.sync_all();
    written
}

#[test]
#[cfg_attr(tidemark_not_root, ignore = "needs root to mount a small tmpfs")]
fn sled_fails_every_write_after_enospc_until_the_store_is_reopened() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("fs");
    let _fs = Tmpfs::mount(&dir, "16m");
    let store = Store::open(&dir.join("store")).unwrap();
    fill(&dir);
    // Teams until sled's log cannot be written: its `apply_batch` takes them in memory, a
    // flush is what fails.
    let mut durable = 0;
    let mut accepted = 0;
    let error = loop {
        match store
            .create_team(&format!("team-{accepted}"), None)
            .and_then(|_| {
                accepted += 1;
                store.flush()
            }) {
            Ok(()) => durable = accepted,
            Err(e) => break e,
        }
        assert!(accepted < 100_000, "the disk never filled");
    };
    assert!(matches!(error, StoreError::Unwritable(_)), "{error}");
    assert!(error.to_string().contains("disk is full"), "{error}");
    assert!(store.health().failure().unwrap().disk_full);
    // Space back: sled still refuses (its global error), reads still work.
    std::fs::remove_file(dir.join("filler")).unwrap();
    let again = store
        .create_team("after-space-came-back", None)
        .unwrap_err();
    assert!(matches!(again, StoreError::Unwritable(_)), "{again}");
    assert!(store.flush().is_err());
    // Reads that reach sled's pages may fail with the same error (the team list does, mostly).
    match store.teams() {
        Ok(teams) => assert_eq!(teams.len(), accepted),
        Err(e) => assert!(matches!(e, StoreError::Unwritable(_)), "{e}"),
    }
    // Reopened: it writes again; what was flushed is there, what sled had only in memory is
    // lost, as in a crash.
    let started = Instant::now();
    store.reopen().unwrap();
    let reopen_ms = started.elapsed().as_millis();
    assert!(store.health().failure().is_none());
    let kept = store.teams().unwrap().len();
    assert!(kept >= durable && kept <= accepted, "{kept} of {accepted}");
    store.create_team("after-reopen", None).unwrap();
    store.flush().unwrap();
    eprintln!(
        "sled: {accepted} teams accepted, {durable} flushed before ENOSPC; after the reopen \
         ({reopen_ms} ms) {kept} kept, {} lost",
        accepted - kept
    );
}

/// POST one signed `ping` (a body of its own: the same body again is a replay); the HTTP
/// status.
fn deliver(addr: &str, guid: &str) -> u16 {
    let body = format!(
        r#"{{"zen":"{guid} {}","hook_id":1,"repository":{{"id":{REPO_ID},"full_name":"octo-org/hello-world"}}}}"#,
        "z".repeat(16 * 1024)
    );
    let sig = tidemark_daemon::webhooks::verify::sign(SECRET.as_bytes(), body.as_bytes());
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let request = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: ping\r\nX-GitHub-Delivery: {guid}\r\nX-Hub-Signature-256: {sig}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The spool's files: (name, length).
fn spool_files(data_dir: &Path) -> Vec<(String, u64)> {
    let dir = tidemark_daemon::lifecycle::store_dir(data_dir).join("inbox");
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            (e.file_name().to_string_lossy().into_owned(), len)
        })
        .collect();
    files.sort();
    files
}

fn doctor(sandbox: &Sandbox, sim: &Sim) -> String {
    let mut cmd = sandbox.daemon_command();
    use_simulator(&mut cmd, sim, false);
    let out = cmd.arg("doctor").output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn pending(socket: &Path) -> u64 {
    block_on(async {
        let client = connect(socket).await.unwrap();
        let status = client.status(ctx(), None).await.unwrap().unwrap();
        status.iter().map(|s| s.webhooks_pending).sum()
    })
}

fn create_team(socket: &Path, name: &str) -> Result<(), String> {
    block_on(async {
        let client = connect(socket).await.unwrap();
        match client.team_create(ctx(), name.into()).await.unwrap() {
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    })
}

#[test]
#[cfg_attr(tidemark_not_root, ignore = "needs root to mount a small tmpfs")]
fn a_full_disk_refuses_deliveries_and_the_store_recovers_without_a_restart() {
    let sim = Sim::start(SimConfig::default(), "127.0.0.1:0").unwrap();
    let sandbox = Sandbox::new();
    let data = sandbox.data_dir();
    let _fs = Tmpfs::mount(&data, "64m");
    seed_connected_team(&sandbox, "platform", "gho_disk_a", "ghr_disk_b", SECRET);
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();
    for i in 0..20 {
        assert_eq!(deliver(&addr, &format!("before-{i}")), 202);
    }
    wait_until(
        Duration::from_secs(30),
        "the first deliveries applied",
        || (pending(&daemon.socket) == 0).then_some(()),
    );

    // Another process fills the disk.
    let filled = fill(&data);
    let files_before = spool_files(&data);
    let started = Instant::now();
    let mut refused = 0;
    for i in 0..300 {
        let status = deliver(&addr, &format!("full-{i}"));
        assert_eq!(status, 503, "delivery {i} on a full disk");
        refused += 1;
    }
    let refusing = started.elapsed();
    let files_after = spool_files(&data);
    assert_eq!(
        files_after.iter().map(|f| &f.0).collect::<Vec<_>>(),
        files_before.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "refused deliveries added or removed spool files"
    );
    // A sled write now meets ENOSPC (in memory at first; its flush fails): the store is in
    // error, and says so.
    let mut n = 0;
    let message = wait_until(
        Duration::from_secs(60),
        "the store to fail to write",
        || {
            n += 1;
            create_team(&daemon.socket, &format!("while-full-{n}")).err()
        },
    );
    assert!(message.contains("cannot write"), "{message}");
    let report = doctor(&sandbox, &sim);
    assert!(report.contains("warn  disk space:"), "{report}");
    assert!(
        report.contains("fail  store: the running daemon's store cannot write since"),
        "{report}"
    );
    assert!(report.contains("the disk is full"), "{report}");

    // Space is freed: the store reopens by itself, deliveries are acknowledged and applied.
    std::fs::remove_file(data.join("filler")).unwrap();
    let freed = Instant::now();
    let mut i = 0;
    wait_until(
        Duration::from_secs(60),
        "a delivery acknowledged again",
        || {
            i += 1;
            (deliver(&addr, &format!("after-{i}")) == 202).then_some(())
        },
    );
    let acknowledged_after = freed.elapsed();
    wait_until(Duration::from_secs(30), "a team created again", || {
        create_team(&daemon.socket, &format!("after-{i}")).ok()
    });
    wait_until(Duration::from_secs(60), "every delivery applied", || {
        (pending(&daemon.socket) == 0).then_some(())
    });
    let applied_after = freed.elapsed();
    // Team creations acknowledged while sled could still take them in memory: those after its
    // last durable flush are gone with the reopen, as after a crash.
    let kept = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        let teams = client.team_list(ctx()).await.unwrap().unwrap();
        teams
            .iter()
            .filter(|t| t.name.starts_with("while-full-"))
            .count()
    });
    let log = daemon.log_text();
    assert!(
        log.contains("the store was reopened and writes again"),
        "{log}"
    );
    let report = doctor(&sandbox, &sim);
    assert!(report.contains("ok    disk space:"), "{report}");
    assert!(report.contains("reopened 1 time(s)"), "{report}");
    assert!(!report.contains("fail  store"), "{report}");
    let empty: Vec<_> = spool_files(&data)
        .into_iter()
        .filter(|(name, len)| name.ends_with(".bodies") && *len == 0)
        .collect();
    assert!(empty.is_empty(), "empty segments: {empty:?}");
    assert!(daemon.stop().success());
    eprintln!(
        "filler {filled} bytes; {refused} deliveries refused (503) in {refusing:?}, spool files \
         {} before and after; sled failed at team creation {n} ({kept} of the {} acknowledged \
         before kept after the reopen); acknowledged again {acknowledged_after:?} and every \
         delivery applied {applied_after:?} after space was freed",
        files_before.len(),
        n - 1
    );
}
