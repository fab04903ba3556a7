//! A fake daemon for trying the TUI by hand (or under tmux) before the real one exists:
//! `cargo run -p tidemark-tui --example fake_daemon -- /tmp/t.sock` then
//! `tidemark --no-start --socket /tmp/t.sock`. Serves fabricated teams from memory.

// Shared with the integration tests; not every helper is used here.
#[allow(dead_code)]
#[path = "../tests/support/fake_daemon.rs"]
mod fake_daemon;

#[tokio::main]
async fn main() {
    let socket = std::env::args().nth(1).expect("usage: fake_daemon SOCKET");
    let _ = std::fs::remove_file(&socket);
    let mut second = tidemark_tui::fixtures::team_status();
    second.team = tidemark_tui::fixtures::teams().remove(1);
    second.integrations.clear();
    second.repos.clear();
    let daemon = fake_daemon::FakeDaemon::new(vec![tidemark_tui::fixtures::team_status(), second]);
    eprintln!("fake daemon on {socket}");
    let _ = daemon.listen(std::path::Path::new(&socket)).await;
}
