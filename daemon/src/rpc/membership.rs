//! `team_add_member`, `team_remove_member`, `team_members`: who belongs to a team.
//!
//! Owners manage membership; anyone may leave a team; the last owner can neither leave nor be
//! demoted (the store refuses it under its write lock). Operators may manage the membership of
//! any team (see `auth.rs`); that is logged at warn level.
//!
//! Nobody is made a member by someone else: adding a user who is not a member yet invites them
//! (`invitations.rs`), and only their acceptance makes the membership. Otherwise any owner
//! could put anyone into a team named like one of theirs, and the look-alike would sit in the
//! victim's list. Only the caller themself joins at once (an operator recovering a team);
//! changing the role of a member needs no acceptance.

use super::service::{Service, store_err};
use crate::auth::{Need, resolve_user, user_name};
use crate::store::{self, Role};
use tidemark_protocol::{
    self as wire, MemberAdded, RpcError, TeamMembership, TeamRef, UserInfo, UserRef,
};

pub(super) fn store_role(r: wire::Role) -> Role {
    match r {
        wire::Role::Owner => Role::Owner,
        wire::Role::Admin => Role::Admin,
        wire::Role::Member => Role::Member,
    }
}

impl Service {
    fn membership_info(&self, m: &store::Membership) -> Result<TeamMembership, RpcError> {
        Ok(TeamMembership {
            user: self.user_info(m.uid)?,
            role: crate::wire::role(m.role),
            since: m.created_at,
        })
    }

    /// The user as the store knows them (their name when they last called or were added),
    /// else as the system does.
    pub(super) fn user_info(&self, uid: u32) -> Result<UserInfo, RpcError> {
        let name = match self.shared.store.user(uid).map_err(store_err)? {
            Some(u) => u.name,
            None => user_name(uid),
        };
        Ok(UserInfo { uid, name })
    }

    pub(super) async fn add_member(
        &self,
        team: &TeamRef,
        user: &UserRef,
        role: wire::Role,
    ) -> Result<MemberAdded, RpcError> {
        let (found, operator) = self.team_for_membership(team, Need::Own)?;
        let (uid, name) = resolve_user(user)?;
        let store = &self.shared.store;
        store.upsert_user(uid, &name).map_err(store_err)?;
        let is_member = store
            .membership(found.id, uid)
            .map_err(store_err)?
            .is_some();
        if !is_member && uid != self.caller.uid {
            let invitation = store
                .invite(found.id, uid, store_role(role), self.caller.uid)
                .map_err(store_err)?;
            self.durable().await?;
            if operator {
                tracing::warn!(
                    team = found.id,
                    by_uid = self.caller.uid,
                    uid,
                    role = role.as_str(),
                    "operator invited a user into a team it does not own"
                );
            } else {
                tracing::info!(
                    team = found.id,
                    by_uid = self.caller.uid,
                    uid,
                    role = role.as_str(),
                    "team invitation sent"
                );
            }
            return Ok(MemberAdded::Invited(
                self.invitation_info(&found, &invitation)?,
            ));
        }
        let m = store
            .set_membership(found.id, uid, store_role(role))
            .map_err(store_err)?;
        self.durable().await?;
        if operator {
            tracing::warn!(
                team = found.id,
                by_uid = self.caller.uid,
                uid,
                role = role.as_str(),
                "operator changed the membership of a team it does not own"
            );
        } else {
            tracing::info!(
                team = found.id,
                by_uid = self.caller.uid,
                uid,
                role = role.as_str(),
                "team membership set"
            );
        }
        Ok(MemberAdded::Member(self.membership_info(&m)?))
    }

    pub(super) async fn remove_member(
        &self,
        team: &TeamRef,
        user: &UserRef,
    ) -> Result<(), RpcError> {
        let (uid, _) = resolve_user(user)?;
        // Leaving needs only membership; removing someone else needs ownership.
        let need = if uid == self.caller.uid {
            Need::Read
        } else {
            Need::Own
        };
        let (found, operator) = self.team_for_membership(team, need)?;
        let store = &self.shared.store;
        if store
            .membership(found.id, uid)
            .map_err(store_err)?
            .is_none()
        {
            // Not a member: an owner may still withdraw the user's invitation.
            if need == Need::Own
                && store
                    .invitation(found.id, uid)
                    .map_err(store_err)?
                    .is_some()
            {
                return self.withdraw(&found, uid, operator).await;
            }
            return Err(RpcError::NotFound(format!(
                "{user} as a member of team '{}'",
                found.name
            )));
        }
        store.remove_membership(found.id, uid).map_err(store_err)?;
        self.durable().await?;
        if operator {
            tracing::warn!(
                team = found.id,
                by_uid = self.caller.uid,
                uid,
                "operator removed a member of a team it does not own"
            );
        } else {
            tracing::info!(
                team = found.id,
                by_uid = self.caller.uid,
                uid,
                "team member removed"
            );
        }
        Ok(())
    }

    async fn withdraw(&self, team: &store::Team, uid: u32, operator: bool) -> Result<(), RpcError> {
        self.shared
            .store
            .remove_invitation(team.id, uid)
            .map_err(store_err)?;
        self.durable().await?;
        if operator {
            tracing::warn!(
                team = team.id,
                by_uid = self.caller.uid,
                uid,
                "operator withdrew an invitation into a team it does not own"
            );
        } else {
            tracing::info!(
                team = team.id,
                by_uid = self.caller.uid,
                uid,
                "team invitation withdrawn"
            );
        }
        Ok(())
    }

    pub(super) fn members_of(&self, team: &TeamRef) -> Result<Vec<TeamMembership>, RpcError> {
        let (found, _) = self.team_for_membership(team, Need::Read)?;
        let mut all = self
            .shared
            .store
            .memberships(found.id)
            .map_err(store_err)?
            .iter()
            .map(|m| self.membership_info(m))
            .collect::<Result<Vec<_>, _>>()?;
        let rank = |r: wire::Role| match r {
            wire::Role::Owner => 0,
            wire::Role::Admin => 1,
            wire::Role::Member => 2,
        };
        all.sort_by(|a, b| {
            (rank(a.role), &a.user.name, a.user.uid).cmp(&(rank(b.role), &b.user.name, b.user.uid))
        });
        Ok(all)
    }
}
