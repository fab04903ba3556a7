//! The membership calls: `team add-member`, `remove-member`, `members`.

use tidemark_protocol::{Role, TeamMembership, TeamRef, UserRef};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    pub async fn team_add_member(
        &self,
        team: TeamRef,
        user: UserRef,
        role: Role,
    ) -> Result<TeamMembership, ClientError> {
        let reply = self
            .client
            .team_add_member(context_with(CALL_DEADLINE), team, user, role)
            .await;
        self.flatten(reply)
    }

    pub async fn team_remove_member(
        &self,
        team: TeamRef,
        user: UserRef,
    ) -> Result<(), ClientError> {
        let reply = self
            .client
            .team_remove_member(context_with(CALL_DEADLINE), team, user)
            .await;
        self.flatten(reply)
    }

    pub async fn team_members(&self, team: TeamRef) -> Result<Vec<TeamMembership>, ClientError> {
        let reply = self
            .client
            .team_members(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }
}
