//! Human output of the CLI subcommands (`--json` bypasses this and prints the protocol types).
//!
//! Everything returns a `String` so it can be tested without a terminal; the small `describe_*`
//! helpers are shared with the TUI so both say the same thing the same way.

pub mod agreements;
mod daemon;
pub mod delivery;
mod github;
mod members;
mod webhooks;

use std::fmt::Write as _;

use tidemark_protocol::{
    CredentialInfo, IntegrationInfo, RateBudget, RepoInfo, Role, SecretState, SyncStatus, TeamInfo,
    TeamStatus, UserInfo,
};

use crate::columns::{self, Align};
use crate::timefmt;

pub use daemon::*;
pub use github::*;
pub use members::*;
pub use webhooks::*;

pub fn describe_role(role: Option<Role>) -> &'static str {
    role.map_or("-", Role::as_str)
}

pub fn describe_scopes(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "none".into()
    } else {
        scopes.join(", ")
    }
}

pub fn describe_user(user: Option<&UserInfo>) -> String {
    user.map_or_else(
        || "a removed user".into(),
        |u| format!("{} (uid {})", u.name, u.uid),
    )
}

pub fn describe_expiry(expires_at: Option<i64>) -> String {
    expires_at.map_or_else(|| "never".into(), timefmt::utc)
}

/// A secret as a client may see it: its mask, or why it cannot be read. Never the secret.
pub fn describe_secret(secret: &SecretState) -> String {
    secret.to_string()
}

pub fn describe_last_sync(last: Option<i64>) -> String {
    timefmt::utc_or(last, "never")
}

