//! Invitations (protocol v12): `team_invitations` for a team's members, and the invited user's
//! own `invitations`, `invitation_accept` and `invitation_decline`.
//!
//! An invitation names its team to the invited user only: a team they are invited to is found
//! among their invitations, never among teams at large, so naming another team answers exactly
//! as a team that does not exist (the same `NotFound`, worded from the caller's argument), and
//! nobody can accept or decline an invitation that is not theirs.

use super::access::{ambiguous, not_found};
use super::service::{Service, store_err};
use crate::auth::Need;
use crate::store::{self, StoreError};
use tidemark_protocol::{Invitation, RpcError, TeamInfo, TeamRef};

impl Service {
    pub(super) fn invitation_info(
        &self,
        team: &store::Team,
        invitation: &store::Invitation,
    ) -> Result<Invitation, RpcError> {
        Ok(Invitation {
            team_id: team.id,
            team_name: team.name.clone(),
            user: self.user_info(invitation.uid)?,
            role: crate::wire::role(invitation.role),
            invited_by: self.user_info(invitation.invited_by)?,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at(),
        })
    }

    /// A team's pending invitations (its members see them; operators too, as membership).
    pub(super) fn invitations_of_team(&self, team: &TeamRef) -> Result<Vec<Invitation>, RpcError> {
        let (found, _) = self.team_for_membership(team, Need::Read)?;
        self.shared
            .store
            .team_invitations(found.id)
            .map_err(store_err)?
            .iter()
            .map(|i| self.invitation_info(&found, i))
            .collect()
    }

    /// The caller's own pending invitations.
    pub(super) fn my_invitations(&self) -> Result<Vec<Invitation>, RpcError> {
        self.shared
            .store
            .invitations_of_user(self.caller.uid)
            .map_err(store_err)?
            .iter()
            .map(|(team, i)| self.invitation_info(team, i))
            .collect()
    }

    /// The team `team` names among those the caller is invited to.
    fn invited_to(&self, team: &TeamRef) -> Result<store::Team, RpcError> {
        let store = &self.shared.store;
        let candidates = match team {
            TeamRef::Id(id) => store.team(*id).map(|t| t.into_iter().collect()),
            TeamRef::Name(name) => store.teams_by_name(name),
        }
        .map_err(store_err)?;
        let mut mine = Vec::new();
        for found in candidates {
            if store
                .invitation(found.id, self.caller.uid)
                .map_err(store_err)?
                .is_some()
            {
                mine.push(found);
            }
        }
        if mine.len() > 1 {
            return Err(ambiguous(team, mine.iter().map(|t| t.id)));
        }
        mine.pop().ok_or_else(|| not_found(team))
    }

    pub(super) async fn accept(&self, team: &TeamRef) -> Result<TeamInfo, RpcError> {
        let found = self.invited_to(team)?;
        let m = self
            .shared
            .store
            .accept_invitation(found.id, self.caller.uid)
            .map_err(|e| gone_or(e, team))?;
        self.durable().await?;
        tracing::info!(
            team = found.id,
            uid = self.caller.uid,
            role = m.role.as_str(),
            "team invitation accepted"
        );
        Ok(crate::wire::team(&found, Some(m.role)))
    }

    pub(super) async fn decline(&self, team: &TeamRef) -> Result<(), RpcError> {
        let found = self.invited_to(team)?;
        self.shared
            .store
            .remove_invitation(found.id, self.caller.uid)
            .map_err(|e| gone_or(e, team))?;
        self.durable().await?;
        tracing::info!(
            team = found.id,
            uid = self.caller.uid,
            "team invitation declined"
        );
        Ok(())
    }
}

/// An invitation withdrawn, expired or deleted with its team between the lookup and the change
/// answers as if it had never been there.
fn gone_or(e: StoreError, team: &TeamRef) -> RpcError {
    match e {
        StoreError::NotFound(_) => not_found(team),
        other => store_err(other),
    }
}
