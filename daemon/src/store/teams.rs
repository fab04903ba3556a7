//! Teams and team membership.

use super::keys::{Key, Kind, TeamId, team_prefix};
use super::records::{Membership, Role, Team};
use super::schema::{team_name_entry_key, team_name_prefix};
use super::{Result, Store, StoreError, Writer, decode, now};

/// The next team id to hand out (global space, kind Meta). Team ids are ours, not sled's id
/// generator's: sled reserves ranges of ids, so after a restart its next id jumps by about a
/// million (`#1`, then `#2000001`), and people type team ids (`--team '#2'`).
pub(crate) fn next_team_id_key() -> Key {
    Key::global(Kind::Meta).bytes(NEXT_TEAM_ID)
}

const NEXT_TEAM_ID: &[u8] = b"next_team_id";

fn team_key(team: TeamId) -> Key {
    Key::new(team, Kind::Team)
}

pub(super) fn membership_key(team: TeamId, uid: u32) -> Key {
    Key::new(team, Kind::Membership).u32(uid)
}

/// Reverse index: the teams of a user, for listing and for deleting the user.
pub(super) fn user_team_key(uid: u32, team: TeamId) -> Key {
    Key::global(Kind::UserTeam).u32(uid).u64(team)
}

/// The name as stored (NFC), or why it cannot be one.
fn check_name(name: &str) -> Result<String> {
    tidemark_protocol::normalize_team_name(name).map_err(|reason| StoreError::Rejected {
        field: "team name",
        reason,
    })
}

