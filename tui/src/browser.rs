//! Opening a link in the user's browser, shared by the CLI and the TUI: only where a browser can
//! show up (a graphical session, or macOS), only http(s) links, and never waiting for the opener.

use std::ffi::OsString;
use std::io;
use std::process::{Command, Stdio};

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

/// Start the opener on `url` and return at once. The child is reaped on a thread of its own, so
/// neither the render loop nor the CLI ever waits for a browser.
pub fn open(url: &str) -> io::Result<()> {
    if !is_web_link(url) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a web link; open it yourself",
        ));
    }
    let mut child = Command::new(opener())
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| io::Error::new(err.kind(), format!("cannot run {}: {err}", opener())))?;
    std::thread::spawn(move || {
        let _ = child.wait();
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
            assert!(open(bad).is_err(), "{bad}");
        }
    }
}
