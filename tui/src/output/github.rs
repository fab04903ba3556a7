//! Human output of `connect github` and `disconnect github`, and the wording the TUI shares with
//! them. Only what the protocol carries is shown: masks, scopes, names; never a token.

use std::fmt::Write as _;

use tidemark_protocol::{
    ConnectPrompt, ConnectStarted, DisconnectReport, IntegrationInfo, OrgChoice, Provider,
};

use super::{describe_scopes, describe_secret, plural};
use crate::columns;
use crate::timefmt;

/// Text that came from GitHub (an organization's description, a reason quoting an answer) made
/// safe for a terminal: control characters, escape sequences included, become `?`. (The TUI
/// needs none of this: ratatui drops control characters itself.)
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The team's GitHub integration, if it has one.
pub fn github_connection(integrations: &[IntegrationInfo]) -> Option<&IntegrationInfo> {
    integrations
        .iter()
        .find(|i| i.credential.provider == Provider::Github)
}

/// What a GitHub connection is connected to: its organization, or that none is chosen yet.
pub fn describe_connection(info: &IntegrationInfo) -> String {
    match &info.github {
        Some(gh) => gh.organization_slug.clone(),
        None => "no organization chosen yet".into(),
    }
}

/// A device code spaced out for reading aloud and typing: `WDJB-MJHT` → `W D J B - M J H T`.
pub fn spaced(code: &str) -> String {
    let chars: Vec<String> = code.chars().map(String::from).collect();
    chars.join(" ")
}

/// What the user must do at GitHub, for the terminal. `emphasis` makes the code bold (when the
/// text goes to a terminal).
pub fn connect_prompt(started: &ConnectStarted, now: i64, emphasis: bool) -> String {
    let left = timefmt::time_left(started.expires_at - now);
    match &started.prompt {
        ConnectPrompt::Device {
            user_code,
            verification_uri,
        } => {
            let (user_code, verification_uri) = (printable(user_code), printable(verification_uri));
            let code = if emphasis {
                format!("\x1b[1m{user_code}\x1b[0m")
            } else {
                user_code
            };
            format!(
                "Open {verification_uri} and enter the code\n\n    {code}\n\n\
                 The code expires in {left}.\n"
            )
        }
        ConnectPrompt::Browser { authorize_url } => format!(
            "Open this link in a browser on this machine to authorize tidemark:\n\n    \
             {}\n\nThe link expires in {left}.\n",
            printable(authorize_url)
        ),
    }
}

/// The numbered list `connect github` asks from.
pub fn org_menu(orgs: &[OrgChoice]) -> String {
    let width = orgs
        .iter()
        .map(|o| columns::cells(&printable(&o.login)))
        .max()
        .unwrap_or(0);
    let mut out = String::from("Several organizations are visible to this GitHub account:\n");
    for (i, org) in orgs.iter().enumerate() {
        let login = columns::pad(&printable(&org.login), width, columns::Align::Left);
        let _ = write!(out, "  {:>2}) {login}", i + 1);
        if let Some(description) = org.description.as_deref().filter(|d| !d.is_empty()) {
            let _ = write!(out, "  {}", printable(description));
        }
        out.push('\n');
    }
    out
}

/// `a, b, c`: the logins a user may pass to `--org`.
pub fn org_logins(orgs: &[OrgChoice]) -> String {
    let logins: Vec<_> = orgs.iter().map(|o| printable(&o.login)).collect();
    logins.join(", ")
}

/// The single line both the CLI and the TUI say on success.
pub fn connected_headline(team: &str, github_login: &str, info: &IntegrationInfo) -> String {
    match &info.github {
        Some(gh) => format!(
            "Connected team '{team}' to GitHub organization {} as @{github_login}.",
            gh.organization_slug
        ),
        None => format!("Connected team '{team}' to GitHub as @{github_login}."),
    }
}

