//! The client and the CLI binary against the real daemon's service (in this process, on a real
//! socket, over a real store): the calls whose answers need no GitHub. The fake daemon keeps
//! what only it can stage (`fake_daemon.rs`).

use crate::support::cli::{socket_in, stderr, stdout, tidemark};
use crate::support::real_daemon::RealDaemon;
use tidemark_protocol::TeamRef;
use tidemark_tui::client::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_calls_round_trip_with_the_real_service() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);

    let conn = Connection::connect(&socket).await.unwrap();
    assert_eq!(conn.hello().daemon_version, env!("CARGO_PKG_VERSION"));
    let created = conn.team_create("mobile".into()).await.unwrap();
    assert_eq!(created.name, "mobile");
    conn.team_create("platform".into()).await.unwrap();
    let names: Vec<_> = conn
        .team_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["mobile", "platform"]);
    let err = conn.team_create("mobile".into()).await.unwrap_err();
    assert_eq!(err.to_string(), "a team named 'mobile' already exists");
    assert!(!err.is_connection_lost());
    let status = conn
        .status(Some(TeamRef::Name("mobile".into())))
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].team.name, "mobile");
    assert!(status[0].integrations.is_empty(), "{status:?}");
    // What the calls did is in the daemon's store.
    assert!(daemon.store().team_by_name("platform").unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_team_lifecycle_human_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);

    let out = tidemark(&socket, &["team", "create", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tidemark(&socket, &["team", "create", "mobile"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Created team 'mobile' (#2).\n");

    let out = tidemark(&socket, &["team", "list", "--json"]).await;
    let teams: Vec<tidemark_protocol::TeamInfo> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(teams.len(), 2);

    let out = tidemark(&socket, &["team", "rename", "mobile", "ios"]).await;
    assert_eq!(stdout(&out), "Renamed team 'mobile' to 'ios'.\n");

    // No terminal on stdin and no --yes: refused, and the team is still there.
    let out = tidemark(&socket, &["team", "delete", "ios"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(daemon.store().team_by_name("ios").unwrap().is_some());

    let out = tidemark(&socket, &["team", "delete", "ios", "--yes", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["deleted"]["name"], "ios");
    assert!(daemon.store().team_by_name("ios").unwrap().is_none());

    let out = tidemark(&socket, &["team", "delete", "ios", "--yes"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: team 'ios' not found\n");
}
