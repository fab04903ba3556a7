//! The Metrics tab's RPCs: weekly and whole-team metrics over the period, in one reply.

use tidemark_protocol::{MetricsGrouping, MetricsQuery, TeamRef};

use super::MetricsData;
use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::LoadMetrics { team, since } => Reply::Metrics {
            team,
            since,
            result: Err(err),
        },
        other => unreachable!("not a metrics request: {other:?}"),
    }
}

pub(crate) fn metrics_query(
    team: u64,
    since: i64,
    by: MetricsGrouping,
    include_bots: bool,
) -> MetricsQuery {
    MetricsQuery {
        team: TeamRef::Id(team),
        since: Some(since),
        by,
        include_bots,
    }
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    let Request::LoadMetrics { team, since } = req else {
        unreachable!("not a metrics request: {req:?}");
    };
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