impl Store {
    /// Create a team; `owner` (a known user) becomes its owner in the same step. A name is
    /// unique among the owner's teams (other users' teams may have it too: saying so would tell
    /// that they exist); with no owner, among all teams.
    pub fn create_team(&self, name: &str, owner: Option<u32>) -> Result<Team> {
        let name = &check_name(name)?;
        let mut w = self.writer();
        if self.name_taken(name, owner, None)? {
            return Err(StoreError::Conflict(format!("a team named '{name}'")));
        }
        if let Some(uid) = owner
            && self.user(uid)?.is_none()
        {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        let team = Team {
            id: self.allocate_team_id(&mut w)?,
            name: name.clone(),
            created_at: now(),
        };
        w.put(team_key(team.id), &team);
        w.put(team_name_entry_key(name, team.id), &team.id);
        if let Some(uid) = owner {
            let membership = Membership {
                team_id: team.id,
                uid,
                role: Role::Owner,
                created_at: team.created_at,
            };
            w.put(membership_key(team.id, uid), &membership);
            w.put(user_team_key(uid, team.id), &());
        }
        w.commit()?;
        Ok(team)
    }

    /// The next team id, its successor written in `w`'s batch (the team's own), under the
    /// write lock `w` holds. A store without the counter (created before it, or restored from
    /// such a backup) continues after the highest team id holding any record.
    fn allocate_team_id(&self, w: &mut Writer<'_>) -> Result<TeamId> {
        // Never 0 (the global space), and never an id whose prefix holds records.
        let after_highest = self.highest_team_prefix()? + 1;
        let next = match self
            .db()?
            .get(next_team_id_key())
            .map_err(|e| self.sled_error(e))?
        {
            Some(bytes) => decode::<TeamId>(Kind::Meta, &bytes)?.max(after_highest),
            None => after_highest,
        };
        w.put(next_team_id_key(), &(next + 1));
        Ok(next)
    }

    /// The highest team id any key starts with (0: only the global space). Keys sort by their
    /// big-endian team prefix, so it is the last key's.
    fn highest_team_prefix(&self) -> Result<TeamId> {
        Ok(match self.db()?.last().map_err(|e| self.sled_error(e))? {
            Some((key, _)) => super::keys::read_u64(&key, 0).unwrap_or(0),
            None => 0,
        })
    }

    pub fn team(&self, id: TeamId) -> Result<Option<Team>> {
        if id == super::keys::GLOBAL {
            return Ok(None);
        }
        self.get(Kind::Team, team_key(id))
    }

    /// The first team (lowest id) with this name, ignoring case. Callers acting for a user
    /// use [`Store::teams_by_name`] and keep that user's.
    pub fn team_by_name(&self, name: &str) -> Result<Option<Team>> {
        Ok(self.teams_by_name(name)?.into_iter().next())
    }

    /// Every team with this name, ignoring case, by id.
    pub fn teams_by_name(&self, name: &str) -> Result<Vec<Team>> {
        let name = tidemark_protocol::nfc(name);
        let mut teams = Vec::new();
        for id in self.scan::<TeamId>(Kind::TeamName, team_name_prefix(&name))? {
            if let Some(team) = self.team(id)? {
                teams.push(team);
            }
        }
        Ok(teams)
    }

    /// Is `name` taken for a team of `uid` (of anyone, with no uid), other than `except`?
    fn name_taken(&self, name: &str, uid: Option<u32>, except: Option<TeamId>) -> Result<bool> {
        for team in self.teams_by_name(name)? {
            if Some(team.id) == except {
                continue;
            }
            match uid {
                None => return Ok(true),
                Some(uid) if self.membership(team.id, uid)?.is_some() => return Ok(true),
                Some(_) => {}
            }
        }
        Ok(false)
    }

    /// Every team, by name.
    pub fn teams(&self) -> Result<Vec<Team>> {
        let mut teams = Vec::new();
        for id in self.scan::<TeamId>(Kind::TeamName, Key::global(Kind::TeamName))? {
            if let Some(team) = self.team(id)? {
                teams.push(team);
            }
        }
        Ok(teams)
    }

    /// The teams a user belongs to, with the user's role, by name.
    pub fn teams_of_user(&self, uid: u32) -> Result<Vec<(Team, Role)>> {
        let prefix = Key::global(Kind::UserTeam).u32(uid);
        let mut teams = Vec::new();
        for key in self.scan_keys(&prefix)? {
            let Some(team_id) = super::keys::read_u64(&key, prefix.as_ref().len()) else {
                continue;
            };
            if let (Some(team), Some(m)) = (self.team(team_id)?, self.membership(team_id, uid)?) {
                teams.push((team, m.role));
            }
        }
        teams.sort_by_key(|(t, _)| t.name.to_lowercase());
        Ok(teams)
    }

    /// Rename a team. The new name must be free among the teams of `by` (the user renaming),
    /// or among all teams with no user.
    pub fn rename_team(&self, id: TeamId, new_name: &str, by: Option<u32>) -> Result<Team> {
        let new_name = &check_name(new_name)?;
        let mut w = self.writer();
        let mut team = self
            .team(id)?
            .ok_or_else(|| StoreError::NotFound(format!("team #{id}")))?;
        if self.name_taken(new_name, by, Some(id))? {
            return Err(StoreError::Conflict(format!("a team named '{new_name}'")));
        }
        w.remove(team_name_entry_key(&team.name, id));
        team.name = new_name.clone();
        w.put(team_name_entry_key(new_name, id), &id);
        w.put(team_key(id), &team);
        w.commit()?;
        Ok(team)
    }

    /// Delete a team and every record it owns, in one atomic step. Returns how many records went.
    pub fn delete_team(&self, id: TeamId) -> Result<u64> {
        let mut w = self.writer();
        let team = self
            .team(id)?
            .ok_or_else(|| StoreError::NotFound(format!("team #{id}")))?;
        // Uids from the keys, not the values: a corrupt membership must not block the delete.
        let prefix = Key::new(id, Kind::Membership);
        for key in self.scan_keys(&prefix)? {
            if let Some(uid) = super::keys::read_u32(&key, prefix.as_ref().len()) {
                w.remove(user_team_key(uid, id));
            }
        }
        w.remove(team_name_entry_key(&team.name, id));
        let keys = self.scan_keys(team_prefix(id))?;
        let removed = keys.len() as u64;
        for key in keys {
            w.remove(key);
        }
        // Its waiting webhook deliveries too (their frames go with their spool segments),
        // under the lock `inbox_add` checks the team's existence with.
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.commit()?;
        Ok(removed + waiting.remove_team(id) as u64)
    }

    pub fn membership(&self, team: TeamId, uid: u32) -> Result<Option<Membership>> {
        self.get(Kind::Membership, membership_key(team, uid))
    }

    pub fn memberships(&self, team: TeamId) -> Result<Vec<Membership>> {
        self.scan(Kind::Membership, Key::new(team, Kind::Membership))
    }

    /// Add a user to a team, or change their role. Refused when it would demote the team's last
    /// owner. Adds without asking: the RPC layer makes anyone but the caller themself accept an
    /// invitation first (`invitations.rs`); this is what accepting does, and what changes the
    /// role of a member (checked under the store's write lock, so two owners demoting each other at once
    /// cannot both succeed).
    pub fn set_membership(&self, team: TeamId, uid: u32, role: Role) -> Result<Membership> {
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        if self.user(uid)?.is_none() {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        let before = self.membership(team, uid)?;
        if role != Role::Owner && before.as_ref().is_some_and(|m| m.role == Role::Owner) {
            self.check_not_last_owner(team, uid)?;
        }
        let created_at = before.map_or_else(now, |m| m.created_at);
        let m = Membership {
            team_id: team,
            uid,
            role,
            created_at,
        };
        w.put(membership_key(team, uid), &m);
        w.put(user_team_key(uid, team), &());
        // A member is never also invited (see `invitations.rs`).
        w.remove(super::invitations::invitation_key(team, uid));
        w.commit()?;
        Ok(m)
    }

    /// Remove a user from a team; refused for the team's last owner.
    pub fn remove_membership(&self, team: TeamId, uid: u32) -> Result<()> {
        let mut w = self.writer();
        let Some(m) = self.membership(team, uid)? else {
            return Err(StoreError::NotFound(format!(
                "membership of user {uid} in team #{team}"
            )));
        };
        if m.role == Role::Owner {
            self.check_not_last_owner(team, uid)?;
        }
        w.remove(membership_key(team, uid));
        w.remove(user_team_key(uid, team));
        w.commit()
    }

    /// `uid` is an owner of `team` who is about to stop being one: refuse if no other owner
    /// remains. A team always keeps an owner, or nobody could manage or delete it.
    fn check_not_last_owner(&self, team: TeamId, uid: u32) -> Result<()> {
        let others = self
            .memberships(team)?
            .iter()
            .filter(|m| m.role == Role::Owner && m.uid != uid)
            .count();
        if others == 0 {
            return Err(StoreError::Rejected {
                field: "user",
                reason: "this is the team's last owner; make someone else owner first (or \
                         delete the team)"
                    .into(),
            });
        }
        Ok(())
    }
}
