//! Human output of `tidemark daemon status|reload` and `tidemark setup github`.

use std::fmt::Write as _;

use tidemark_protocol::{DaemonInfo, GitHubAppInfo, GitHubAppReport, ReloadReport, SettingSource};

use crate::columns::{self, Align};
use crate::timefmt;

/// `tidemark daemon status` for a running daemon.
pub fn daemon_status(info: &DaemonInfo, now: i64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Daemon:      running, pid {}, tidemark {} (protocol {}), up {} (since {})",
        info.pid,
        info.version,
        info.protocol_version,
        timefmt::duration(info.uptime_secs as i64),
        timefmt::utc(info.started_at.min(now)),
    );
    let may = if info.caller_may_operate {
        "you may stop, restart, reload and configure it"
    } else {
        "only that user and root may stop, restart, reload or configure it"
    };
    let _ = writeln!(out, "Runs as:     {} ({may})", info.user);
    let _ = writeln!(
        out,
        "Managed by:  {}",
        match info.managed_by.as_deref() {
            Some(manager) => format!(
                "{manager} (`tidemark daemon restart` restarts it in place; `systemctl` starts \
                 and stops it)"
            ),
            None => "no service manager (started by tidemark or by hand)".into(),
        }
    );
    let _ = writeln!(out, "Data dir:    {}", info.data_dir);
    let _ = writeln!(out, "Socket:      {}", info.socket);
    let _ = writeln!(
        out,
        "Config file: {}",
        match (&info.config_file, info.config_file_exists) {
            (Some(path), true) => path.clone(),
            (Some(path), false) => format!("{path} (not there: the defaults apply)"),
            (None, _) => "none (no XDG_CONFIG_HOME or HOME for the daemon)".into(),
        }
    );
    let _ = writeln!(out, "GitHub:      {}", describe_github_app(info));
    out.push('\n');
    let rows: Vec<Vec<String>> = info
        .settings
        .iter()
        .map(|s| {
            vec![
                s.key.clone(),
                s.value.clone().unwrap_or_else(|| "-".into()),
                s.source.to_string(),
                if s.reloadable {
                    "reload".into()
                } else {
                    "restart".into()
                },
            ]
        })
        .collect();
    out.push_str(&columns::text_table(
        &[
            ("SETTING", Align::Left),
            ("VALUE", Align::Left),
            ("FROM", Align::Left),
            ("APPLIED BY", Align::Left),
        ],
        &rows,
        2,
        "",
    ));
    out
}

fn describe_github_app(info: &DaemonInfo) -> String {
    let g = &info.github;
    if !g.configured {
        return format!(
            "not set up: `tidemark setup github` (register an OAuth app at {})",
            g.register_url
        );
    }
    let id = info
        .setting("github_client_id")
        .and_then(|s| s.value.clone())
        .unwrap_or_default();
    format!(
        "OAuth app {id} at {} ({})",
        g.web_url,
        if g.has_secret {
            "client secret set: device and browser flows"
        } else {
            "no client secret: device flow only"
        }
    )
}

/// `tidemark daemon reload`, and the reload part of `setup github`.
pub fn reload_report(report: &ReloadReport) -> String {
    let mut out = String::new();
    let file = report.config_file.as_deref().unwrap_or("no config file");
    if report.applied.is_empty() && report.need_restart.is_empty() {
        let _ = writeln!(out, "Reloaded {file}: nothing changed.");
    } else {
        let _ = writeln!(out, "Reloaded {file}.");
    }
    if !report.applied.is_empty() {
        let _ = writeln!(out, "  In effect now: {}", report.applied.join(", "));
    }
    if !report.need_restart.is_empty() {
        let _ = writeln!(
            out,
            "  Changed, in effect after a restart (`tidemark daemon restart`): {}",
            report.need_restart.join(", ")
        );
    }
    out.push_str(&overridden(&report.overridden));
    out
}

fn overridden(list: &[(String, SettingSource)]) -> String {
    let mut out = String::new();
    for (key, source) in list {
        let _ = writeln!(
            out,
            "  Note: {key} in the file is overridden by the daemon's {source} (unset it there, \
             then restart the daemon, for the file's value to apply)"
        );
    }
    out
}

/// What to register on GitHub, with the exact values.
pub fn github_app_instructions(app: &GitHubAppInfo) -> String {
    format!(
        "tidemark signs in to GitHub through an OAuth app that you register once:\n\
         \n\
         \x20 1. Open {register}\n\
         \x20 2. Application name: tidemark (any name)\n\
         \x20    Homepage URL: {web} (any URL)\n\
         \x20    Authorization callback URL: {callback}\n\
         \x20    (GitHub lets a loopback callback use any port, which the browser flow needs)\n\
         \x20 3. Tick \"Enable Device Flow\", then \"Register application\".\n\
         \x20 4. Copy the Client ID. For the browser flow (--web) and to revoke tidemark's\n\
         \x20    access on disconnect, also \"Generate a new client secret\" (optional).\n",
        register = app.register_url,
        web = app.web_url,
        callback = app.callback_url,
    )
}

