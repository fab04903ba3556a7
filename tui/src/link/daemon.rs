//! The daemon's own RPCs (info, reload, GitHub setup), run by the link like the others: each
//! request gets exactly one reply, its error worded for the screen. The operator-only calls tell
//! a refusal (the daemon belongs to someone else) from other failures, so the screen can say who
//! may do it.

use tidemark_protocol::RpcError;

use crate::app::{OperateError, Reply, Request};
use crate::client::{ClientError, Connection};

/// The failure reply of a daemon request; `None` for [`Request::StartDaemon`], which has none.
pub fn failed(req: Request, err: String) -> Option<Reply> {
    Some(match req {
        Request::DaemonInfo => Reply::DaemonInfo(Err(err)),
        Request::DaemonReload => Reply::Reloaded(Err(OperateError::Failed(err))),
        Request::GithubAppSet(_) => Reply::GithubAppSaved(Err(OperateError::Failed(err))),
        Request::StartDaemon => return None,
        other => unreachable!("not a daemon request: {other:?}"),
    })
}

fn operate_error(err: ClientError, fail: impl Fn(ClientError) -> String) -> OperateError {
    match err {
        ClientError::Rpc(denied @ RpcError::PermissionDenied(_)) => {
            OperateError::Denied(denied.to_string())
        }
        err => OperateError::Failed(fail(err)),
    }
}

/// Run a daemon request. `fail` words an error (and reports a lost connection).
pub async fn perform(
    conn: &Connection,
    req: Request,
    fail: impl Fn(ClientError) -> String,
) -> Option<Reply> {
    Some(match req {
        Request::DaemonInfo => {
            Reply::DaemonInfo(conn.daemon_info().await.map(Box::new).map_err(fail))
        }
        Request::DaemonReload => Reply::Reloaded(
            conn.daemon_reload()
                .await
                .map_err(|err| operate_error(err, fail)),
        ),
        Request::GithubAppSet(request) => Reply::GithubAppSaved(
            conn.github_app_set(request)
                .await
                .map(Box::new)
                .map_err(|err| operate_error(err, fail)),
        ),
        // Only the reconnect loop acts on it; on a live connection there is nothing to start.
        Request::StartDaemon => return None,
        other => unreachable!("not a daemon request: {other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_told_from_other_failures() {
        let denied = ClientError::Rpc(RpcError::PermissionDenied(
            "only the daemon's own user and root may stop, reload or configure it".into(),
        ));
        assert_eq!(
            operate_error(denied, |e| e.to_string()),
            OperateError::Denied(
                "permission denied: only the daemon's own user and root may stop, reload or \
                 configure it"
                    .into()
            )
        );
        let other = ClientError::Rpc(RpcError::invalid("client_id", "empty"));
        assert_eq!(
            operate_error(other, |e| e.to_string()),
            OperateError::Failed("invalid client_id: empty".into())
        );
    }

    #[test]
    fn every_daemon_request_but_start_has_a_failure_reply() {
        assert_eq!(
            failed(Request::DaemonInfo, "down".into()),
            Some(Reply::DaemonInfo(Err("down".into())))
        );
        assert_eq!(failed(Request::StartDaemon, "down".into()), None);
    }
}
