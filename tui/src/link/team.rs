//! The team screen's RPCs, run by the link like the others: each request gets exactly one
//! reply, an error worded for the screen when it fails.

use std::collections::BTreeMap;
use std::time::Duration;

use tidemark_protocol::{MetricsGrouping, MetricsQuery, PrInfo, PrQuery, TeamRef};

use crate::app::team_state::{MetricsData, PeopleData};
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
        Request::LoadPulls { team, load } => Reply::Pulls {
            team,
            load,
            result: Err(err),
        },
        Request::LoadPeople { team, since } => Reply::People {
            team,
            since,
            result: Err(err),
        },
        Request::LoadMetrics { team, since } => Reply::Metrics {
            team,
            since,
            result: Err(err),
        },
        Request::SyncNow(team) => Reply::SyncStarted {
            team,
            result: Err(err),
        },
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
        Request::RotateSecret(team) => Reply::Rotated {
            team,
            result: Err(err),
        },
        Request::Timeline { team, repo, number } => Reply::Timeline {
            team,
            repo,
            number,
            result: Err(err),
        },
        other => unreachable!("not a team-screen request: {other:?}"),
    }
}

fn metrics_query(team: u64, since: i64, by: MetricsGrouping, include_bots: bool) -> MetricsQuery {
    MetricsQuery {
        team: TeamRef::Id(team),
        since: Some(since),
        by,
        include_bots,
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
        Request::LoadPulls { team, load } => Reply::Pulls {
            team,
            load,
            result: load_pulls(conn, team).await.map_err(&fail),
        },
        Request::LoadPeople { team, since } => {
            let result = async {
                let members = conn.members(id(team)).await?;
                let by_member = conn
                    .metrics(metrics_query(team, since, MetricsGrouping::Member, true))
                    .await?;
                let reviews_given: BTreeMap<String, u64> = conn
                    .reviewers(id(team), Some(since))
                    .await?
                    .into_iter()
                    .map(|r| (r.login, r.reviews))
                    .collect();
                Ok(PeopleData {
                    members,
                    by_member,
                    reviews_given,
                })
            }
            .await
            .map_err(&fail);
            Reply::People {
                team,
                since,
                result,
            }
        }
        Request::LoadMetrics { team, since } => {
            let result = async {
                let weekly = conn
                    .metrics(metrics_query(team, since, MetricsGrouping::Week, false))
                    .await?;
                let total = conn
                    .metrics(metrics_query(team, since, MetricsGrouping::Team, false))
                    .await?
                    .pop();
                Ok(Box::new(MetricsData { weekly, total }))
            }
            .await
            .map_err(&fail);
            Reply::Metrics {
                team,
                since,
                result,
            }
        }
        Request::SyncNow(team) => Reply::SyncStarted {
            team,
            result: conn.sync_start(id(team)).await.map_err(&fail),
        },
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
        Request::RotateSecret(team) => Reply::Rotated {
            team,
            result: conn.webhook_rotate_secret(id(team)).await.map_err(&fail),
        },
        Request::Timeline { team, repo, number } => {
            let result = conn
                .pull_request_timeline(id(team), repo.clone(), number)
                .await
                .map_err(&fail);
            Reply::Timeline {
                team,
                repo,
                number,
                result,
            }
        }
        other => unreachable!("not a team-screen request: {other:?}"),
    }
}