/// `tidemark setup github` once saved.
pub fn github_app_saved(report: &GitHubAppReport) -> String {
    let mut out = String::new();
    let g = &report.github;
    let _ = writeln!(
        out,
        "Saved to {} and applied: GitHub is {} ({}).",
        report.config_file,
        if g.configured {
            "set up"
        } else {
            "still not set up"
        },
        if g.has_secret {
            "client id and secret: device and browser flows"
        } else {
            "client id only: device flow"
        }
    );
    out.push_str(&overridden(&report.reload.overridden));
    out.push_str(
        "\nNext: create a team and connect it:\n\
         \x20 tidemark team create NAME\n\
         \x20 tidemark connect github --team NAME\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_protocol::SettingInfo;

    fn info() -> DaemonInfo {
        DaemonInfo {
            pid: 4242,
            version: "0.1.0".into(),
            protocol_version: 10,
            started_at: 1_764_900_000,
            uptime_secs: 7_500,
            user: "alice".into(),
            data_dir: "/home/alice/.local/share/tidemark".into(),
            socket: "/run/user/1000/tidemark/tidemark.sock".into(),
            config_file: Some("/home/alice/.config/tidemark/daemon.toml".into()),
            config_file_exists: false,
            settings: vec![
                SettingInfo {
                    key: "github_client_id".into(),
                    value: Some("Ov23liAbCdEf12345678".into()),
                    source: SettingSource::ConfigFile,
                    reloadable: true,
                },
                SettingInfo {
                    key: "github_client_secret".into(),
                    value: Some("set".into()),
                    source: SettingSource::Environment,
                    reloadable: true,
                },
                SettingInfo {
                    key: "webhook_addr".into(),
                    value: Some("127.0.0.1:8787".into()),
                    source: SettingSource::Default,
                    reloadable: false,
                },
                SettingInfo {
                    key: "public_url".into(),
                    value: None,
                    source: SettingSource::Default,
                    reloadable: true,
                },
            ],
            managed_by: None,
            github: GitHubAppInfo {
                configured: true,
                has_secret: true,
                web_url: "https://github.com".into(),
                register_url: "https://github.com/settings/applications/new".into(),
                callback_url: "http://127.0.0.1/oauth/callback".into(),
            },
            caller_may_operate: true,
        }
    }

    #[test]
    fn status_says_what_runs_with_which_settings_and_from_where() {
        let text = daemon_status(&info(), 1_764_907_500);
        for needle in [
            "running, pid 4242, tidemark 0.1.0 (protocol 10), up 2h 5m",
            "Runs as:     alice (you may stop",
            "daemon.toml (not there: the defaults apply)",
            "OAuth app Ov23liAbCdEf12345678 at https://github.com (client secret set",
            "github_client_secret  set                   environment  reload",
            "webhook_addr          127.0.0.1:8787        default      restart",
            "public_url            -                     default      reload",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }

    #[test]
    fn an_unconfigured_daemon_says_how_to_set_it_up() {
        let mut i = info();
        i.github.configured = false;
        let text = daemon_status(&i, 1_764_907_500);
        assert!(
            text.contains("GitHub:      not set up: `tidemark setup github`"),
            "{text}"
        );
    }

    #[test]
    fn reload_reports_what_applies_now_later_and_not_at_all() {
        let text = reload_report(&ReloadReport {
            config_file: Some("/c/daemon.toml".into()),
            applied: vec!["sync_interval_secs".into()],
            need_restart: vec!["webhook_addr".into()],
            overridden: vec![("github_client_id".into(), SettingSource::Environment)],
        });
        assert!(text.starts_with("Reloaded /c/daemon.toml.\n"), "{text}");
        assert!(text.contains("In effect now: sync_interval_secs"), "{text}");
        assert!(
            text.contains("after a restart (`tidemark daemon restart`): webhook_addr"),
            "{text}"
        );
        assert!(
            text.contains("github_client_id in the file is overridden by the daemon's environment"),
            "{text}"
        );
        let text = reload_report(&ReloadReport {
            config_file: Some("/c/daemon.toml".into()),
            applied: vec![],
            need_restart: vec![],
            overridden: vec![],
        });
        assert_eq!(text, "Reloaded /c/daemon.toml: nothing changed.\n");
    }

    #[test]
    fn instructions_carry_the_exact_values() {
        let text = github_app_instructions(&info().github);
        for needle in [
            "https://github.com/settings/applications/new",
            "Authorization callback URL: http://127.0.0.1/oauth/callback",
            "Enable Device Flow",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }
}
