//! The Delivery tab's RPCs: the team's DORA report and its weekly one over the period with the
//! rules (one reply), a preview of edited rules, and saving them.

use tidemark_protocol::TeamRef;
use tidemark_protocol::delivery::{DoraGrouping, DoraQuery};

use super::DeliveryData;
use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::LoadDelivery { team, since } => Reply::Delivery {
            team,
            since,
            result: Err(err),
        },
        Request::DeliveryPreview { team, config } => Reply::DeliveryPreview {
            team,
            config,
            result: Err(err),
        },
        Request::SaveDeliveryRules { team, .. } => Reply::DeliverySaved {
            team,
            result: Err(err),
        },
        other => unreachable!("not a delivery request: {other:?}"),
    }
}

/// The items (what each figure counts) come with the team's report; the weeks' trends need
/// only their figures.
fn query(team: u64, since: i64, by: DoraGrouping) -> DoraQuery {
    DoraQuery {
        team: TeamRef::Id(team),
        since: Some(since),
        until: None,
        by,
        config: None,
        explain: by == DoraGrouping::Team,
    }
}

/// The tab's data: the team's report, its weeks (the trends) and its rules.
pub async fn load(conn: &Connection, team: u64, since: i64) -> Result<DeliveryData, ClientError> {
    let report = conn.dora(query(team, since, DoraGrouping::Team)).await?;
    let weekly = conn.dora(query(team, since, DoraGrouping::Week)).await?;
    let config = conn.delivery_config(TeamRef::Id(team)).await?;
    Ok(DeliveryData::new(report, weekly, config))
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    match req {
        Request::LoadDelivery { team, since } => Reply::Delivery {
            team,
            since,
            result: load(conn, team, since).await.map(Box::new).map_err(&fail),
        },
        Request::DeliveryPreview { team, config } => {
            // The same two reports as `tidemark delivery config set` compares.
            let result = conn
                .dora_preview(TeamRef::Id(team), (*config).clone())
                .await
                .map(Box::new)
                .map_err(&fail);
            Reply::DeliveryPreview {
                team,
                config,
                result,
            }
        }
        Request::SaveDeliveryRules { team, config } => Reply::DeliverySaved {
            team,
            result: conn
                .delivery_config_set(TeamRef::Id(team), *config)
                .await
                .map_err(&fail),
        },
        other => unreachable!("not a delivery request: {other:?}"),
    }
}
