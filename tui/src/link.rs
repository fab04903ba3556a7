//! The TUI's link to the daemon: one task that owns the connection, runs each [`Request`] on a
//! task of its own (so a slow call never holds up another or the screen), answers with
//! [`Event`]s, notices when the daemon goes away, and keeps reconnecting.
//!
//! It starts the daemon at most once by itself (the first attempt, as the CLI does). A daemon
//! that then fails to start is reported with its reason ([`LinkEvent::StartFailed`]) and is
//! started again only when the user asks ([`Request::StartDaemon`]): a failure that will not go
//! away must not respawn a daemon every few seconds. The socket is still looked at meanwhile,
//! so a daemon started elsewhere is picked up.

use std::time::Duration;

use tidemark_protocol::{ConnectRequest, RpcError, TeamRef};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use crate::app::{Event, LinkEvent, Reply, Request, StartError};
use crate::autostart::{Endpoint, connect_or_start};
use crate::client::{ClientError, Connection, STATUS_WAIT_MS};

mod daemon;
mod invitations;
mod team;

const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How soon an idle screen notices a daemon that went away.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// How long cancels of connect flows may finish once the UI is gone (it quit with one open).
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Run until the UI drops its request sender. The first attempt may start the daemon (as the
/// CLI does); later ones only reconnect, because a daemon that stopped after we started it was
/// most likely stopped on purpose, and one that failed to start would most likely fail again.
/// [`Request::StartDaemon`] makes the next attempt one that may start it.
pub async fn run(
    endpoint: Endpoint,
    mut requests: UnboundedReceiver<Request>,
    events: UnboundedSender<Event>,
) {
    let send = |event: Event| {
        let _ = events.send(event);
    };
    let mut may_start = true;
    // Why the daemon we started did not come up (the start's own error). Later attempts only see
    // an empty socket; this says more, so it stays on screen until something else happens.
    let mut start_failure: Option<String> = None;
    let mut retry = RETRY_MIN;
    loop {
        let attempt = if std::mem::take(&mut may_start) {
            let mut started = false;
            let attempt = connect_or_start(&endpoint, || {
                started = true;
                send(Event::Link(LinkEvent::Starting));
            })
            .await;
            if let (true, Err(err)) = (started, &attempt) {
                start_failure = Some(err.to_string());
            }
            attempt
        } else {
            Connection::connect(&endpoint.socket).await
        };
        let conn = match attempt {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(error = %err, "daemon not reachable");
                // Something else now stands in the way (a socket we may not use, another
                // protocol): that is the news, not the old start failure.
                if !err.is_not_running() && !matches!(err, ClientError::Start(_)) {
                    start_failure = None;
                }
                send(Event::Link(match &start_failure {
                    Some(failure) => LinkEvent::StartFailed {
                        reason: failure.clone(),
                    },
                    None => LinkEvent::Lost {
                        reason: err.to_string(),
                    },
                }));
                match refuse_until(&mut requests, &events, retry).await {
                    Wait::Elapsed => retry = (retry * 2).min(RETRY_MAX),
                    Wait::Start => {
                        may_start = true;
                        retry = RETRY_MIN;
                    }
                    Wait::Gone => return,
                }
                continue;
            }
        };
        retry = RETRY_MIN;
        start_failure = None;
        send(Event::Link(LinkEvent::Connected {
            daemon_version: conn.hello().daemon_version.clone(),
        }));
        match serve(&conn, &mut requests, &events).await {
            Some(reason) => send(Event::Link(LinkEvent::Lost { reason })),
            None => return,
        }
    }
}

/// Serve requests on a live connection. Returns why it was lost, or `None` when the UI is gone.
async fn serve(
    conn: &Connection,
    requests: &mut UnboundedReceiver<Request>,
    events: &UnboundedSender<Event>,
) -> Option<String> {
    // Per connection, so a loss reported late by an old call cannot break a new connection.
    let (lost_tx, mut lost_rx) = unbounded_channel::<String>();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    // Cancels are kept track of: when the UI quits with a flow open, its last request is the
    // cancel, and it should reach the daemon before we go.
    let mut cancels = JoinSet::new();
    loop {
        tokio::select! {
            req = requests.recv() => {
                let Some(req) = req else {
                    let drain = async { while cancels.join_next().await.is_some() {} };
                    let _ = tokio::time::timeout(CANCEL_GRACE, drain).await;
                    return None;
                };
                // Connected: there is nothing to start.
                if req == Request::StartDaemon {
                    continue;
                }
                let task = perform(conn.clone(), req.clone(), events.clone(), lost_tx.clone());
                if matches!(req, Request::CancelConnect { .. }) {
                    cancels.spawn(task);
                } else {
                    tokio::spawn(task);
                }
            }
            Some(_) = cancels.join_next() => {}
            _ = heartbeat.tick() => {
                let (conn, lost) = (conn.clone(), lost_tx.clone());
                tokio::spawn(async move {
                    if let Err(err) = conn.ping().await {
                        note(&lost, err);
                    }
                });
            }
            Some(reason) = lost_rx.recv() => return Some(reason),
        }
    }
}

