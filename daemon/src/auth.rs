//! Who is calling: the peer credentials of the Unix socket, and whether they may be served.

use tidemark_protocol::RpcError;

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

/// Which callers this daemon serves. For now: its own user and root. (Team roles for several
/// users come with the system service.)
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

    pub fn authorize(&self, caller: &Caller) -> Result<(), RpcError> {
        if caller.uid == self.daemon_uid || caller.uid == 0 {
            return Ok(());
        }
        Err(RpcError::PermissionDenied(format!(
            "user {} (uid {}) may not use this daemon: it serves only its own user {} (uid {}) \
             and root; run your own daemon, or ask its owner",
            caller.name,
            caller.uid,
            user_name(self.daemon_uid),
            self.daemon_uid
        )))
    }
}

/// The login name of a uid, or the number when the system does not know it.
pub fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives the use of pwd's fields.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return uid.to_string();
    }
    // SAFETY: getpwuid_r succeeded, so pw_name points at a NUL-terminated string inside buf.
    unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_its_own_user_and_root_only() {
        let policy = Policy { daemon_uid: 1000 };
        assert!(policy.authorize(&Caller::new(1000, None)).is_ok());
        assert!(policy.authorize(&Caller::new(0, None)).is_ok());
        let err = policy.authorize(&Caller::new(1001, Some(42))).unwrap_err();
        assert!(matches!(err, RpcError::PermissionDenied(_)));
        assert!(err.to_string().contains("uid 1001"), "{err}");
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "4000000000");
    }
}
