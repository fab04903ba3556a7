//! The real `tidemark` TUI in a real terminal (tmux) against the real daemon and the GitHub
//! simulator: keys go in with `send-keys`, the screen comes out with `capture-pane`, and every
//! step waits on what the screen shows, with a timeout. Where tmux was not installed when the
//! tests were built, the test is ignored with that reason (see `tests/build.rs`).

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use tidemark_tests::harness::{
    Daemon, Sandbox, bin, cli, sim_control as control, use_simulator_with_webhooks, wait_until,
};
use tidemark_tests::harness::{free_port, small_org_sim};

const WAIT: Duration = Duration::from_secs(30);

fn tmux_missing() -> Option<String> {
    match Command::new("tmux").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("tmux -V failed: {}", out.status)),
        Err(err) => Some(format!("tmux not found: {err}")),
    }
}

/// A tmux server of our own (its own socket name), killed when dropped.
struct Tmux {
    server: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.server)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "tui"];
        args.extend(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    /// The text of the pane, or `None` once the session is gone.
    fn screen(&self) -> Option<String> {
        let out = self.run(&["capture-pane", "-p", "-t", "tui"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Wait until the screen contains every one of `texts`; returns it.
    fn wait_for(&self, texts: &[&str]) -> String {
        let mut last = String::new();
        let found = wait_until_or(WAIT, || {
            last = self.screen().unwrap_or_default();
            texts.iter().all(|t| last.contains(t)).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("the screen never showed {texts:?}; it shows:\n{last}"))
    }

    fn wait_without(&self, text: &str) -> String {
        let mut last = String::new();
        let found = wait_until_or(WAIT, || {
            last = self.screen().unwrap_or_default();
            (!last.contains(text)).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("the screen kept showing {text:?}:\n{last}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        // The server's socket file outlives it (and the server is gone already once the TUI
        // quit): remove it where tmux puts `-L` sockets, leaving nothing behind.
        let dir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
        // SAFETY: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() };
        let _ = std::fs::remove_file(
            Path::new(&dir)
                .join(format!("tmux-{uid}"))
                .join(&self.server),
        );
    }
}

/// Like `wait_until`, but `None` at the timeout so the caller can say what the screen showed.
fn wait_until_or<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[cfg_attr(
    tidemark_no_tmux,
    ignore = "needs tmux, which was not on PATH when the tests were built"
)]
fn the_tui_in_tmux_browses_follows_webhooks_and_survives_a_daemon_restart() {
    if let Some(reason) = tmux_missing() {
        panic!("tmux was there when the tests were built, but now: {reason}");
    }
    let sim = small_org_sim(2, 5, 4);
    let port = free_port();
    let sandbox = Sandbox::new();
    let start_daemon = |n| {
        Daemon::start_with(&sandbox, n, |cmd| {
            let addr = format!("127.0.0.1:{port}");
            use_simulator_with_webhooks(cmd, &sim, &addr, &addr);
        })
    };
    let daemon = start_daemon(0);
    let socket = daemon.socket.clone();
    cli(&socket, &["team", "create", "platform"]);
    cli(&socket, &["connect", "github", "--team", "platform"]);
    let available: Value = serde_json::from_slice(
        &cli(
            &socket,
            &["repos", "available", "--team", "platform", "--json"],
        )
        .stdout,
    )
    .unwrap();
    let names: Vec<String> = available
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_string())
        .collect();
    let mut track = vec!["repos", "track", "--team", "platform"];
    track.extend(names.iter().map(String::as_str));
    cli(&socket, &track);
    cli(&socket, &["sync", "--team", "platform", "--wait"]);

    // The config file opens the team at start.
    let config_home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config_home.path().join("tidemark")).unwrap();
    std::fs::write(
        config_home.path().join("tidemark/config.toml"),
        "default_team = \"platform\"\ntheme = \"mono\"\n",
    )
    .unwrap();
    let tmux = Tmux {
        server: format!("tidemark-e2e-{}", std::process::id()),
    };
    let command = format!(
        // No display: `o` shows the link instead of starting a browser.
        "env -u DISPLAY -u WAYLAND_DISPLAY XDG_CONFIG_HOME='{}' '{}' --socket '{}' --data-dir '{}' \
         --no-start",
        config_home.path().display(),
        bin("tidemark").display(),
        socket.display(),
        sandbox.data_dir().display()
    );
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "tui",
        "-x",
        "100",
        "-y",
        "30",
        &command,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");

    // Overview of the default team, with the connection (the token masked) and the sync.
    let screen = tmux.wait_for(&["1 Overview", "connected by", "complete", "Webhooks"]);
    assert!(
        !screen.contains("gho_") || screen.contains("gho_…"),
        "{screen}"
    );

    // Sync now: the daemon answers that it started (too quick here to catch the gauge), and
    // the overview reads complete again afterwards.
    tmux.keys(&["f"]);
    tmux.wait_for(&["Sync started."]);
    tmux.wait_for(&["complete · last just now"]);

    // Pull requests: all ten synced.
    tmux.keys(&["3"]);
    tmux.wait_for(&["Pull requests 10/10"]);

    // A pull request opened on GitHub arrives by webhook and shows without a key press.
    let (repo, author) = {
        let w = sim.world();
        let repo = w.repos.values().next().unwrap().name.clone();
        let author = w.account(*w.members.keys().next().unwrap()).login.clone();
        (repo, author)
    };
    control(
        &sim,
        &format!("/_sim/repos/{repo}/pulls"),
        json!({"author": author, "title": "Arrives live"}),
    );
    tmux.wait_for(&["Pull requests 11/11", "Arrives live"]);

    // Filter, then its details with the timeline.
    tmux.keys(&["/", "Arrives", "Enter"]);
    tmux.wait_for(&["1/11", "filter \"Arrives\""]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["opened", "esc close"]);
    // Its link is on the GitHub the daemon talks to (here the simulator).
    tmux.keys(&["o"]);
    let host = sim.url().trim_start_matches("http://").to_string();
    tmux.wait_for(&["No display here", &host]);
    tmux.keys(&["Escape"]);
    tmux.wait_without("esc close");

    // The other tabs, and the help of the one on screen.
    tmux.keys(&["4"]);
    tmux.wait_for(&["People (", "Reviews"]);
    tmux.keys(&["5"]);
    tmux.wait_for(&["Merged per week", "Breakdown p50"]);
    tmux.keys(&["?"]);
    tmux.wait_for(&["period", "esc or ? closes this help"]);
    tmux.keys(&["Escape"]);
    // The help gone first: tmux reads an Escape and a key close behind it as one Alt-key.
    tmux.wait_without("esc or ? closes this help");
    tmux.keys(&["2"]);
    tmux.wait_for(&["Tracked repositories (2)"]);

    // Clean at 80x24.
    let out = tmux.run(&["resize-window", "-t", "tui", "-x", "80", "-y", "24"]);
    assert!(out.status.success(), "resize-window: {out:?}");
    // The redraw at the new size first (a key sent into the resize was seen lost once).
    wait_until(WAIT, "the redraw at 80x24", || {
        let screen = tmux.screen()?;
        (screen.contains("Tracked repositories (2)")
            && screen.lines().count() <= 24
            && screen.lines().any(|l| l.chars().count() == 80))
        .then_some(())
    });
    tmux.keys(&["3"]);
    // The filter typed earlier is kept.
    let screen = tmux.wait_for(&["5 Metrics", "Pull requests 1/11"]);
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // The daemon goes away: a banner says so; it comes back: the TUI reconnects by itself.
    assert!(daemon.stop().success());
    tmux.wait_for(&["daemon unreachable"]);
    let daemon = start_daemon(1);
    tmux.wait_without("daemon unreachable");
    tmux.keys(&["Escape"]);
    tmux.wait_for(&["Pull requests 11/11"]);

    // q quits: the session ends with the program.
    tmux.keys(&["q"]);
    wait_until(WAIT, "the TUI to quit", || {
        tmux.screen().is_none().then_some(())
    });
    drop(daemon);
}
