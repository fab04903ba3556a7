//! Opening a link in the user's browser, shared by the CLI and the TUI: only where a browser can
//! show up (a graphical session, or macOS), only http(s) links, and never waiting for the opener.
//!
//! The link never goes on a command line: any local user can read another's (`/proc/PID/
//! cmdline`, `ps`), and the web flow's authorize link carries its `state`. The opener is given
//! a page instead, a small HTML file that sends the browser on (`<meta http-equiv=refresh>`),
//! written 0600 in a private 0700 directory ([`page_dir`]) and removed a minute after the
//! opener is done, at the next open, or when the client exits ([`remove_pages`]).
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How long a page stays once its opener is done: the browser reads it after the opener
/// returns (an opener hands the path to a running browser and exits).
pub const PAGE_LIFETIME: Duration = Duration::from_secs(60);
const PAGE_PREFIX: &str = "open-";
const PAGE_SUFFIX: &str = ".html";

/// Whether a browser opened from here can appear in front of the user: macOS, or a graphical
/// session (`DISPLAY` or `WAYLAND_DISPLAY` set and not empty). Over plain SSH there is none, and
/// `xdg-open` would start a text browser inside our terminal.
pub fn display_available() -> bool {
    display_available_in(|name| std::env::var_os(name), cfg!(target_os = "macos"))
}

/// [`display_available`] with the environment and the platform passed in, for tests.
pub fn display_available_in(env: impl Fn(&str) -> Option<OsString>, macos: bool) -> bool {
    macos
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|name| env(name).is_some_and(|value| !value.is_empty()))
}

/// The program that opens a link with the desktop's default browser.
pub fn opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    }
}

/// Only web links are handed to the opener: anything else (a path, `file:`, a custom scheme)
/// could start some other program.
pub fn is_web_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !url.chars().any(char::is_whitespace)
}

/// Where pages go: `$XDG_RUNTIME_DIR/tidemark-browser` when the runtime dir is the user's own
/// and private (as systemd makes it), else `DATA_DIR/browser`. Either is created 0700.
pub fn page_dir(data_dir: &Path) -> PathBuf {
    page_dir_in(std::env::var_os("XDG_RUNTIME_DIR"), data_dir)
}

/// [`page_dir`] with the runtime dir passed in, for tests.
pub fn page_dir_in(runtime_dir: Option<OsString>, data_dir: &Path) -> PathBuf {
    runtime_dir
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| private_dir(d).is_ok())
        .map_or_else(|| data_dir.join("browser"), |d| d.join("tidemark-browser"))
}

/// A directory that is ours alone: a real directory (not a symlink), owned by us, with no
/// permission for group or others.
fn private_dir(dir: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(dir)?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let mode = meta.permissions().mode() & 0o777;
    if !meta.is_dir() || meta.uid() != euid || mode & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a private directory of this user (mode {mode:04o}, uid {})",
                dir.display(),
                meta.uid()
            ),
        ));
    }
    Ok(())
}

/// The page that sends a browser on to `url` (a checked web link), escaped for HTML.
pub fn page_html(url: &str) -> String {
    let url = html_escape(url);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0; url={url}\">\n\
         <title>tidemark</title></head>\n\
         <body><p>Opening <a href=\"{url}\" rel=\"noreferrer\">{url}</a>…</p></body></html>\n"
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Pages this process wrote and has not removed yet.
static PAGES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Write the page for `url` in `dir` (created 0700 if missing; refused if not private):
/// a new file, 0600, never one that was there before.
pub fn write_page(dir: &Path, url: &str) -> io::Result<PathBuf> {
    if !is_web_link(url) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a web link; open it yourself",
        ));
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    private_dir(dir)?;
    sweep(dir, SystemTime::now());
    // O_EXCL, 0600, a random name: nothing that was already there is written to.
    let mut file = tempfile::Builder::new()
        .prefix(PAGE_PREFIX)
        .suffix(PAGE_SUFFIX)
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(page_html(url).as_bytes())?;
    let (_, path) = file.keep().map_err(|e| e.error)?;
    PAGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(path.clone());
    Ok(path)
}

/// Remove pages in `dir` older than [`PAGE_LIFETIME`] (left by a client that exited early).
fn sweep(dir: &Path, now: SystemTime) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(PAGE_PREFIX) && name.ends_with(PAGE_SUFFIX)) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= PAGE_LIFETIME));
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn remove_page(path: &Path) {
    let _ = fs::remove_file(path);
    PAGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|p| p != path);
}

