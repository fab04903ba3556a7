//! Running the real `tidemark` binary against a daemon on `socket` (fake or real), as a
//! script would: no autostart, no terminal on stdin, HOME in the test's temp dir, TZ=UTC.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Every run of the binary is bounded by this (a hang fails the test instead of stalling it).
const PATIENCE: Duration = Duration::from_secs(30);

pub async fn tidemark(socket: &Path, args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .args(["--no-start", "--socket"])
        .arg(socket)
        .args(args)
        .env_remove("TIDEMARK_DATA_DIR")
        .env("HOME", socket.parent().unwrap())
        .env_remove("XDG_DATA_HOME")
        // Local times (`tidemark alerts`) in a zone every machine agrees on.
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("tidemark finished in time")
        .unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Where a test's daemon listens: in its own temp dir.
pub fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tidemark.sock")
}
