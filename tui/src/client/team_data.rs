//! The RPCs added for the TUI's team screen (protocol v5): reviews given, a pull request's
//! timeline.

use tidemark_protocol::{PrTimeline, ReviewerCount, TeamRef};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    pub async fn reviewers(
        &self,
        team: TeamRef,
        since: Option<i64>,
    ) -> Result<Vec<ReviewerCount>, ClientError> {
        let reply = self
            .client
            .reviewers(context_with(CALL_DEADLINE), team, since)
            .await;
        self.flatten(reply)
    }

    pub async fn pull_request_timeline(
        &self,
        team: TeamRef,
        repo: String,
        number: u64,
    ) -> Result<PrTimeline, ClientError> {
        let reply = self
            .client
            .pull_request_timeline(context_with(CALL_DEADLINE), team, repo, number)
            .await;
        self.flatten(reply)
    }
}