/// Remove every page this process wrote (when the TUI or a CLI command ends).
pub fn remove_pages() {
    let pages = std::mem::take(
        &mut *PAGES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for page in pages {
        let _ = fs::remove_file(page);
    }
}

/// The opener's command for a page: the page's path is its only argument.
pub fn opener_command(page: &Path) -> Command {
    let mut cmd = Command::new(opener());
    cmd.arg(page)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Open `url` through a page in `dir` ([`page_dir`]) and return at once. The opener is reaped
/// on a thread of its own, so neither the render loop nor the CLI ever waits for a browser; the
/// same thread removes the page a while after.
pub fn open(url: &str, dir: &Path) -> io::Result<()> {
    let page = write_page(dir, url)?;
    let mut child = match opener_command(&page).spawn() {
        Ok(child) => child,
        Err(err) => {
            remove_page(&page);
            return Err(io::Error::new(
                err.kind(),
                format!("cannot run {}: {err}", opener()),
            ));
        }
    };
    std::thread::spawn(move || {
        let _ = child.wait();
        std::thread::sleep(PAGE_LIFETIME);
        remove_page(&page);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn a_display_is_needed_except_on_macos() {
        assert!(!display_available_in(env(&[]), false));
        assert!(!display_available_in(env(&[("DISPLAY", "")]), false));
        assert!(display_available_in(env(&[("DISPLAY", ":0")]), false));
        assert!(display_available_in(
            env(&[("WAYLAND_DISPLAY", "wayland-0")]),
            false
        ));
        assert!(display_available_in(env(&[]), true));
    }

    #[test]
    fn only_web_links_are_opened() {
        assert!(is_web_link("https://github.com/login/device"));
        assert!(is_web_link("HTTP://127.0.0.1:8400/callback?x=1"));
        for bad in [
            "file:///etc/passwd",
            "/usr/bin/xterm",
            "javascript:alert(1)",
            "https://a b",
            "",
        ] {
            assert!(!is_web_link(bad), "{bad}");
            let dir = tempfile::tempdir().unwrap();
            assert!(open(bad, dir.path()).is_err(), "{bad}");
            assert!(
                !dir.path().join("x").exists() && fs::read_dir(dir.path()).unwrap().count() == 0,
                "no page written for {bad}"
            );
        }
    }

    const AUTHORIZE: &str = "https://github.com/login/oauth/authorize?client_id=Iv1&state=s3cr3t&redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcallback&x=<y>\"'";

    #[test]
    fn the_page_is_private_and_sends_the_browser_on() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("data").join("browser");
        let page = write_page(&dir, AUTHORIZE).unwrap();
        assert_eq!(page.parent().unwrap(), dir);
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("open-") && name.ends_with(".html"),
            "{name}"
        );
        let mode = |p: &Path| fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&page), 0o600);
        let html = fs::read_to_string(&page).unwrap();
        let escaped = "https://github.com/login/oauth/authorize?client_id=Iv1&amp;state=s3cr3t&amp;\
                       redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcallback&amp;x=&lt;y&gt;&quot;&#39;";
        assert!(
            html.contains(&format!(
                "<meta http-equiv=\"refresh\" content=\"0; url={escaped}\">"
            )),
            "{html}"
        );
        assert!(html.contains(&format!("<a href=\"{escaped}\"")), "{html}");
        assert!(html.contains("no-referrer"), "{html}");
        assert!(!html.contains("<y>"), "escaped: {html}");
        // The opener gets the page's path, never the link.
        let cmd = opener_command(&page);
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, [page.as_os_str()]);
        assert!(!format!("{cmd:?}").contains("s3cr3t"));
        remove_pages();
        assert!(!page.exists(), "removed at exit");
    }

    #[test]
    fn pages_are_refused_in_a_directory_others_can_reach() {
        let base = tempfile::tempdir().unwrap();
        let shared = base.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        let err = write_page(&shared, AUTHORIZE).unwrap_err();
        assert!(err.to_string().contains("not a private directory"), "{err}");
        assert_eq!(fs::read_dir(&shared).unwrap().count(), 0);
        // Nor through a symlink to a private one.
        let private = base.path().join("private");
        fs::create_dir(&private).unwrap();
        fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&private, &link).unwrap();
        assert!(write_page(&link, AUTHORIZE).is_err());
        assert_eq!(fs::read_dir(&private).unwrap().count(), 0);
    }

    #[test]
    fn the_runtime_dir_is_used_only_when_it_is_private() {
        let base = tempfile::tempdir().unwrap();
        let data = base.path().join("data");
        let runtime = base.path().join("run");
        fs::create_dir(&runtime).unwrap();
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(
            page_dir_in(Some(runtime.clone().into()), &data),
            runtime.join("tidemark-browser")
        );
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            page_dir_in(Some(runtime.into()), &data),
            data.join("browser")
        );
        assert_eq!(page_dir_in(None, &data), data.join("browser"));
        assert_eq!(page_dir_in(Some("".into()), &data), data.join("browser"));
    }

    #[test]
    fn old_pages_are_swept_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        // Written by hand: `remove_pages` of a test running beside this one must not take it.
        let old = dir.path().join("open-left-behind.html");
        fs::write(&old, page_html("https://example.com/a")).unwrap();
        let other = dir.path().join("notes.txt");
        fs::write(&other, "keep").unwrap();
        sweep(dir.path(), SystemTime::now());
        assert!(old.exists(), "younger than a minute");
        sweep(dir.path(), SystemTime::now() + PAGE_LIFETIME);
        assert!(!old.exists());
        assert!(other.exists());
    }
}