/// `connect github`: what is now stored, as far as a client may know it.
pub fn connected(team: &str, github_login: &str, info: &IntegrationInfo) -> String {
    let cred = &info.credential;
    let mut out = connected_headline(team, github_login, info);
    out.push('\n');
    if let Some(gh) = &info.github {
        let _ = writeln!(
            out,
            "  organization: {} (#{})",
            gh.organization_slug, gh.organization_id
        );
    }
    let _ = writeln!(out, "  GitHub login: {github_login}");
    let _ = writeln!(out, "  scopes:       {}", describe_scopes(&cred.scopes));
    let _ = writeln!(
        out,
        "  token:        {}",
        describe_secret(&cred.access_token)
    );
    out
}

/// `disconnect github`: everything the daemon did, and what it could not do.
pub fn disconnected(team: &str, report: &DisconnectReport) -> String {
    let mut out = match &report.organization {
        Some(org) => format!("Disconnected team '{team}' from GitHub ({org}).\n"),
        None => format!("Disconnected team '{team}' from GitHub.\n"),
    };
    let _ = writeln!(out, "  webhooks deleted:     {}", report.hooks_deleted);
    if !report.hooks_failed.is_empty() {
        let _ = writeln!(out, "  webhooks not deleted: {}", report.hooks_failed.len());
        for failure in &report.hooks_failed {
            let _ = writeln!(out, "    - {}", printable(failure));
        }
    }
    let grant = match (report.grant_revoked, &report.grant_note) {
        (true, _) => "revoked at GitHub".to_string(),
        (false, Some(note)) => format!("not revoked: {}", printable(note)),
        (false, None) => "not revoked".to_string(),
    };
    let _ = writeln!(out, "  OAuth grant:          {grant}");
    let _ = writeln!(out, "  repositories removed: {}", report.repos_removed);
    let history = if report.history_purged {
        "purged"
    } else {
        "kept"
    };
    let _ = writeln!(out, "  synced history:       {history}");
    out
}

