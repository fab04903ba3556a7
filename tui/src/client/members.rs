//! The membership calls: `team add-member`, `remove-member`, `members`, and invitations.

use tidemark_protocol::{
    Invitation, MemberAdded, Role, TeamInfo, TeamMembership, TeamRef, UserRef,
};

use super::{CALL_DEADLINE, ClientError, Connection, context_with};

impl Connection {
    /// Invites a user who is not a member yet; changes a member's role.
    pub async fn team_add_member(
        &self,
        team: TeamRef,
        user: UserRef,
        role: Role,
    ) -> Result<MemberAdded, ClientError> {
        let reply = self
            .client
            .team_add_member(context_with(CALL_DEADLINE), team, user, role)
            .await;
        self.flatten(reply)
    }

    /// Removes a member, or withdraws an invitation.
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

    /// A team's pending invitations.
    pub async fn team_invitations(&self, team: TeamRef) -> Result<Vec<Invitation>, ClientError> {
        let reply = self
            .client
            .team_invitations(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    /// The caller's own pending invitations.
    pub async fn invitations(&self) -> Result<Vec<Invitation>, ClientError> {
        let reply = self.client.invitations(context_with(CALL_DEADLINE)).await;
        self.flatten(reply)
    }

    pub async fn invitation_accept(&self, team: TeamRef) -> Result<TeamInfo, ClientError> {
        let reply = self
            .client
            .invitation_accept(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }

    pub async fn invitation_decline(&self, team: TeamRef) -> Result<(), ClientError> {
        let reply = self
            .client
            .invitation_decline(context_with(CALL_DEADLINE), team)
            .await;
        self.flatten(reply)
    }
}
