//! Invitations: a local user asked into a team, who becomes a member only by accepting. One
//! record per (team, uid) in the team's space, so deleting the team deletes its invitations.
//! A user is never both member and invited: inviting a member is refused, and a membership
//! written for any reason removes the invitation in the same batch.
//!
//! An invitation older than [`INVITATION_TTL_SECS`](super::records::INVITATION_TTL_SECS) is ignored by every read here (as if it
//! were not there) and removed by [`Store::prune_invitations`].

use super::keys::{Key, Kind, TeamId};
use super::records::{Invitation, Membership, Role, Team};
use super::teams::{membership_key, user_team_key};
use super::{Result, Store, StoreError, now};

pub(super) fn invitation_key(team: TeamId, uid: u32) -> Key {
    Key::new(team, Kind::Invitation).u32(uid)
}

fn no_invitation(team: TeamId, uid: u32) -> StoreError {
    StoreError::NotFound(format!("an invitation of user {uid} to team #{team}"))
}

impl Store {
    /// Invite `uid` into `team` with `role`, or send a pending invitation again (its role
    /// replaced, its two weeks started anew). Refused for a member: their role is changed with
    /// [`Store::set_membership`], which needs no acceptance.
    pub fn invite(
        &self,
        team: TeamId,
        uid: u32,
        role: Role,
        invited_by: u32,
    ) -> Result<Invitation> {
        self.invite_at(team, uid, role, invited_by, now())
    }

    /// [`Store::invite`] as of `at` (tests give an old time to see expiry).
    pub(crate) fn invite_at(
        &self,
        team: TeamId,
        uid: u32,
        role: Role,
        invited_by: u32,
        at: i64,
    ) -> Result<Invitation> {
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        if self.user(uid)?.is_none() {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        if self.membership(team, uid)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a membership of user {uid} in team #{team}"
            )));
        }
        let invitation = Invitation {
            team_id: team,
            uid,
            role,
            invited_by,
            created_at: at,
        };
        w.put(invitation_key(team, uid), &invitation);
        w.commit()?;
        Ok(invitation)
    }

    /// The pending invitation of `uid` to `team`, if one is live.
    pub fn invitation(&self, team: TeamId, uid: u32) -> Result<Option<Invitation>> {
        let found: Option<Invitation> = self.get(Kind::Invitation, invitation_key(team, uid))?;
        Ok(found.filter(|i| i.is_live(now())))
    }

    /// A team's live invitations, oldest first.
    pub fn team_invitations(&self, team: TeamId) -> Result<Vec<Invitation>> {
        let at = now();
        let mut all: Vec<Invitation> = self
            .scan::<Invitation>(Kind::Invitation, Key::new(team, Kind::Invitation))?
            .into_iter()
            .filter(|i| i.is_live(at))
            .collect();
        all.sort_by_key(|i| (i.created_at, i.uid));
        Ok(all)
    }

    /// The live invitations of a user, with their teams, by team name. Looked up team by team:
    /// a handful of teams share a daemon, and an index of its own would be one more thing for
    /// every path that deletes teams or users to keep right.
    pub fn invitations_of_user(&self, uid: u32) -> Result<Vec<(Team, Invitation)>> {
        let mut found = Vec::new();
        for team in self.teams()? {
            if let Some(invitation) = self.invitation(team.id, uid)? {
                found.push((team, invitation));
            }
        }
        found.sort_by(|(a, _), (b, _)| {
            (a.name.to_lowercase(), a.id).cmp(&(b.name.to_lowercase(), b.id))
        });
        Ok(found)
    }

    /// `uid` accepts their invitation to `team`: in one batch the invitation goes and a
    /// membership with the invited role comes (with the user's team index entry).
    pub fn accept_invitation(&self, team: TeamId, uid: u32) -> Result<Membership> {
        let mut w = self.writer();
        let invitation = self
            .invitation(team, uid)?
            .ok_or_else(|| no_invitation(team, uid))?;
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        w.remove(invitation_key(team, uid));
        // Never both: should a membership exist anyway, it stays as it is (accepting must not
        // demote an owner past the last-owner rule).
        let membership = match self.membership(team, uid)? {
            Some(existing) => existing,
            None => {
                let m = Membership {
                    team_id: team,
                    uid,
                    role: invitation.role,
                    created_at: now(),
                };
                w.put(membership_key(team, uid), &m);
                w.put(user_team_key(uid, team), &());
                m
            }
        };
        w.commit()?;
        Ok(membership)
    }

    /// Remove the pending invitation of `uid` to `team` (declined, or withdrawn by an owner);
    /// returns it. An expired one is removed too, but answers as not found.
    pub fn remove_invitation(&self, team: TeamId, uid: u32) -> Result<Invitation> {
        let mut w = self.writer();
        let key = invitation_key(team, uid);
        let stored: Option<Invitation> = self.get(Kind::Invitation, &key)?;
        let Some(invitation) = stored else {
            return Err(no_invitation(team, uid));
        };
        w.remove(key);
        w.commit()?;
        if invitation.is_live(now()) {
            Ok(invitation)
        } else {
            Err(no_invitation(team, uid))
        }
    }

    /// Delete every invitation that has expired by `at`; returns how many went.
    pub fn prune_invitations(&self, at: i64) -> Result<u64> {
        let mut w = self.writer();
        let mut gone = 0;
        for team in self.teams()? {
            let prefix = Key::new(team.id, Kind::Invitation);
            for invitation in self.scan::<Invitation>(Kind::Invitation, &prefix)? {
                if !invitation.is_live(at) {
                    w.remove(invitation_key(team.id, invitation.uid));
                    gone += 1;
                }
            }
        }
        if gone > 0 {
            w.commit()?;
        }
        Ok(gone)
    }
}
