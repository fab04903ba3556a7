//! The daemon itself over RPC: info for anyone, stop/reload/configure for operators.
//! (Being filled in: settings and reload land next.)

use super::service::Shared;
use crate::auth::Caller;
use tidemark_protocol::{
    DaemonInfo, GitHubAppInfo, GitHubAppReport, GitHubAppRequest, ReloadReport, RpcError,
};

pub(super) fn operator(shared: &Shared, caller: &Caller) -> Result<(), RpcError> {
    if shared.policy.is_operator(caller) {
        Ok(())
    } else {
        Err(RpcError::PermissionDenied(
            "only the daemon's own user and root may stop, reload or configure it".into(),
        ))
    }
}

pub(super) fn info(shared: &Shared, caller: &Caller) -> DaemonInfo {
    let g = &shared.connector.github;
    let web = crate::github::trim_base(&g.web_url);
    DaemonInfo {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_version: tidemark_protocol::PROTOCOL_VERSION,
        started_at: 0,
        uptime_secs: 0,
        user: String::new(),
        data_dir: String::new(),
        socket: String::new(),
        config_file: None,
        config_file_exists: false,
        settings: vec![],
        managed_by: None,
        github: GitHubAppInfo {
            configured: g.client_id.is_some(),
            has_secret: g.client_secret.is_some(),
            register_url: format!("{web}/settings/applications/new"),
            callback_url: "http://127.0.0.1/oauth/callback".into(),
            web_url: web,
        },
        caller_may_operate: shared.policy.is_operator(caller),
    }
}

pub(super) async fn reload(_shared: &Shared) -> Result<ReloadReport, RpcError> {
    Err(RpcError::Internal("reload: not built yet".into()))
}

pub(super) fn stop(_shared: &Shared, _caller: &Caller, _restart: bool) -> Result<(), RpcError> {
    Err(RpcError::Internal("stop: not built yet".into()))
}

pub(super) async fn github_app_set(
    _shared: &Shared,
    _request: GitHubAppRequest,
) -> Result<GitHubAppReport, RpcError> {
    Err(RpcError::Internal("github_app_set: not built yet".into()))
}
