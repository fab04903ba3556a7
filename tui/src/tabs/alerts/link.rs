//! The Alerts tab's RPCs: the breaches with the Slack link and the agreements (one reply), and
//! saving the agreements.

use tidemark_protocol::TeamRef;
use tidemark_protocol::agreements::AlertsQuery;

use super::{AlertsData, LIMIT};
use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::LoadAlerts { team, resolved } => Reply::Alerts {
            team,
            resolved,
            result: Err(err),
        },
        Request::SaveAgreements { team, .. } => Reply::AgreementsSaved {
            team,
            result: Err(err),
        },
        other => unreachable!("not an alerts request: {other:?}"),
    }
}

pub async fn load(conn: &Connection, team: u64, resolved: bool) -> Result<AlertsData, ClientError> {
    let alerts = conn
        .alerts(AlertsQuery {
            team: TeamRef::Id(team),
            include_resolved: resolved,
            since: None,
            limit: LIMIT,
        })
        .await?;
    let agreements = conn.agreements(TeamRef::Id(team)).await?;
    Ok(AlertsData { alerts, agreements })
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    match req {
        Request::LoadAlerts { team, resolved } => Reply::Alerts {
            team,
            resolved,
            result: load(conn, team, resolved)
                .await
                .map(Box::new)
                .map_err(&fail),
        },
        Request::SaveAgreements { team, agreements } => Reply::AgreementsSaved {
            team,
            result: conn
                .agreements_set(TeamRef::Id(team), *agreements)
                .await
                .map_err(&fail),
        },
        other => unreachable!("not an alerts request: {other:?}"),
    }
}
