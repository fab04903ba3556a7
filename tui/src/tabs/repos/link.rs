//! The Repos tab's RPCs: the organization's repositories to pick from, track, untrack.

use tidemark_protocol::TeamRef;

use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::ReposAvailable(team) => Reply::Available {
            team,
            result: Err(err),
        },
        Request::Track { team, .. } => Reply::Tracked {
            team,
            result: Err(err),
        },
        Request::Untrack { team, name } => Reply::Untracked {
            team,
            name,
            result: Err(err),
        },
        other => unreachable!("not a repos request: {other:?}"),
    }
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    let id = |team| TeamRef::Id(team);
    match req {
        Request::ReposAvailable(team) => Reply::Available {
            team,
            result: conn.repos_available(id(team)).await.map_err(&fail),
        },
        Request::Track { team, names } => Reply::Tracked {
            team,
            result: conn.repos_track(id(team), names).await.map_err(&fail),
        },
        Request::Untrack { team, name } => {
            let result = conn
                .repos_untrack(id(team), vec![name.clone()])
                .await
                .map(drop)
                .map_err(&fail);
            Reply::Untracked { team, name, result }
        }
        other => unreachable!("not a repos request: {other:?}"),
    }
}
