//! The team screen's own RPCs, run by the link like the others: the watch that keeps it live
//! and "sync now". Each request gets exactly one reply, an error worded for the screen when it
//! fails. The tabs' RPCs are in their folders (`crate::tabs`).

use std::time::Duration;

use tidemark_protocol::TeamRef;

use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection, SYNC_STATUS_WAIT_MS};

/// The failure reply of a team-screen request.
pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::WatchTeam { team, seq, .. } => Reply::Watched {
            team,
            seq,
            result: Err(err),
        },
        Request::SyncNow(team) => Reply::SyncStarted {
            team,
            result: Err(err),
        },
        other => crate::tabs::failed(other, err),
    }
}

/// Run a team-screen request. `fail` words an error (and reports a lost connection).
pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    let id = |team| TeamRef::Id(team);
    match req {
        Request::WatchTeam {
            team,
            seq,
            after_ms,
        } => {
            tokio::time::sleep(Duration::from_millis(u64::from(after_ms))).await;
            let result = async {
                let sync = conn.sync_status(id(team), SYNC_STATUS_WAIT_MS).await?;
                let status = conn.status(Some(id(team))).await?;
                Ok::<_, ClientError>((sync, status))
            }
            .await
            .map_err(&fail)
            .and_then(|(sync, mut status)| match status.pop() {
                Some(status) => Ok(Box::new((sync, status))),
                None => Err(format!("team #{team} not found")),
            });
            Reply::Watched { team, seq, result }
        }
        Request::SyncNow(team) => Reply::SyncStarted {
            team,
            result: conn.sync_start(id(team)).await.map_err(&fail),
        },
        other => crate::tabs::perform(conn, other, fail).await,
    }
}
