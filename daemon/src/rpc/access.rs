//! Which team a call may touch. Every method that names a team goes through [`Service::team`]
//! (or [`Service::team_for_membership`]), so the rule lives in one place:
//!
//! - a team the caller does not belong to answers exactly as a team that does not exist: the
//!   same `NotFound`, built from the caller's own words (`team #7`, `team 'x'`), so ids and
//!   names cannot be probed;
//! - a member whose role is too low gets `PermissionDenied`, naming the role needed (they know
//!   the team exists, so nothing is revealed).

use super::service::{Service, store_err};
use crate::auth::{Need, allows};
use crate::store::{self, Role};
use tidemark_protocol::{RpcError, TeamRef};

/// The answer for a team the caller cannot see, whether or not it exists.
pub(crate) fn not_found(team: &TeamRef) -> RpcError {
    RpcError::NotFound(team.to_string())
}

fn denied(team: &store::Team, role: Role, need: Need) -> RpcError {
    let needed = match need {
        Need::Read => "member",
        Need::Manage => "admin or owner",
        Need::Own => "owner",
    };
    RpcError::PermissionDenied(format!(
        "this needs the {needed} role in team '{}', and you are {} {}; an owner can change \
         that (tidemark team add-member)",
        team.name,
        if role == Role::Admin || role == Role::Owner {
            "an"
        } else {
            "a"
        },
        role.as_str()
    ))
}

/// A name that fits several of the teams the caller may act on.
pub(crate) fn ambiguous(team: &TeamRef, ids: impl Iterator<Item = u64>) -> RpcError {
    let ids: Vec<String> = ids.map(|id| format!("#{id}")).collect();
    RpcError::InvalidArgument {
        field: "team".into(),
        reason: format!(
            "several of your teams are called {} ({}): name one by its #id",
            match team {
                TeamRef::Name(n) => format!("'{n}'"),
                TeamRef::Id(id) => format!("#{id}"),
            },
            ids.join(", ")
        ),
    }
}

impl Service {
    /// The team `team` names and the caller's role in it, if the caller belongs to it.
    fn visible(&self, team: &TeamRef) -> Result<Option<(store::Team, Role)>, RpcError> {
        let store = &self.shared.store;
        let candidates = match team {
            TeamRef::Id(id) => store.team(*id).map(|t| t.into_iter().collect()),
            TeamRef::Name(name) => store.teams_by_name(name),
        }
        .map_err(store_err)?;
        // Only the caller's own teams count: other users may have teams of the same name.
        let mut mine = Vec::new();
        for found in candidates {
            if let Some(m) = store
                .membership(found.id, self.caller.uid)
                .map_err(store_err)?
            {
                mine.push((found, m.role));
            }
        }
        if mine.len() > 1 {
            return Err(ambiguous(team, mine.iter().map(|(t, _)| t.id)));
        }
        Ok(mine.pop())
    }

    /// The team a call names, if the caller's role there allows `need`.
    pub(super) fn team(&self, team: &TeamRef, need: Need) -> Result<store::Team, RpcError> {
        match self.visible(team)? {
            Some((found, role)) if allows(role, need) => Ok(found),
            Some((found, role)) => Err(denied(&found, role, need)),
            None => Err(not_found(team)),
        }
    }

    /// For the membership calls: as [`Service::team`], except that an operator (root, the
    /// daemon's user) may manage the membership of any team, to recover one whose owners are
    /// gone. Returns the team and whether that operator exception was used.
    pub(super) fn team_for_membership(
        &self,
        team: &TeamRef,
        need: Need,
    ) -> Result<(store::Team, bool), RpcError> {
        match self.team(team, need) {
            Ok(found) => Ok((found, false)),
            Err(e) if self.shared.policy.is_operator(&self.caller) => {
                let store = &self.shared.store;
                let mut found: Vec<store::Team> = match team {
                    TeamRef::Id(id) => store.team(*id).map(|t| t.into_iter().collect()),
                    TeamRef::Name(name) => store.teams_by_name(name),
                }
                .map_err(store_err)?;
                match found.len() {
                    0 => Err(e),
                    1 => Ok((found.remove(0), true)),
                    _ => Err(ambiguous(team, found.iter().map(|t| t.id))),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The teams the caller belongs to, by name, with the caller's role.
    pub(super) fn my_teams(&self) -> Result<Vec<(store::Team, Role)>, RpcError> {
        self.shared
            .store
            .teams_of_user(self.caller.uid)
            .map_err(store_err)
    }
}
