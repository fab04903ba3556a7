//! The daemon itself over RPC: what runs and with which settings for anyone who may connect;
//! stop, restart, reload and the GitHub app's settings for its operators (its own user, root).

use super::service::Shared;
use crate::auth::Caller;
use crate::connect::github_app_info;
use crate::context::runtime::{self, AppError, Stop};
use crate::crypto::Secret;
use tidemark_protocol::{
    DaemonInfo, GitHubAppReport, GitHubAppRequest, PROTOCOL_VERSION, ReloadReport, RpcError,
};

pub(super) fn operator(shared: &Shared, caller: &Caller) -> Result<(), RpcError> {
    if shared.policy.is_operator(caller) {
        Ok(())
    } else {
        Err(RpcError::PermissionDenied(format!(
            "only the daemon's own user ({}) and root may stop, restart, reload or configure it",
            crate::auth::user_name(shared.policy.daemon_uid)
        )))
    }
}

pub(super) fn info(shared: &Shared, caller: &Caller) -> DaemonInfo {
    let life = &shared.runtime;
    let state = life.config();
    DaemonInfo {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_version: PROTOCOL_VERSION,
        started_at: life.started_at,
        uptime_secs: life.uptime().as_secs(),
        user: crate::auth::user_name(shared.policy.daemon_uid),
        data_dir: life.data_dir.display().to_string(),
        socket: life.socket.display().to_string(),
        config_file: state.file.as_ref().map(|f| f.path.display().to_string()),
        config_file_exists: state.file.as_ref().is_some_and(|f| f.path.exists()),
        settings: state.current.describe(),
        managed_by: life.managed_by.clone(),
        github: github_app_info(shared),
        caller_may_operate: shared.policy.is_operator(caller),
    }
}

fn settings_err(e: impl std::fmt::Display) -> RpcError {
    RpcError::invalid("settings", e.to_string())
}

pub(super) async fn reload(shared: &std::sync::Arc<Shared>) -> Result<ReloadReport, RpcError> {
    runtime::reload(shared).map_err(settings_err)
}

pub(super) fn stop(shared: &Shared, caller: &Caller, restart: bool) -> Result<(), RpcError> {
    let how = if restart { Stop::Restart } else { Stop::Exit };
    tracing::info!(uid = caller.uid, ?how, "stop asked for over RPC");
    shared.runtime.request_stop(how);
    Ok(())
}

pub(super) async fn github_app_set(
    shared: &std::sync::Arc<Shared>,
    request: GitHubAppRequest,
) -> Result<GitHubAppReport, RpcError> {
    let secret = request.client_secret.map(Secret::new);
    let reload =
        match runtime::set_github_app(shared, &request.client_id, secret, request.clear_secret) {
            Ok(report) => report,
            Err(AppError::Invalid { field, reason }) => {
                return Err(RpcError::invalid(field, reason));
            }
            Err(e @ AppError::NoFile) => return Err(RpcError::NotConfigured(e.to_string())),
            Err(AppError::Settings(e)) => return Err(settings_err(e)),
        };
    Ok(GitHubAppReport {
        config_file: reload.config_file.clone().unwrap_or_default(),
        github: github_app_info(shared),
        reload,
    })
}
