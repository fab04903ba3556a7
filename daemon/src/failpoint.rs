//! Crash on purpose at a named point when `TIDEMARK_FAILPOINT` names it: the crash tests kill
//! the daemon at chosen steps (a token refresh, between a webhook's acknowledgement and its
//! application) this way. Unset in normal use; costs one environment read per process.

pub fn hit(name: &str) {
    static POINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let point = POINT.get_or_init(|| std::env::var("TIDEMARK_FAILPOINT").ok());
    if point.as_deref() == Some(name) {
        eprintln!("tidemarkd: failpoint {name}: aborting");
        std::process::abort();
    }
}
