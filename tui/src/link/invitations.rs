//! Invitation RPCs, run by the link like the others: each request gets exactly one reply, an
//! error worded for the screen when it fails.

use tidemark_protocol::TeamRef;

use crate::app::{Reply, Request};
use crate::client::{ClientError, Connection};

/// The failure reply of an invitation request.
pub fn failed(req: Request, err: String) -> Reply {
    match req {
        Request::ListInvitations => Reply::Invitations(Err(err)),
        Request::AnswerInvitation { team, name, .. } => Reply::Answered {
            team,
            name,
            result: Err(err),
        },
        other => unreachable!("not an invitation request: {other:?}"),
    }
}

/// Run an invitation request. `fail` words an error (and reports a lost connection).
pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Reply {
    match req {
        Request::ListInvitations => Reply::Invitations(conn.invitations().await.map_err(fail)),
        Request::AnswerInvitation { team, name, accept } => {
            // By id: the dialog showed this team, and a name may fit several invitations.
            let result = if accept {
                conn.invitation_accept(TeamRef::Id(team)).await.map(Some)
            } else {
                conn.invitation_decline(TeamRef::Id(team))
                    .await
                    .map(|()| None)
            };
            Reply::Answered {
                team,
                name,
                result: result.map_err(fail),
            }
        }
        other => unreachable!("not an invitation request: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invitation_request_has_a_failure_reply() {
        assert_eq!(
            failed(Request::ListInvitations, "down".into()),
            Reply::Invitations(Err("down".into()))
        );
        assert_eq!(
            failed(
                Request::AnswerInvitation {
                    team: 7,
                    name: "platform".into(),
                    accept: true
                },
                "down".into()
            ),
            Reply::Answered {
                team: 7,
                name: "platform".into(),
                result: Err("down".into())
            }
        );
    }
}