/// How a wait between two attempts ended.
#[derive(Debug, PartialEq, Eq)]
enum Wait {
    Elapsed,
    /// The user asked to start the daemon: try at once, and let that attempt start it.
    Start,
    /// The UI is gone.
    Gone,
}

/// Wait `delay`, answering any request meanwhile with an error.
async fn refuse_until(
    requests: &mut UnboundedReceiver<Request>,
    events: &UnboundedSender<Event>,
    delay: Duration,
) -> Wait {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return Wait::Elapsed,
            req = requests.recv() => match req {
                Some(Request::StartDaemon) => return Wait::Start,
                Some(req) => {
                    if let Some(reply) = failed(req, "not connected to the daemon") {
                        let _ = events.send(Event::Reply(reply));
                    }
                }
                None => return Wait::Gone,
            },
        }
    }
}

/// Word an error for the screen, and report it if it means the connection is gone.
fn note(lost: &UnboundedSender<String>, err: ClientError) -> String {
    let text = err.to_string();
    if err.is_connection_lost() {
        let _ = lost.send(text.clone());
    }
    text
}

/// The reply to `req` as a failure, so every request gets exactly one reply (but
/// [`Request::StartDaemon`], which is not an RPC and has none).
pub fn failed(req: Request, reason: &str) -> Option<Reply> {
    let err = reason.to_string();
    Some(match req {
        Request::ListTeams => Reply::Teams(Err(err)),
        Request::LoadTeam(id) => Reply::Team {
            id,
            result: Err(err),
        },
        Request::CreateTeam(_) => Reply::Created(Err(err)),
        Request::DeleteTeam { id, name } => Reply::Deleted {
            id,
            name,
            result: Err(err),
        },
        Request::StartConnect { attempt, .. } => Reply::ConnectStarted {
            attempt,
            result: Err(StartError::Refused(err)),
        },
        Request::ConnectStatus { flow }
        | Request::ChooseOrg { flow, .. }
        | Request::ConfirmLogin { flow, .. } => Reply::ConnectState {
            flow,
            result: Err(err),
        },
        Request::CancelConnect { flow } => Reply::ConnectCancelled {
            flow,
            result: Err(err),
        },
        Request::DisconnectGithub { id, name, .. } => Reply::Disconnected {
            id,
            name,
            result: Err(err),
        },
        req @ (Request::DaemonInfo
        | Request::DaemonReload
        | Request::GithubAppSet(_)
        | Request::StartDaemon) => return daemon::failed(req, err),
        req @ (Request::ListInvitations | Request::AnswerInvitation { .. }) => {
            invitations::failed(req, err)
        }
        req => team::failed(req, err),
    })
}

