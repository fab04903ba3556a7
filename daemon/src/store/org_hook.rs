//! A team's organization webhook: its id on GitHub, or why it has none. One record per team,
//! removed with the integration (`disconnect_github`) and with the team.

use super::keys::{Key, Kind, TeamId};
use super::records::OrgHook;
use super::{Result, Store};

pub(super) fn org_hook_key(team: TeamId) -> Key {
    Key::new(team, Kind::OrgHook)
}

impl Store {
    /// The team's organization hook record, if one was ever written.
    pub fn org_hook(&self, team: TeamId) -> Result<Option<OrgHook>> {
        self.get(Kind::OrgHook, org_hook_key(team))
    }

    /// Record the team's organization hook (or why there is none). Refused when the team is no
    /// longer connected to that organization (a disconnect raced with the hook's creation).
    pub fn put_org_hook(&self, hook: &OrgHook) -> Result<()> {
        let mut w = self.writer();
        let connected = self
            .github_integration(hook.team_id)?
            .is_some_and(|g| g.organization_id == hook.organization_id);
        if !connected {
            return Err(super::StoreError::NotFound(format!(
                "a GitHub integration of team #{} with organization {}",
                hook.team_id, hook.organization_id
            )));
        }
        w.put(org_hook_key(hook.team_id), hook);
        w.commit()
    }
}
