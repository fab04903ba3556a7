//! `tidemarkd doctor`: checks that each end in one verdict line (ok, warn or fail).

use super::control;
use crate::crypto::{KEY_ENV, KEY_FILE, KeyFileRead, Keyring, read_key_file};
use crate::data_dir::store_dir;
use crate::store::health::Report;
use crate::store::{Space, Store, StoreError};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

/// Clock skew against GitHub's `Date` header from which doctor warns, and fails.
pub const SKEW_WARN_SECS: i64 = 30;
pub const SKEW_FAIL_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }

    pub fn parse(text: &str) -> Option<Verdict> {
        match text {
            "ok" => Some(Verdict::Ok),
            "warn" => Some(Verdict::Warn),
            "fail" => Some(Verdict::Fail),
            _ => None,
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = match self.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        };
        write!(f, "{v}  {}: {}", self.name, self.detail)
    }
}

pub struct Inputs {
    pub data_dir: PathBuf,
    pub socket: PathBuf,
    /// GitHub's web host (links in verdicts) and API.
    pub web_url: String,
    pub api_url: String,
    pub public_url: Option<String>,
}

pub(super) fn check(name: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        verdict,
        detail: detail.into(),
    }
}

/// Run every check, in order.
pub fn run(inputs: &Inputs) -> Vec<Check> {
    let (store_check, opened) = store(inputs);
    let mut out = vec![
        data_dir(inputs),
        disk_space(inputs),
        key(inputs),
        store_check,
        socket(inputs),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (reach, skew) = runtime.block_on(github(&inputs.api_url));
    out.push(reach);
    out.push(skew);
    out.push(runtime.block_on(webhook_url(inputs.public_url.as_deref())));
    out.extend(connections(inputs, opened.as_ref(), &runtime));
    out
}

/// Each connected team's GitHub connection (`connection.rs`): by the running daemon, which
/// holds the tokens, or here with the store `store()` opened when none runs.
fn connections(
    inputs: &Inputs,
    opened: Option<&Store>,
    runtime: &tokio::runtime::Runtime,
) -> Vec<Check> {
    const NAME: &str = "github connections";
    match control::github_checks(&inputs.data_dir) {
        Ok(Some(checks)) => return checks,
        Ok(None) => {}
        Err(e) => {
            return vec![check(
                NAME,
                Verdict::Fail,
                format!("the running daemon: {e}"),
            )];
        }
    }
    let Some(store) = opened else {
        return vec![check(
            NAME,
            Verdict::Warn,
            "not checked: the store could not be opened (see the store line)",
        )];
    };
    let keyring = match crate::crypto::load_keyring(&inputs.data_dir, false) {
        Ok((k, _)) => k,
        Err(e) => return vec![check(NAME, Verdict::Warn, format!("not checked: {e}"))],
    };
    let teams = match super::connection::stored_teams(store, &keyring) {
        Ok(t) => t,
        Err(e) => return vec![check(NAME, Verdict::Fail, format!("the store: {e}"))],
    };
    let api = crate::github::Api::new(crate::github::http_client(), &inputs.api_url);
    let cx = super::connection::Context {
        api: &api,
        web_url: &inputs.web_url,
        public_url: inputs.public_url.as_deref(),
    };
    runtime.block_on(super::connection::run(&cx, &teams))
}

fn data_dir(inputs: &Inputs) -> Check {
    let dir = &inputs.data_dir;
    match std::fs::metadata(dir) {
        Err(e) => check("data dir", Verdict::Fail, format!("{}: {e}", dir.display())),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o022 != 0 {
                check(
                    "data dir",
                    Verdict::Fail,
                    format!(
                        "{} has mode {mode:04o} (others can write): `chmod 700 {}`",
                        dir.display(),
                        dir.display()
                    ),
                )
            } else {
                check(
                    "data dir",
                    Verdict::Ok,
                    format!("{} (mode {mode:04o})", dir.display()),
                )
            }
        }
    }
}

/// The data dir's filesystem: free space against the margin below which the daemon refuses
/// webhook deliveries (`store/health.rs`).
fn disk_space(inputs: &Inputs) -> Check {
    const NAME: &str = "disk space";
    match Space::measure(&inputs.data_dir) {
        Err(e) => check(
            NAME,
            Verdict::Warn,
            format!("not measured ({}: {e})", inputs.data_dir.display()),
        ),
        Ok(space) if space.is_low() => check(
            NAME,
            Verdict::Warn,
            format!(
                "{space}: webhook deliveries are refused (503) until more is free on the data \
                 dir's filesystem"
            ),
        ),
        Ok(space) => check(NAME, Verdict::Ok, space.to_string()),
    }
}

