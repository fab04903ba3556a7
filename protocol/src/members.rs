//! Team membership on the wire: who belongs to a team, with which role, and how a command line
//! names a local user.

use crate::types::{Role, UserInfo};
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
