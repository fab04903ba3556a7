//! The Pull requests tab's RPCs: the team's pull requests (one call per tracked repository)
//! and one pull request's timeline.

use tidemark_protocol::{PrInfo, PrQuery, TeamRef};

use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::LoadPulls { team, load } => Reply::Pulls {
            team,
            load,
            result: Err(err),
        },
        Request::Timeline { team, repo, number } => Reply::Timeline {
            team,
            repo,
            number,
            result: Err(err),
        },
        other => unreachable!("not a pull requests request: {other:?}"),
    }
}

/// Every tracked repository's pull requests, one call per repository: a reply carrying a whole
/// big team at once could pass the client's frame limit (16 MB, about 70,000 pull requests).
async fn load_pulls(conn: &Connection, team: u64) -> Result<Vec<PrInfo>, ClientError> {
    let mut all = Vec::new();
    for repo in conn.tracked_repos(TeamRef::Id(team)).await? {
        let query = PrQuery {
            team: TeamRef::Id(team),
            repo: Some(repo.full_name),
            state: None,
            limit: 0,
        };
        all.extend(conn.pull_requests(query).await?);
    }
    Ok(all)
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    match req {
        Request::LoadPulls { team, load } => Reply::Pulls {
            team,
            load,
            result: load_pulls(conn, team).await.map_err(&fail),
        },
        Request::Timeline { team, repo, number } => {
            let result = conn
                .pull_request_timeline(TeamRef::Id(team), repo.clone(), number)
                .await
                .map_err(&fail);
            Reply::Timeline {
                team,
                repo,
                number,
                result,
            }
        }
        other => unreachable!("not a pull requests request: {other:?}"),
    }
}
