//! Local OS users, known by uid.

use super::keys::{Key, Kind};
use super::records::{IntegrationCredential, User};
use super::teams::{membership_key, user_team_key};
use super::{Result, Store, StoreError, now};

fn user_key(uid: u32) -> Key {
    Key::global(Kind::User).u32(uid)
}

impl Store {
    /// Record a user the first time they call, and keep their name current.
    pub fn upsert_user(&self, uid: u32, name: &str) -> Result<User> {
        let mut w = self.writer();
        let user = match self.user(uid)? {
            Some(user) if user.name == name => return Ok(user),
            Some(user) => User {
                name: name.to_string(),
                ..user
            },
            None => User {
                uid,
                name: name.to_string(),
                created_at: now(),
            },
        };
        w.put(user_key(uid), &user);
        w.commit()?;
        Ok(user)
    }

    pub fn user(&self, uid: u32) -> Result<Option<User>> {
        self.get(Kind::User, user_key(uid))
    }

    /// Delete a user: their memberships and invitations go, and credentials they connected stay with
    /// `connected_by` cleared. One atomic step.
    pub fn delete_user(&self, uid: u32) -> Result<()> {
        let mut w = self.writer();
        if self.user(uid)?.is_none() {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        for team in self.teams()? {
            w.remove(membership_key(team.id, uid));
            w.remove(user_team_key(uid, team.id));
            w.remove(super::invitations::invitation_key(team.id, uid));
            for cred in self.credentials(team.id)? {
                if cred.connected_by == Some(uid) {
                    let cleared = IntegrationCredential {
                        connected_by: None,
                        ..cred
                    };
                    w.put(
                        super::integrations::credential_key(team.id, cleared.provider),
                        &cleared,
                    );
                }
            }
        }
        w.remove(user_key(uid));
        w.commit()
    }
}
