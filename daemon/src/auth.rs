//! Who is calling (the peer credentials of the Unix socket), what a role allows, and how a
//! typed user name becomes a uid.
//!
//! The policy (see ARCHITECTURE.md, "Several users"): the socket's permissions decide who may
//! connect; everyone who connects may create teams and sees only the teams they belong to. In a
//! team, members read, admins also manage integrations, repositories, syncs and webhook secrets,
//! owners also manage membership and rename or delete the team. Root and the daemon's own user
//! are *operators*: they hold the key file and can read the store anyway, so they may manage the
//! membership of any team (to recover a team whose owners are gone), in the open (logged, and the
//! new member shows in `team members`); for everything else they are ordinary users.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use crate::store::Role;
use tidemark_protocol::UserRef;

/// The OS user at the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub pid: Option<i32>,
    pub name: String,
}

impl Caller {
    pub fn new(uid: u32, pid: Option<i32>) -> Caller {
        Caller {
            uid,
            pid,
            name: user_name(uid),
        }
    }
}

/// Who counts as an operator of this daemon.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub daemon_uid: u32,
}

impl Policy {
    pub fn current() -> Policy {
        // SAFETY: geteuid has no preconditions and cannot fail.
        Policy {
            daemon_uid: unsafe { libc::geteuid() },
        }
    }

    /// Root and the daemon's own user: they may manage the membership of any team.
    pub fn is_operator(&self, caller: &Caller) -> bool {
        caller.uid == 0 || caller.uid == self.daemon_uid
    }
}

/// What a call needs of the caller's role in the team it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Read the team's data: any member.
    Read,
    /// Integrations, repositories, syncs, webhook secrets: admins and owners.
    Manage,
    /// Membership, rename, delete: owners.
    Own,
}

impl Need {
    /// The least role that has this.
    pub fn least_role(self) -> Role {
        match self {
            Need::Read => Role::Member,
            Need::Manage => Role::Admin,
            Need::Own => Role::Owner,
        }
    }
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Member => 0,
        Role::Admin => 1,
        Role::Owner => 2,
    }
}

/// Whether `role` is enough for `need`.
pub fn allows(role: Role, need: Need) -> bool {
    rank(role) >= rank(need.least_role())
}

/// A user named on a command line, resolved on this machine: uid and login name.
///
/// A uid is taken as given, even without a passwd entry (containers, directory users not
/// enumerated), and named by its number then; a login name must exist (`getpwnam`).
pub fn resolve_user(user: &UserRef) -> Result<(u32, String), NoSuchUser> {
    match user {
        UserRef::Uid(uid) => Ok((*uid, user_name(*uid))),
        UserRef::Name(name) => match uid_of(name) {
            Some(uid) => Ok((uid, user_name(uid))),
            None => Err(NoSuchUser(name.clone())),
        },
    }
}

/// A login name the system does not know.
#[derive(Debug, thiserror::Error)]
#[error("there is no user named '{0}' on this machine (give a login name, or a numeric uid)")]
pub struct NoSuchUser(pub String);

pub use tidemark_protocol::users::{uid_of, user_name};

/// The gid of a group name (or a number), from the system's group database.
pub fn group_id(name: &str) -> Result<u32, String> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    let cname = std::ffi::CString::new(name).map_err(|_| format!("bad group name {name:?}"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: all-zero is a valid `group` (null pointers, zero gid) to be filled in.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: valid pointers and buffer length; the result is read only if non-null.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(format!(
            "no group named {name:?} (create it, e.g. `groupadd --system {name}`)"
        ));
    }
    Ok(grp.gr_gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_root_and_the_daemon_user() {
        let policy = Policy { daemon_uid: 1000 };
        assert!(policy.is_operator(&Caller::new(1000, None)));
        assert!(policy.is_operator(&Caller::new(0, None)));
        assert!(!policy.is_operator(&Caller::new(1001, Some(42))));
    }

    #[test]
    fn roles_are_ordered() {
        for (role, read, manage, own) in [
            (Role::Member, true, false, false),
            (Role::Admin, true, true, false),
            (Role::Owner, true, true, true),
        ] {
            assert_eq!(allows(role, Need::Read), read, "{role:?}");
            assert_eq!(allows(role, Need::Manage), manage, "{role:?}");
            assert_eq!(allows(role, Need::Own), own, "{role:?}");
        }
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "4000000000");
    }

    #[test]
    fn users_resolve_by_name_or_uid() {
        assert_eq!(resolve_user(&UserRef::Name("root".into())).unwrap().0, 0);
        assert_eq!(
            resolve_user(&UserRef::Uid(60_001)).unwrap(),
            (60_001, "60001".into())
        );
        let err = resolve_user(&UserRef::Name("no-such-user-tm".into())).unwrap_err();
        assert!(
            err.to_string().contains("no user named 'no-such-user-tm'"),
            "{err}"
        );
        assert!(resolve_user(&UserRef::Name("nul\0".into())).is_err());
    }
}
