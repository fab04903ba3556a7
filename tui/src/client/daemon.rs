//! The daemon itself (protocol v10): what runs and with which settings, reloading its config,
//! stopping it, and saving the GitHub OAuth app in its config.

use tidemark_protocol::{DaemonInfo, GitHubAppReport, GitHubAppRequest, ReloadReport};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    pub async fn daemon_info(&self) -> Result<DaemonInfo, ClientError> {
        let reply = self.client.daemon_info(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    /// Read the config file again and apply what changed (operators only).
    pub async fn daemon_reload(&self) -> Result<ReloadReport, ClientError> {
        let reply = self.client.daemon_reload(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    /// Stop the daemon, or restart it (operators only). It answers before it goes.
    pub async fn daemon_stop(&self, restart: bool) -> Result<(), ClientError> {
        let reply = self
            .client
            .daemon_stop(context_with(CALL_DEADLINE), restart)
            .await;
        self.flatten(reply)
    }

    /// Save the OAuth app's client id (and secret) in the daemon's config and apply it
    /// (operators only).
    pub async fn github_app_set(
        &self,
        request: GitHubAppRequest,
    ) -> Result<GitHubAppReport, ClientError> {
        let reply = self
            .client
            .github_app_set(context_with(CALL_DEADLINE), request)
            .await;
        self.flatten(reply)
    }
}