/// One line for the TUI's status bar.
pub fn disconnect_summary(team: &str, report: &DisconnectReport) -> String {
    let mut parts = vec![
        format!(
            "{} deleted",
            plural(report.hooks_deleted, "webhook", "webhooks")
        ),
        match (report.grant_revoked, &report.grant_note) {
            (true, _) => "grant revoked".into(),
            (false, Some(note)) => format!("grant not revoked ({note})"),
            (false, None) => "grant not revoked".into(),
        },
        format!(
            "{} removed",
            plural(report.repos_removed, "repository", "repositories")
        ),
        if report.history_purged {
            "history purged".into()
        } else {
            "history kept".into()
        },
    ];
    if !report.hooks_failed.is_empty() {
        parts.insert(
            1,
            format!(
                "{} not deleted ({})",
                plural(report.hooks_failed.len() as u32, "webhook", "webhooks"),
                report.hooks_failed.join("; ")
            ),
        );
    }
    let org = report
        .organization
        .as_deref()
        .map_or(String::new(), |o| format!(" ({o})"));
    format!(
        "Disconnected '{team}' from GitHub{org}: {}.",
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn device() -> ConnectStarted {
        ConnectStarted {
            flow: 7,
            prompt: ConnectPrompt::Device {
                user_code: "WDJB-MJHT".into(),
                verification_uri: "https://github.com/login/device".into(),
            },
            expires_at: fixtures::T0 + 900,
        }
    }

    fn report() -> DisconnectReport {
        DisconnectReport {
            organization: Some("acme".into()),
            hooks_deleted: 2,
            hooks_failed: vec![],
            grant_revoked: true,
            grant_note: None,
            repos_removed: 3,
            history_purged: false,
        }
    }

    #[test]
    fn device_prompt_puts_the_code_on_its_own_line() {
        let text = connect_prompt(&device(), fixtures::T0, false);
        assert_eq!(
            text,
            "Open https://github.com/login/device and enter the code\n\n    WDJB-MJHT\n\n\
             The code expires in 15 min.\n"
        );
        let bold = connect_prompt(&device(), fixtures::T0 + 600, true);
        assert!(bold.contains("    \x1b[1mWDJB-MJHT\x1b[0m\n"), "{bold:?}");
        assert!(bold.contains("expires in 5 min"), "{bold}");
    }

    #[test]
    fn browser_prompt_shows_the_whole_link() {
        let started = ConnectStarted {
            flow: 8,
            prompt: ConnectPrompt::Browser {
                authorize_url: "https://github.com/login/oauth/authorize?client_id=x&state=y"
                    .into(),
            },
            expires_at: fixtures::T0 + 600,
        };
        let text = connect_prompt(&started, fixtures::T0, true);
        assert!(
            text.contains("\n    https://github.com/login/oauth/authorize?client_id=x&state=y\n"),
            "{text}"
        );
        assert!(text.contains("expires in 10 min"), "{text}");
    }

    #[test]
    fn org_menu_is_numbered_and_aligned() {
        let orgs = vec![
            OrgChoice {
                login: "acme".into(),
                id: 1,
                description: Some("Acme Corp".into()),
            },
            OrgChoice {
                login: "acme-labs".into(),
                id: 2,
                description: None,
            },
        ];
        assert_eq!(
            org_menu(&orgs),
            "Several organizations are visible to this GitHub account:\n   \
             1) acme       Acme Corp\n   2) acme-labs\n"
        );
        assert_eq!(org_logins(&orgs), "acme, acme-labs");
    }

    #[test]
    fn connected_shows_org_login_scopes_and_mask() {
        let text = connected("platform", "octocat", &fixtures::github_integration());
        assert_eq!(
            text,
            "Connected team 'platform' to GitHub organization acme as @octocat.\n  \
             organization: acme (#4821)\n  GitHub login: octocat\n  scopes:       repo, \
             read:org\n  token:        gho_…a1b2\n"
        );
    }

    #[test]
    fn disconnected_reports_everything() {
        assert_eq!(
            disconnected("platform", &report()),
            "Disconnected team 'platform' from GitHub (acme).\n  webhooks deleted:     2\n  \
             OAuth grant:          revoked at GitHub\n  repositories removed: 3\n  synced \
             history:       kept\n"
        );
        let mut partial = report();
        partial.hooks_failed = vec!["acme/api: GitHub unreachable".into()];
        partial.grant_revoked = false;
        partial.grant_note =
            Some("no client secret: revoke it at github.com/settings/applications".into());
        partial.history_purged = true;
        let text = disconnected("platform", &partial);
        assert!(
            text.contains("  webhooks not deleted: 1\n    - acme/api: GitHub unreachable\n"),
            "{text}"
        );
        assert!(
            text.contains("OAuth grant:          not revoked: no client secret"),
            "{text}"
        );
        assert!(text.contains("synced history:       purged"), "{text}");
        let line = disconnect_summary("platform", &partial);
        assert_eq!(
            line,
            "Disconnected 'platform' from GitHub (acme): 2 webhooks deleted, 1 webhook not \
             deleted (acme/api: GitHub unreachable), grant not revoked (no client secret: revoke \
             it at github.com/settings/applications), 3 repositories removed, history purged."
        );
    }

    #[test]
    fn text_from_github_cannot_drive_the_terminal() {
        assert_eq!(
            printable("Acme\x1b]52;c;evil\x07 Corp\n"),
            "Acme?]52;c;evil? Corp?"
        );
        let orgs = vec![OrgChoice {
            login: "acme".into(),
            id: 1,
            description: Some("\x1b[2Jgone".into()),
        }];
        assert!(!org_menu(&orgs).contains('\x1b'));
        let mut bad = report();
        bad.hooks_failed = vec!["acme/api: \x1b[31mred".into()];
        bad.grant_revoked = false;
        bad.grant_note = Some("\x1b[0m".into());
        assert!(!disconnected("platform", &bad).contains('\x1b'));
    }

    #[test]
    fn connection_is_found_by_provider() {
        let info = fixtures::github_integration();
        assert_eq!(
            github_connection(std::slice::from_ref(&info)).map(describe_connection),
            Some("acme".into())
        );
        assert!(github_connection(&[]).is_none());
    }
}
