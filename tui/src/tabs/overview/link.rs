//! The Overview tab's RPC: rolling the webhook secret.

use tidemark_protocol::TeamRef;

use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::RotateSecret(team) => Reply::Rotated {
            team,
            result: Err(err),
        },
        other => unreachable!("not an overview request: {other:?}"),
    }
}

pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    let Request::RotateSecret(team) = req else {
        unreachable!("not an overview request: {req:?}");
    };
    Reply::Rotated {
        team,
        result: conn
            .webhook_rotate_secret(TeamRef::Id(team))
            .await
            .map_err(&fail),
    }
}