async fn perform(
    conn: Connection,
    req: Request,
    events: UnboundedSender<Event>,
    lost: UnboundedSender<String>,
) {
    let fail = |err| note(&lost, err);
    let reply = match req {
        Request::ListTeams => Reply::Teams(conn.team_list().await.map_err(fail)),
        Request::LoadTeam(id) => {
            let result = conn
                .status(Some(TeamRef::Id(id)))
                .await
                .map_err(fail)
                .and_then(|mut teams| match teams.pop() {
                    Some(status) => Ok(Box::new(status)),
                    None => Err(format!("team #{id} not found")),
                });
            Reply::Team { id, result }
        }
        Request::CreateTeam(name) => Reply::Created(conn.team_create(name).await.map_err(fail)),
        Request::DeleteTeam { id, name } => {
            let result = conn
                .team_delete(TeamRef::Id(id))
                .await
                .map(|_| ())
                .map_err(fail);
            Reply::Deleted { id, name, result }
        }
        Request::StartConnect {
            team,
            method,
            replace,
            attempt,
        } => {
            let request = ConnectRequest {
                team: TeamRef::Id(team),
                method,
                org: None,
                replace,
                org_hook: false,
            };
            let result = conn.github_connect(request).await.map_err(|err| match err {
                ClientError::Rpc(RpcError::AlreadyExists(what)) => {
                    StartError::AlreadyConnected(what)
                }
                ClientError::Rpc(RpcError::NotConfigured(what)) => StartError::NotConfigured(what),
                err => StartError::Refused(fail(err)),
            });
            Reply::ConnectStarted { attempt, result }
        }
        Request::ConnectStatus { flow } => Reply::ConnectState {
            flow,
            result: conn
                .github_connect_status(flow, STATUS_WAIT_MS)
                .await
                .map_err(fail),
        },
        Request::ChooseOrg { flow, org } => Reply::ConnectState {
            flow,
            result: conn
                .github_connect_choose_org(flow, org)
                .await
                .map_err(fail),
        },
        Request::ConfirmLogin { flow, github_login } => Reply::ConnectState {
            flow,
            result: conn
                .github_connect_confirm_login(flow, github_login)
                .await
                .map_err(fail),
        },
        Request::CancelConnect { flow } => {
            let result = conn.github_connect_cancel(flow).await.map_err(fail);
            if let Err(err) = &result {
                tracing::info!(flow, error = %err, "cancelling a connect flow failed");
            }
            Reply::ConnectCancelled { flow, result }
        }
        Request::DisconnectGithub { id, name, purge } => {
            let result = conn
                .github_disconnect(TeamRef::Id(id), purge)
                .await
                .map_err(fail);
            Reply::Disconnected { id, name, result }
        }
        req @ (Request::DaemonInfo
        | Request::DaemonReload
        | Request::GithubAppSet(_)
        | Request::StartDaemon) => match daemon::perform(&conn, req, fail).await {
            Some(reply) => reply,
            None => return,
        },
        req @ (Request::ListInvitations | Request::AnswerInvitation { .. }) => {
            invitations::perform(&conn, req, fail).await
        }
        req => team::perform(&conn, req, fail).await,
    };
    let _ = events.send(Event::Reply(reply));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_has_a_failure_reply() {
        let reply = failed(
            Request::DeleteTeam {
                id: 3,
                name: "x".into(),
            },
            "down",
        );
        assert_eq!(
            reply,
            Some(Reply::Deleted {
                id: 3,
                name: "x".into(),
                result: Err("down".into())
            })
        );
        assert_eq!(
            failed(Request::ListTeams, "down"),
            Some(Reply::Teams(Err("down".into())))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_daemon_it_reports_lost_and_refuses_requests() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint {
            data_dir: dir.path().join("data"),
            socket: dir.path().join("none.sock"),
            autostart: false,
        };
        let (req_tx, req_rx) = unbounded_channel();
        let (ev_tx, mut ev_rx) = unbounded_channel();
        let link = tokio::spawn(run(endpoint, req_rx, ev_tx));

        let Some(Event::Link(LinkEvent::Lost { reason })) = ev_rx.recv().await else {
            panic!("expected a lost link first")
        };
        assert!(reason.contains("none.sock"), "{reason}");
        req_tx.send(Request::ListTeams).unwrap();
        // It keeps retrying (another Lost) and answers the request with an error, in any order.
        let mut saw_reply = false;
        for _ in 0..3 {
            match ev_rx.recv().await {
                Some(Event::Reply(Reply::Teams(Err(_)))) => saw_reply = true,
                Some(Event::Link(LinkEvent::Lost { .. })) => {}
                other => panic!("unexpected {other:?}"),
            }
            if saw_reply {
                break;
            }
        }
        assert!(saw_reply);
        drop(req_tx);
        tokio::time::timeout(Duration::from_secs(30), link)
            .await
            .expect("link stops when the UI goes away")
            .unwrap();
    }
    /// A start that fails is reported with its reason, and not tried again by itself: later
    /// attempts only look at the socket. `StartDaemon` makes exactly one more start.
    #[tokio::test(start_paused = true)]
    async fn a_failed_start_is_tried_again_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        // A data dir that cannot be created (its parent is a file): the start fails at once,
        // before anything is spawned.
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let endpoint = Endpoint {
            data_dir: file.join("data"),
            socket: dir.path().join("none.sock"),
            autostart: true,
        };
        let (req_tx, req_rx) = unbounded_channel();
        let (ev_tx, mut ev_rx) = unbounded_channel();
        let link = tokio::spawn(run(endpoint, req_rx, ev_tx));

        assert_eq!(ev_rx.recv().await, Some(Event::Link(LinkEvent::Starting)));
        let Some(Event::Link(LinkEvent::StartFailed { reason })) = ev_rx.recv().await else {
            panic!("expected the start failure")
        };
        assert!(
            reason.starts_with("cannot create the data directory"),
            "{reason}"
        );
        // Retries over 0.5 + 1 + 2 + 4 + 5 + 5 s: each looks at the socket, none starts.
        for _ in 0..6 {
            assert_eq!(
                ev_rx.recv().await,
                Some(Event::Link(LinkEvent::StartFailed {
                    reason: reason.clone()
                }))
            );
        }
        req_tx.send(Request::StartDaemon).unwrap();
        assert_eq!(ev_rx.recv().await, Some(Event::Link(LinkEvent::Starting)));
        assert!(matches!(
            ev_rx.recv().await,
            Some(Event::Link(LinkEvent::StartFailed { .. }))
        ));
        // Requests meanwhile are refused, as ever.
        req_tx.send(Request::DaemonInfo).unwrap();
        loop {
            match ev_rx.recv().await {
                Some(Event::Reply(Reply::DaemonInfo(Err(_)))) => break,
                Some(Event::Link(LinkEvent::StartFailed { .. })) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        drop(req_tx);
        tokio::time::timeout(Duration::from_secs(30), link)
            .await
            .expect("link stops when the UI goes away")
            .unwrap();
    }
}
