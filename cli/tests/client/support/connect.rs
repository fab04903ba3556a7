//! Helpers shared by the connect tests: the teams the fake serves, running the binary, waiting
//! with a bound.

// Each test binary uses a different part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tidemark_protocol::{Provider, TeamStatus};
use tidemark_tui::fixtures;
use tokio::task::JoinHandle;

use super::fake_daemon::{FakeDaemon, FakeGithub, org};

/// Every wait in these tests is bounded by this.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// `platform` (#1) is connected to GitHub (acme, 3 repos, 2 with webhooks); `mobile` (#2) is not.
pub fn teams() -> Vec<TeamStatus> {
    let mut mobile = fixtures::team_status();
    mobile.team = fixtures::teams().remove(1);
    mobile.integrations.clear();
    mobile.repos.clear();
    vec![fixtures::team_status(), mobile]
}

pub fn socket_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tidemark.sock")
}

pub fn serve(dir: &tempfile::TempDir, github: FakeGithub) -> (FakeDaemon, JoinHandle<()>) {
    let fake = FakeDaemon::new(teams()).with_github(github);
    let server = fake.clone().listen(&socket_in(dir));
    (fake, server)
}

pub fn command(socket: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidemark"));
    cmd.args(["--no-start", "--socket"])
        .arg(socket)
        .args(args)
        .env_remove("TIDEMARK_DATA_DIR")
        .env("HOME", socket.parent().unwrap())
        .env_remove("XDG_DATA_HOME")
        // No graphical session: the web flow must print its link and never start a browser.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        // Not a terminal: every question is refused or needs a flag.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

pub async fn tidemark(socket: &Path, args: &[&str]) -> Output {
    let run = command(socket, args).output();
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

/// Poll `check` until it holds, or fail after [`PATIENCE`].
pub async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let poll = async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

pub fn github_org(status: &TeamStatus) -> Option<String> {
    status
        .integrations
        .iter()
        .find(|i| i.credential.provider == Provider::Github)
        .and_then(|i| i.github.as_ref())
        .map(|gh| gh.organization_slug.clone())
}

/// Three organizations visible: the user has to choose.
pub fn three_orgs() -> FakeGithub {
    FakeGithub {
        orgs: vec![
            org("acme", 1, Some("Acme Corp")),
            org("acme-labs", 2, None),
            org("widgets", 3, None),
        ],
        ..FakeGithub::default()
    }
}
