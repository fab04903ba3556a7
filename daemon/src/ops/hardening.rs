//! Process hardening at start: no core dumps and no ptrace/`/proc/PID/mem` reads by other
//! processes of the same user, so decrypted tokens and keys cannot leak through a crash dump or
//! a debugger attach.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

#[derive(Debug, thiserror::Error)]
pub enum HardeningError {
    #[error("cannot turn core dumps off (setrlimit RLIMIT_CORE 0): {0}")]
    Rlimit(std::io::Error),
    #[error("cannot mark the process non-dumpable (prctl PR_SET_DUMPABLE 0): {0}")]
    Dumpable(std::io::Error),
}

/// Turn core dumps off for this process (soft and hard limit 0, so they cannot be turned back
/// on) and make it non-dumpable (also refuses ptrace attach by non-root processes).
pub fn disable_core_dumps() -> Result<(), HardeningError> {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid pointer to an initialised rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
        return Err(HardeningError::Rlimit(std::io::Error::last_os_error()));
    }
    // SAFETY: PR_SET_DUMPABLE takes one integer argument; the rest are ignored.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(HardeningError::Dumpable(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Whether core dumps are off as [`disable_core_dumps`] leaves them.
pub fn core_dumps_disabled() -> bool {
    let mut lim = libc::rlimit {
        rlim_cur: 1,
        rlim_max: 1,
    };
    // SAFETY: valid pointer; PR_GET_DUMPABLE takes no argument.
    let rlimit_ok = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) } == 0
        && lim.rlim_cur == 0
        && lim.rlim_max == 0;
    rlimit_ok && unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_dumps_are_off_after_hardening() {
        // Changes this test process only; nothing else here wants core dumps.
        disable_core_dumps().unwrap();
        assert!(core_dumps_disabled());
    }
}
