//! The People tab's RPCs: members, per-member metrics (bots included) and reviews given over
//! the period, in one reply.

use std::collections::BTreeMap;

use tidemark_protocol::{MetricsGrouping, TeamRef};

use super::PeopleData;
use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};
use crate::tabs::metrics::link::metrics_query;

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::LoadPeople { team, since } => Reply::People {
            team,
            since,
            result: Err(err),
        },
        other => unreachable!("not a people request: {other:?}"),
    }
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    let Request::LoadPeople { team, since } = req else {
        unreachable!("not a people request: {req:?}");
    };
    let id = |team| TeamRef::Id(team);
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
