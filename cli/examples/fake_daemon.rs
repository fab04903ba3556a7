//! A fake daemon for trying the TUI by hand (or under tmux) before the real one exists:
//! `cargo run -p tidemark --example fake_daemon -- /tmp/t.sock` then
//! `tidemark --no-start --socket /tmp/t.sock`. Serves fabricated teams from memory. Connecting
//! GitHub shows the code for about ten seconds (as if the user took that long), then offers two
//! organizations.

// Shared with the integration tests (it allows its own unused helpers).
#[path = "../tests/client/support/fake_daemon.rs"]
mod fake_daemon;

#[tokio::main]
async fn main() {
    let socket = std::env::args().nth(1).expect("usage: fake_daemon SOCKET");
    let _ = std::fs::remove_file(&socket);
    let mut second = tidemark_tui::fixtures::team_status();
    second.team = tidemark_tui::fixtures::teams().remove(1);
    second.integrations.clear();
    second.repos.clear();
    let github = fake_daemon::FakeGithub {
        waits: 5,
        hold: std::time::Duration::from_secs(2),
        orgs: vec![
            fake_daemon::org("acme", 4821, Some("Acme Corp")),
            fake_daemon::org("acme-labs", 4822, None),
        ],
        ..fake_daemon::FakeGithub::default()
    };
    let daemon = fake_daemon::FakeDaemon::new(vec![tidemark_tui::fixtures::team_status(), second])
        .with_github(github);
    eprintln!("fake daemon on {socket}");
    let _ = daemon.listen(std::path::Path::new(&socket)).await;
}
