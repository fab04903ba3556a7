//! The client, the CLI binary and the TUI's link against an in-process fake daemon that speaks
//! the real protocol over the real transport.

use std::time::Duration;

use crate::support::cli::{socket_in, stderr, stdout, tidemark};
use crate::support::fake_daemon::FakeDaemon;
use tidemark_tui::app::{Event, LinkEvent, Reply, Request};
use tidemark_tui::autostart::Endpoint;
use tidemark_tui::client::{ClientError, Connection};
use tidemark_tui::{fixtures, link};
use tokio::sync::mpsc::unbounded_channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_calls_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let _server = FakeDaemon::new(vec![fixtures::team_status()]).listen(&socket);

    let conn = Connection::connect(&socket).await.unwrap();
    assert_eq!(conn.hello().daemon_version, "0.0.0-fake");
    let created = conn.team_create("mobile".into()).await.unwrap();
    assert_eq!(created.name, "mobile");
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
        .status(Some(tidemark_protocol::TeamRef::Id(1)))
        .await
        .unwrap();
    assert_eq!(status, vec![fixtures::team_status()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_mismatch_is_reported_with_the_daemons_words() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let _server = FakeDaemon::new(vec![]).speaking(99).listen(&socket);
    let err = Connection::connect(&socket).await.unwrap_err();
    assert!(matches!(err, ClientError::VersionMismatch(_)), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "protocol mismatch: this client speaks protocol {}, the daemon speaks 99",
            tidemark_protocol::PROTOCOL_VERSION
        )),
        "{err}"
    );

    let out = tidemark(&socket, &["team", "list"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: protocol mismatch"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_status_shows_metadata_and_json_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let _server = FakeDaemon::new(vec![fixtures::team_status()]).listen(&socket);

    let out = tidemark(&socket, &["status", "--team", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        tidemark_tui::output::status(&[fixtures::team_status()], 0)
    );

    let out = tidemark(&socket, &["status", "--json"]).await;
    let status: Vec<tidemark_protocol::TeamStatus> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status, vec![fixtures::team_status()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_connects_serves_notices_loss_and_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let fake = FakeDaemon::new(vec![fixtures::team_status()]);
    let server = fake.clone().listen(&socket);

    let endpoint = Endpoint {
        data_dir: dir.path().join("data"),
        socket: socket.clone(),
        autostart: false,
    };
    let (req_tx, req_rx) = unbounded_channel();
    let (ev_tx, mut ev_rx) = unbounded_channel();
    tokio::spawn(link::run(endpoint, req_rx, ev_tx));
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), ev_rx.recv())
            .await
            .expect("an event in time")
            .expect("link alive")
    };

    assert_eq!(
        next().await,
        Event::Link(LinkEvent::Connected {
            daemon_version: "0.0.0-fake".into()
        })
    );
    req_tx.send(Request::ListTeams).unwrap();
    let Event::Reply(Reply::Teams(Ok(teams))) = next().await else {
        panic!("expected the team list")
    };
    assert_eq!(teams[0].name, "platform");

    // The daemon goes away while the screen is idle: the heartbeat notices.
    server.abort();
    let _ = server.await;
    std::fs::remove_file(&socket).unwrap();
    let Event::Link(LinkEvent::Lost { .. }) = next().await else {
        panic!("expected the loss to be noticed")
    };

    // It comes back: the link reconnects by itself.
    let _server = fake.listen(&socket);
    loop {
        match next().await {
            Event::Link(LinkEvent::Connected { .. }) => break,
            Event::Link(LinkEvent::Lost { .. }) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}
