//! Team membership on the wire: who belongs to a team, with which role, who is invited, and how
//! a command line names a local user.

use crate::types::{Role, TeamId, UserInfo};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A local OS user, as typed: a login name (resolved by the daemon with `getpwnam`) or a uid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRef {
    Uid(u32),
    Name(String),
}

impl UserRef {
    /// All digits: a uid; anything else: a login name.
    pub fn parse(text: &str) -> UserRef {
        match text.parse::<u32>() {
            Ok(uid) if text.bytes().all(|b| b.is_ascii_digit()) => UserRef::Uid(uid),
            _ => UserRef::Name(text.to_string()),
        }
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserRef::Uid(uid) => write!(f, "uid {uid}"),
            UserRef::Name(name) => write!(f, "user '{name}'"),
        }
    }
}

impl Role {
    /// Parse a role as typed (`owner`, `admin`, `member`; any case).
    pub fn parse(text: &str) -> Option<Role> {
        match text.to_ascii_lowercase().as_str() {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// One user's membership of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembership {
    pub user: UserInfo,
    pub role: Role,
    /// When the user joined (Unix seconds).
    pub since: i64,
}

/// An invitation into a team (protocol v12): the invited user becomes a member, with `role`,
/// only by accepting it. Until then they see nothing of the team but this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub team_id: TeamId,
    pub team_name: String,
    /// Who is invited.
    pub user: UserInfo,
    pub role: Role,
    pub invited_by: UserInfo,
    /// When it was sent, or last sent again (Unix seconds).
    pub created_at: i64,
    /// After this it is ignored, as if never sent (Unix seconds).
    pub expires_at: i64,
}

/// What `team_add_member` did (protocol v12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberAdded {
    /// The user was a member already (or is the caller): their role is set.
    Member(TeamMembership),
    /// The user is not a member: they are invited, and join by accepting.
    Invited(Invitation),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_uids_and_the_rest_names() {
        assert_eq!(UserRef::parse("1000"), UserRef::Uid(1000));
        assert_eq!(UserRef::parse("alice"), UserRef::Name("alice".into()));
        assert_eq!(UserRef::parse("+12"), UserRef::Name("+12".into()));
        assert_eq!(
            UserRef::parse("99999999999"),
            UserRef::Name("99999999999".into())
        );
        assert_eq!(Role::parse("Admin"), Some(Role::Admin));
        assert_eq!(Role::parse("boss"), None);
    }
}