/// The store check's verdict amended with the running daemon's view of its store's health.
fn with_health(mut c: Check, health: &Report) -> Check {
    if let Some(f) = &health.failure {
        c.verdict = Verdict::Fail;
        c.detail = format!(
            "the running daemon's store cannot write since {}: {}; {}",
            format_time(f.since),
            f.reason,
            c.detail
        );
    } else if let Some((since, reason, attempts)) = &health.spool {
        if c.verdict == Verdict::Ok {
            c.verdict = Verdict::Warn;
        }
        c.detail = format!(
            "webhook spool writes failing since {} ({attempts} batches in a row: {reason}); \
             deliveries are refused (503) meanwhile; {}",
            format_time(*since),
            c.detail
        );
    }
    if let Some(last) = health.last_reopen {
        c.detail.push_str(&format!(
            "; reopened {} time(s) after failed writes, last at {}",
            health.reopens,
            format_time(last)
        ));
    }
    c
}

fn key(inputs: &Inputs) -> Check {
    if let Some(text) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
        let text = crate::crypto::Secret::new(text.to_string_lossy().into_owned());
        return match Keyring::parse(text.expose(), KEY_ENV) {
            Ok(k) => check(
                "encryption key",
                Verdict::Ok,
                format!("{} key(s) from {KEY_ENV}", k.len()),
            ),
            Err(e) => check("encryption key", Verdict::Fail, e.to_string()),
        };
    }
    let path = inputs.data_dir.join(KEY_FILE);
    match read_key_file(&path) {
        Ok(keys) => match Keyring::from_secrets(&keys, &path.display().to_string()) {
            Ok(k) => check(
                "encryption key",
                Verdict::Ok,
                format!("{} key(s) in {} (mode 0600)", k.len(), path.display()),
            ),
            Err(e) => check("encryption key", Verdict::Fail, e.to_string()),
        },
        Err(KeyFileRead::Missing) => check(
            "encryption key",
            Verdict::Warn,
            format!(
                "{} does not exist yet (created on first start)",
                path.display()
            ),
        ),
        Err(KeyFileRead::Refused(e)) => check("encryption key", Verdict::Fail, e.to_string()),
    }
}

/// The store check, and the store when this process opened it (no daemon running), for the
/// connection checks.
fn store(inputs: &Inputs) -> (Check, Option<Store>) {
    let verdict = |r: crate::store::Integrity, how: &str| {
        if r.problems.is_empty() {
            check(
                "store",
                Verdict::Ok,
                format!(
                    "{} records and {} waiting webhook deliveries, all readable ({how})",
                    r.records, r.webhooks_waiting
                ),
            )
        } else {
            check(
                "store",
                Verdict::Fail,
                format!(
                    "{} of {} records and {} waiting webhook deliveries unreadable ({how}); first: {}",
                    r.problems.len(),
                    r.records,
                    r.webhooks_waiting,
                    r.problems[0]
                ),
            )
        }
    };
    match control::check(&inputs.data_dir) {
        Ok(Some((report, health))) => {
            let c = verdict(report, "checked by the running daemon");
            return (with_health(c, &health), None);
        }
        Ok(None) => {}
        Err(e) => {
            return (
                check("store", Verdict::Fail, format!("the running daemon: {e}")),
                None,
            );
        }
    }
    let dir = store_dir(&inputs.data_dir);
    if !dir.exists() {
        return (
            check(
                "store",
                Verdict::Warn,
                format!("no store yet in {}", dir.display()),
            ),
            None,
        );
    }
    if let Err(e) = super::ensure_owner(&inputs.data_dir, "check it") {
        return (
            check("store", Verdict::Warn, format!("not checked: {e}")),
            None,
        );
    }
    let opened = match Store::open(&dir) {
        Ok(s) => s,
        Err(StoreError::Locked(_)) => {
            return (
                check(
                    "store",
                    Verdict::Warn,
                    "held by a running tidemarkd whose control socket does not answer; not checked",
                ),
                None,
            );
        }
        Err(e) => return (check("store", Verdict::Fail, e.to_string()), None),
    };
    match opened.check_integrity() {
        Ok(report) => (verdict(report, "no daemon running"), Some(opened)),
        Err(e) => (check("store", Verdict::Fail, e.to_string()), Some(opened)),
    }
}