/// `1 review`, `2 reviews`, `0 reviews`.
pub fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Webhook deliveries that waited this long mean the daemon is not applying them (GitHub
/// unreachable, a round failing): the hooks are no longer called ok.
pub const BACKLOG_STALE_SECS: i64 = 5 * 60;

/// Deliveries received but not applied yet: `3 waiting, oldest 2h 5m ago` (`now` 0: the time
/// is not known yet, so no age). None when none waits.
pub fn describe_backlog(pending: u64, oldest_at: Option<i64>, now: i64) -> Option<String> {
    if pending == 0 {
        return None;
    }
    Some(match oldest_at {
        Some(at) if now > 0 => format!(
            "{pending} waiting, oldest {} ago",
            timefmt::duration(now - at)
        ),
        _ => format!("{pending} waiting"),
    })
}

/// The backlog has waited long enough to be a problem, not a moment's work.
pub fn backlog_is_stale(oldest_at: Option<i64>, now: i64) -> bool {
    oldest_at.is_some_and(|at| now > 0 && now - at >= BACKLOG_STALE_SECS)
}

/// `complete`, or `error: reason` when the daemon said why.
pub fn describe_sync(status: SyncStatus, error: Option<&str>) -> String {
    match (status, error) {
        (SyncStatus::Error, Some(reason)) => format!("error: {reason}"),
        (status, _) => status.as_str().into(),
    }
}

pub fn team_created(team: &TeamInfo) -> String {
    format!("Created team '{}' (#{}).\n", team.name, team.id)
}

pub fn team_renamed(old: &str, team: &TeamInfo) -> String {
    format!("Renamed team '{old}' to '{}'.\n", team.name)
}

pub fn team_deleted(team: &TeamInfo) -> String {
    format!(
        "Deleted team '{}' (#{}) and everything stored for it.\n",
        team.name, team.id
    )
}

/// Aligned table of teams, or a hint when there are none. A name from before names were checked
/// (one starting with `#`, say) gets a note asking its owner to rename it: such a name cannot be
/// typed as a name any more, only the id reaches the team.
pub fn team_list(teams: &[TeamInfo]) -> String {
    if teams.is_empty() {
        return "No teams yet. Create one with `tidemark team create NAME`.\n".into();
    }
    let rows: Vec<Vec<String>> = teams
        .iter()
        .map(|team| {
            vec![
                format!("#{}", team.id),
                team.name.clone(),
                describe_role(team.role).into(),
                timefmt::utc(team.created_at),
            ]
        })
        .collect();
    use Align::Left;
    let out = columns::text_table(
        &[
            ("ID", Left),
            ("NAME", Left),
            ("ROLE", Left),
            ("CREATED", Left),
        ],
        &rows,
        2,
        "",
    );
    let mut notes = String::new();
    for (team, row) in teams.iter().zip(&rows) {
        let id = &row[0];
        if let Err(reason) = tidemark_protocol::validate_team_name(&team.name) {
            let _ = writeln!(
                notes,
                "Note: team {id}'s name is no longer allowed ({reason}); reach it by its id and \
                 rename it: tidemark team rename '{id}' NEW-NAME"
            );
        }
    }
    out + &notes
}

fn credential_lines(out: &mut String, cred: &CredentialInfo) {
    let _ = writeln!(
        out,
        "      token:        {}",
        describe_secret(&cred.access_token)
    );
    if let Some(refresh) = &cred.refresh_token {
        let _ = writeln!(out, "      refresh:      {}", describe_secret(refresh));
    }
    let _ = writeln!(out, "      scopes:       {}", describe_scopes(&cred.scopes));
    let _ = writeln!(
        out,
        "      connected by: {}",
        describe_user(cred.connected_by.as_ref())
    );
    let _ = writeln!(
        out,
        "      expires:      {}",
        describe_expiry(cred.expires_at)
    );
}

fn integration_block(out: &mut String, integration: &IntegrationInfo, budget: &[RateBudget]) {
    let cred = &integration.credential;
    let _ = writeln!(out, "    {}", cred.provider.as_str());
    if let Some(gh) = &integration.github {
        let _ = writeln!(
            out,
            "      organization: {} (#{})",
            gh.organization_slug, gh.organization_id
        );
    }
    credential_lines(out, cred);
    match &integration.github {
        Some(gh) => {
            let _ = writeln!(
                out,
                "      hook secret:  {}",
                describe_secret(&gh.webhook_secret)
            );
            let _ = writeln!(
                out,
                "      sync:         {}, last sync {}",
                describe_sync(gh.sync_status, gh.sync_error.as_deref()),
                describe_last_sync(gh.last_sync_at)
            );
            let budget: Vec<String> = budget
                .iter()
                .map(|b| describe_budget(b, timefmt::utc, timefmt::utc))
                .collect();
            let _ = writeln!(
                out,
                "      rate budget:  {}",
                if budget.is_empty() {
                    "not known yet".to_string()
                } else {
                    budget.join(", ")
                }
            );
        }
        None if cred.provider == tidemark_protocol::Provider::Github => {
            let _ = writeln!(out, "      organization: not chosen yet");
        }
        None => {}
    }
}

fn repo_table(out: &mut String, repos: &[RepoInfo]) {
    let rows: Vec<Vec<String>> = repos
        .iter()
        .map(|repo| {
            vec![
                printable(&repo.full_name),
                (if repo.is_active { "yes" } else { "paused" }).into(),
                repo.sync_status.as_str().into(),
                describe_last_sync(repo.last_sync_at),
                sync::hook_state(repo),
                sync::repo_problem(repo)
                    .map(|reason| format!("({})", printable(&reason)))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    use Align::Left;
    out.push_str(&columns::text_table(
        &[
            ("REPOSITORY", Left),
            ("ACTIVE", Left),
            ("SYNC", Left),
            ("LAST SYNC", Left),
            ("WEBHOOK", Left),
            ("", Left),
        ],
        &rows,
        2,
        "    ",
    ));
}

/// `tidemark status`: one block per team (`now` dates the webhook backlog).
pub fn status(teams: &[TeamStatus], now: i64) -> String {
    if teams.is_empty() {
        return "No teams yet. Create one with `tidemark team create NAME`.\n".into();
    }
    let mut out = String::new();
    for (i, status) in teams.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let team = &status.team;
        let _ = writeln!(
            out,
            "Team '{}' (#{}, role {}), created {}",
            team.name,
            team.id,
            describe_role(team.role),
            timefmt::utc(team.created_at)
        );
        let _ = writeln!(
            out,
            "  {}, {}",
            plural(
                status.member_count,
                "GitHub organization member",
                "GitHub organization members"
            ),
            plural(status.pull_request_count, "pull request", "pull requests")
        );
        match &status.webhook_public_url {
            Some(url) => {
                let backlog = describe_backlog(
                    status.webhooks_pending,
                    status.webhooks_oldest_pending_at,
                    now,
                );
                let _ = writeln!(
                    out,
                    "  Webhooks: GitHub calls {url}; {}",
                    backlog.map_or("every delivery applied".into(), |b| {
                        format!("deliveries not applied yet: {b}")
                    })
                );
            }
            None => out.push_str(
                "  Webhooks: off (no public URL: start tidemarkd with --public-url); changes arrive by periodic sync only\n",
            ),
        }
        // Replays ignored, refusals, re-reads held: whatever happened, on a line each.
        for fact in describe_intake(&status.webhook_intake, now) {
            let _ = writeln!(out, "    {}", fact.join(", "));
        }
        if let Some(how) = &status.member_changes {
            let _ = writeln!(out, "  Member changes: {how}");
            // The daemon names the scope; the flag that asks for it is this command line's.
            if let tidemark_protocol::MemberChanges::PeriodicSync { why } = how
                && why.contains("admin:org_hook")
            {
                let _ = writeln!(
                    out,
                    "    (tidemark connect github --team '#{}' --org-hook asks for it)",
                    team.id
                );
            }
        }
        // Working agreements: what is open, and whether Slack hears of it (or must reconnect).
        let _ = writeln!(
            out,
            "  Alerts: {} open · {}",
            status.open_breaches,
            agreements::slack_line(status.slack.as_ref())
        );
        out.push_str("  Integrations:\n");
        if status.integrations.is_empty() {
            out.push_str("    none\n");
        }
        for integration in &status.integrations {
            integration_block(&mut out, integration, &status.rate_budget);
        }
        out.push_str("  Tracked repositories:\n");
        if status.repos.is_empty() {
            out.push_str("    none\n");
        } else {
            repo_table(&mut out, &status.repos);
        }
    }
    out
}

// `repos`, `sync`, `members`, `prs` and `metrics`.
pub mod sync;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn team_list_aligns_columns() {
        let out = team_list(&fixtures::teams());
        assert_eq!(
            out,
            "ID  NAME              ROLE    CREATED\n\
             #1  platform          owner   2025-01-05 14:03 UTC\n\
             #2  mobile            member  2025-01-06 09:30 UTC\n\
             #3  data-eng Ünïcode  -       2025-02-01 00:00 UTC\n"
        );
    }

    #[test]
    fn team_list_measures_wide_characters_in_cells() {
        let mut teams = fixtures::teams();
        teams[0].name = "équipe 🚀 日本".into(); // 13 characters, 16 cells
        teams[1].id = 12;
        let out = team_list(&teams);
        // Where the ROLE column starts, in cells, on every line: the same.
        let role_at: Vec<usize> = out
            .lines()
            .map(|line| {
                let at = ["  ROLE", "  owner", "  member", "  -  "]
                    .iter()
                    .find_map(|role| line.find(role))
                    .unwrap();
                columns::cells(&line[..at])
            })
            .collect();
        assert!(
            role_at.windows(2).all(|w| w[0] == w[1]),
            "{role_at:?}\n{out}"
        );
        assert!(out.contains("#12  mobile"), "{out}");
    }

    #[test]
    fn a_name_from_before_the_rules_gets_a_rename_note() {
        let mut teams = fixtures::teams();
        teams[1].name = "#1".into();
        let out = team_list(&teams);
        assert!(
            out.contains("Note: team #2's name is no longer allowed")
                && out.contains("tidemark team rename '#2' NEW-NAME"),
            "{out}"
        );
        assert_eq!(out.matches("Note:").count(), 1, "{out}");
    }

    #[test]
    fn empty_lists_give_a_hint() {
        assert!(team_list(&[]).contains("tidemark team create NAME"));
        assert!(status(&[], 0).contains("No teams yet"));
    }

    #[test]
    fn confirmations_name_the_team() {
        let team = &fixtures::teams()[0];
        assert_eq!(team_created(team), "Created team 'platform' (#1).\n");
        assert_eq!(
            team_renamed("old", team),
            "Renamed team 'old' to 'platform'.\n"
        );
        let text = team_deleted(&fixtures::teams()[1]);
        assert_eq!(
            text,
            "Deleted team 'mobile' (#2) and everything stored for it.\n"
        );
    }

    #[test]
    fn status_shows_credential_metadata_and_repos() {
        let out = status(&[fixtures::team_status()], fixtures::T0);
        let expected = "\
Team 'platform' (#1, role owner), created 2025-01-05 14:03 UTC
  12 GitHub organization members, 340 pull requests
  Webhooks: GitHub calls https://tidemark.example.com; every delivery applied
  Member changes: with the periodic sync (no organization hook: needs the admin:org_hook scope and an org owner; reconnect asking for admin:org_hook)
    (tidemark connect github --team '#1' --org-hook asks for it)
  Alerts: 3 open · Slack: #eng-alerts (acme)
  Integrations:
    github
      organization: acme (#4821)
      token:        gho_…a1b2
      scopes:       repo, read:org
      connected by: alice (uid 1000)
      expires:      never
      hook secret:  whs_…9f0e
      sync:         complete, last sync 2025-01-05 14:03 UTC
      rate budget:  graphql 4981/5000 (resets 2025-01-05 15:03 UTC; seen 2025-01-05 14:02 UTC)
  Tracked repositories:
    REPOSITORY  ACTIVE  SYNC      LAST SYNC             WEBHOOK
    acme/api    yes     complete  2025-01-05 14:03 UTC  live
    acme/web    yes     syncing   never                 created
    acme/infra  paused  error     2025-01-04 08:00 UTC  none     (GitHub answered 404: repository not found)
";
        assert_eq!(out, expected);
    }

    /// The backlog with its age: 675,000 deliveries waiting is not "ok".
    #[test]
    fn status_shows_the_webhook_backlog_and_its_age() {
        let mut team = fixtures::team_status();
        team.webhooks_pending = 675_000;
        team.webhooks_oldest_pending_at = Some(fixtures::T0 - 2 * 3600 - 300);
        let out = status(&[team], fixtures::T0);
        assert!(
            out.contains(
                "  Webhooks: GitHub calls https://tidemark.example.com; deliveries not applied \
                 yet: 675000 waiting, oldest 2h 5m ago\n"
            ),
            "{out}"
        );
    }

    /// Replays ignored, refusals and re-reads held are said under the webhooks, whole.
    #[test]
    fn status_shows_what_the_webhooks_turned_away() {
        let mut team = fixtures::team_status();
        team.webhook_intake = tidemark_protocol::WebhookIntake {
            backlog_max: 10_000,
            replays_ignored: 72_593,
            last_replay_at: Some(fixtures::T0 - 120),
            refused_backlog_full: 12,
            last_refused_at: Some(fixtures::T0 - 30),
            ..Default::default()
        };
        let out = status(&[team], fixtures::T0);
        assert!(
            out.contains(
                "  Webhooks: GitHub calls https://tidemark.example.com; every delivery applied\n    \
                 72593 replays ignored, a body received before, last 2m ago\n    \
                 12 refused with 503, 10000 were waiting, the next sync covers them, last just now\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn backlog_words_and_staleness() {
        assert_eq!(describe_backlog(0, None, 1000), None);
        assert_eq!(
            describe_backlog(1, Some(940), 1000).as_deref(),
            Some("1 waiting, oldest 1m ago")
        );
        assert_eq!(
            describe_backlog(3, Some(940), 0).as_deref(),
            Some("3 waiting"),
            "no clock yet: no age"
        );
        assert!(!backlog_is_stale(Some(1000 - BACKLOG_STALE_SECS + 1), 1000));
        assert!(backlog_is_stale(Some(1000 - BACKLOG_STALE_SECS), 1000));
        assert!(!backlog_is_stale(None, 1000));
    }

    #[test]
    fn plurals_agree_with_their_number() {
        assert_eq!(plural(1u32, "review", "reviews"), "1 review");
        assert_eq!(plural(0u32, "review", "reviews"), "0 reviews");
        assert_eq!(plural(2u64, "commit", "commits"), "2 commits");
    }

    #[test]
    fn status_says_to_reconnect_slack_when_posting_stopped() {
        let mut team = fixtures::team_status();
        if let Some(slack) = team.slack.as_mut() {
            slack.problem = Some("Slack refused the token (token_revoked)".into());
        }
        let out = status(&[team], fixtures::T0);
        assert!(
            out.contains(
                "  Alerts: 3 open · Slack: reconnect — Slack refused the token (token_revoked)\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn status_says_when_member_changes_arrive_live() {
        let mut team = fixtures::team_status();
        team.member_changes = Some(tidemark_protocol::MemberChanges::Live { org_hook_id: 77 });
        let out = status(&[team.clone()], fixtures::T0);
        assert!(
            out.contains("  Member changes: live (organization hook #77)\n"),
            "{out}"
        );
        team.member_changes = None;
        assert!(!status(&[team], fixtures::T0).contains("Member changes"));
    }

    #[test]
    fn status_without_integrations_says_none() {
        let mut team = fixtures::team_status();
        team.integrations.clear();
        team.repos.clear();
        let out = status(&[team], fixtures::T0);
        assert!(out.contains("  Integrations:\n    none\n"), "{out}");
        assert!(out.contains("  Tracked repositories:\n    none\n"), "{out}");
    }

    #[test]
    fn status_without_a_public_url_says_webhooks_are_off() {
        let mut team = fixtures::team_status();
        team.webhook_public_url = None;
        let out = status(&[team], fixtures::T0);
        assert!(
            out.contains("Webhooks: off (no public URL: start tidemarkd with --public-url); changes arrive by periodic sync only"),
            "{out}"
        );
    }

    #[test]
    fn unreadable_secrets_and_removed_users_are_explained() {
        let mut team = fixtures::team_status();
        let cred = &mut team.integrations[0].credential;
        cred.access_token = SecretState::Unreadable("encrypted with another key".into());
        cred.connected_by = None;
        cred.expires_at = Some(1_740_000_000);
        let out = status(&[team], fixtures::T0);
        assert!(
            out.contains("token:        unreadable (encrypted with another key)"),
            "{out}"
        );
        assert!(out.contains("connected by: a removed user"), "{out}");
        assert!(out.contains("expires:      2025-02-19 21:20 UTC"), "{out}");
    }

    #[test]
    fn sync_error_reason_is_shown() {
        assert_eq!(
            describe_sync(SyncStatus::Error, Some("rate limited")),
            "error: rate limited"
        );
        assert_eq!(describe_sync(SyncStatus::Pending, None), "pending");
    }
}
