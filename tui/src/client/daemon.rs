//! The calls about the daemon itself: `tidemark daemon status|stop|restart|reload`,
//! `tidemark setup github`, and the TUI's daemon panel and GitHub setup.

use tidemark_protocol::{DaemonInfo, GitHubAppReport, GitHubAppRequest, ReloadReport};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    pub async fn daemon_info(&self) -> Result<DaemonInfo, ClientError> {
        let reply = self.client.daemon_info(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    pub async fn daemon_reload(&self) -> Result<ReloadReport, ClientError> {
        let reply = self.client.daemon_reload(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    /// Ask the daemon to stop (or restart). It answers before it goes; the connection then
    /// closes.
    pub async fn daemon_stop(&self, restart: bool) -> Result<(), ClientError> {
        let reply = self
            .client
            .daemon_stop(context_with(CALL_DEADLINE), restart)
            .await;
        self.flatten(reply)
    }

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