fn socket(inputs: &Inputs) -> Check {
    use std::os::unix::fs::FileTypeExt;
    let path = &inputs.socket;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return check(
            "socket",
            Verdict::Warn,
            format!("no daemon: {} does not exist", path.display()),
        );
    };
    let mode = meta.permissions().mode() & 0o777;
    if !meta.file_type().is_socket() {
        return check(
            "socket",
            Verdict::Fail,
            format!("{} is not a socket", path.display()),
        );
    }
    if mode & 0o007 != 0 {
        return check(
            "socket",
            Verdict::Fail,
            format!(
                "{} has mode {mode:04o}: other users can connect",
                path.display()
            ),
        );
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => check(
            "socket",
            Verdict::Ok,
            format!("{} accepts connections (mode {mode:04o})", path.display()),
        ),
        Err(e) => check(
            "socket",
            Verdict::Warn,
            format!("{} is stale, no daemon answers ({e})", path.display()),
        ),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tidemarkd-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client")
}

/// GitHub's API answers (any HTTP answer counts) and its `Date` is close to ours.
async fn github(api_url: &str) -> (Check, Check) {
    let sent = crate::store::now();
    let resp = match client().get(api_url).send().await {
        Ok(r) => r,
        Err(e) => {
            return (
                check(
                    "github",
                    Verdict::Fail,
                    format!("{api_url} unreachable: {e}"),
                ),
                check("clock", Verdict::Warn, "not checked (GitHub unreachable)"),
            );
        }
    };
    let reach = if resp.status().is_server_error() {
        check(
            "github",
            Verdict::Warn,
            format!("{api_url} answers {}", resp.status()),
        )
    } else {
        check(
            "github",
            Verdict::Ok,
            format!("{api_url} answers ({})", resp.status()),
        )
    };
    let date = resp
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date);
    let clock = match date {
        None => check(
            "clock",
            Verdict::Warn,
            "GitHub's answer has no usable Date header",
        ),
        Some(theirs) => {
            let skew = (sent + crate::store::now()) / 2 - theirs;
            let detail = format!("{skew:+} s against GitHub's Date header");
            if skew.abs() >= SKEW_FAIL_SECS {
                check(
                    "clock",
                    Verdict::Fail,
                    format!(
                        "{detail}: fix the clock (NTP); token expiry and webhook checks go wrong"
                    ),
                )
            } else if skew.abs() >= SKEW_WARN_SECS {
                check("clock", Verdict::Warn, format!("{detail}: enable NTP"))
            } else {
                check("clock", Verdict::Ok, detail)
            }
        }
    };
    (reach, clock)
}

/// The public URL reaches a tidemark webhook listener: an unsigned POST must come back 401
/// "bad signature" (our receiver's answer), which changes nothing in the store.
async fn webhook_url(public_url: Option<&str>) -> Check {
    let Some(base) = public_url else {
        return check(
            "webhook url",
            Verdict::Warn,
            "no --public-url: no webhooks, periodic syncs only",
        );
    };
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        crate::webhooks::receiver::PATH
    );
    let resp = client()
        .post(&url)
        .header(crate::github::hooks::headers::EVENT, "ping")
        .header(crate::github::hooks::headers::DELIVERY, "tidemark-doctor")
        .body("{}")
        .send()
        .await;
    match resp {
        Err(e) => check(
            "webhook url",
            Verdict::Fail,
            format!("{url} unreachable: {e}"),
        ),
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            if status == 401 && body.contains("bad signature") {
                check(
                    "webhook url",
                    Verdict::Ok,
                    format!("{url} reaches tidemarkd's listener"),
                )
            } else {
                check(
                    "webhook url",
                    Verdict::Fail,
                    format!(
                        "{url} answers {status}, not tidemarkd's listener (is the tunnel pointed at --webhook-addr?)"
                    ),
                )
            }
        }
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(secs: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::health::Failure;

    #[test]
    fn the_daemons_store_health_amends_the_store_verdict() {
        let ok = || check("store", Verdict::Ok, "3 records");
        assert_eq!(with_health(ok(), &Report::default()).verdict, Verdict::Ok);
        let failed = Report {
            failure: Some(Failure {
                since: 784_111_777,
                reason: "the disk is full".into(),
                disk_full: true,
            }),
            ..Report::default()
        };
        let c = with_health(ok(), &failed);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(
            c.detail.contains("cannot write since 1994-11-06"),
            "{}",
            c.detail
        );
        let spool = Report {
            spool: Some((784_111_777, "ENOSPC".into(), 4)),
            reopens: 1,
            last_reopen: Some(784_111_778),
            ..Report::default()
        };
        let c = with_health(ok(), &spool);
        assert_eq!(c.verdict, Verdict::Warn);
        assert!(c.detail.contains("4 batches in a row"), "{}", c.detail);
        assert!(c.detail.contains("reopened 1 time(s)"), "{}", c.detail);
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            super::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(super::parse_http_date("yesterday"), None);
        assert_eq!(super::format_time(784_111_777), "1994-11-06 08:49:37 UTC");
    }
}
