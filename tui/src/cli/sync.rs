//! Arguments of the subcommands over a team's GitHub data: `repos`, `sync`, `members`, `prs` and
//! `metrics`. Parsing only; running them is in `commands::sync`, wording their output in
//! `output::sync`.

use clap::{Args, Subcommand, ValueEnum};
use tidemark_protocol::{MetricsGrouping, PrState};

use super::Format;

const REPOS_HELP: &str = "\
Repository names are OWNER/REPO as on GitHub (the connected organization's login, a slash, the
repository's name). Tracking a repository makes the daemon sync its pull requests, reviews and
commits and keep them fresh with webhooks; untracking stops that but keeps what was synced.

Examples:
  tidemark repos available --team platform
  tidemark repos track --team platform acme/api acme/web
  tidemark repos list --team platform --json
  tidemark repos untrack --team platform acme/web";

const SYNC_HELP: &str = "\
A sync fetches the organization's members and the tracked repositories' pull requests with their
reviews and commits. The daemon also keeps them fresh by itself (webhooks and a periodic sync);
this starts a sync now, or joins the one running.

With --wait, tidemark follows the sync and prints its progress on stderr (phase, repositories
done, pull requests fetched, GitHub rate-limit budget left) until it ends; it exits with 1 when
the sync ends in an error. Ctrl-C stops waiting; the sync goes on in the daemon. With --json the
final status (or, without --wait, the status at the start) is printed on stdout.

Examples:
  tidemark sync --team platform --wait
  tidemark sync --team platform --json";

const PRS_HELP: &str = "\
SIZE is lines added and deleted; CYCLE is opened to merged; REVIEW is ready for review (opened,
or out of draft) to the first review by someone other than the author and not a bot. A `*` after
the number marks a pull request with more than 250 commits, of which GitHub lists only 250.

Examples:
  tidemark prs --team platform --state merged --limit 20
  tidemark prs --team platform --repo acme/api --json";

const METRICS_HELP: &str = "\
Each duration column shows p50 / p75 / p90 (the median, and the times within which 75% and 90% of pull
requests stay):
  CYCLE        opened to merged (merged pull requests)
  REVIEW TIME  ready for review to first review
  CODING       first commit to ready for review
  PICKUP       ready for review to first review
  REVIEW       first review to merged
  SIZE         lines added + deleted
A review counts when its author is neither the pull request's author nor a bot. Pull requests by
bots are left out unless --include-bots.

--since takes a date, YYYY-MM-DD (midnight UTC), or a span back from now: 30d (days) or 12w
(weeks). It counts pull requests opened at or after that time.

Examples:
  tidemark metrics --team platform --since 30d
  tidemark metrics --team platform --by week --since 2025-01-01 --json";

/// `tidemark repos ...`
#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum ReposCommand {
    /// List the connected organization's repositories (asks GitHub) and which ones are tracked
    #[command(after_help = REPOS_HELP)]
    Available(TeamArgs),
    /// List the team's tracked repositories with their sync status
    #[command(after_help = REPOS_HELP)]
    List(TeamArgs),
    /// Track repositories of the connected organization
    #[command(after_help = REPOS_HELP)]
    Track(RepoNames),
    /// Stop tracking repositories; their synced history stays
    #[command(after_help = REPOS_HELP)]
    Untrack(RepoNames),
}

/// A team, and the output format.
#[derive(Debug, Args, Clone, PartialEq, Eq)]
pub struct TeamArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
pub struct RepoNames {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Repositories, as OWNER/REPO
    #[arg(required = true, value_name = "OWNER/REPO")]
    pub repos: Vec<String>,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = SYNC_HELP)]
pub struct SyncArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Follow the sync until it ends, printing its progress on stderr
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = PRS_HELP)]
pub struct PrsArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Only this tracked repository
    #[arg(long, value_name = "OWNER/REPO")]
    pub repo: Option<String>,
    /// Only pull requests in this state (open includes drafts)
    #[arg(long, value_enum)]
    pub state: Option<PrStateArg>,
    /// At most this many, newest first (0: all)
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrStateArg {
    Open,
    Closed,
    Merged,
}

impl From<PrStateArg> for PrState {
    fn from(state: PrStateArg) -> Self {
        match state {
            PrStateArg::Open => PrState::Open,
            PrStateArg::Closed => PrState::Closed,
            PrStateArg::Merged => PrState::Merged,
        }
    }
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = METRICS_HELP)]
pub struct MetricsArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Only pull requests opened at or after this: YYYY-MM-DD (UTC), or 30d / 12w back from now
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// One row for the whole team, or one per repository, member (the author) or ISO week
    #[arg(long, value_enum, default_value_t = GroupBy::Team)]
    pub by: GroupBy,
    /// Count pull requests opened by bots too
    #[arg(long)]
    pub include_bots: bool,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    Team,
    Repo,
    Member,
    Week,
}

impl From<GroupBy> for MetricsGrouping {
    fn from(by: GroupBy) -> Self {
        match by {
            GroupBy::Team => MetricsGrouping::Team,
            GroupBy::Repo => MetricsGrouping::Repo,
            GroupBy::Member => MetricsGrouping::Member,
            GroupBy::Week => MetricsGrouping::Week,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Option<Command>, clap::Error> {
        let matches = Cli::command().try_get_matches_from(args)?;
        Ok(Cli::from_arg_matches(&matches)?.command)
    }

    fn help(path: &[&str]) -> String {
        let mut cmd = Cli::command();
        let mut sub = &mut cmd;
        for name in path {
            sub = sub.find_subcommand_mut(name).unwrap();
        }
        sub.render_long_help().to_string()
    }

    #[test]
    fn repos_subcommands_take_a_team_and_names() {
        let got = parse(&[
            "tidemark", "repos", "track", "--team", "platform", "acme/api", "acme/web", "--json",
        ])
        .unwrap();
        assert_eq!(
            got,
            Some(Command::Repos {
                command: ReposCommand::Track(RepoNames {
                    team: "platform".into(),
                    repos: vec!["acme/api".into(), "acme/web".into()],
                    format: Format { json: true },
                })
            })
        );
        let got = parse(&["tidemark", "repos", "available", "--team", "platform"]).unwrap();
        assert_eq!(
            got,
            Some(Command::Repos {
                command: ReposCommand::Available(TeamArgs {
                    team: "platform".into(),
                    format: Format { json: false },
                })
            })
        );
    }

    #[test]
    fn missing_team_or_names_are_usage_errors() {
        for args in [
            &["tidemark", "repos", "track", "--team", "platform"][..],
            &["tidemark", "repos", "list"],
            &["tidemark", "members"],
            &["tidemark", "sync", "--wait"],
            &["tidemark", "prs", "--team", "t", "--state", "draft"],
            &["tidemark", "prs", "--team", "t", "--limit", "-1"],
            &["tidemark", "metrics", "--team", "t", "--by", "day"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn prs_defaults_and_filters() {
        let Some(Command::Prs(args)) = parse(&["tidemark", "prs", "--team", "t"]).unwrap() else {
            panic!()
        };
        assert_eq!((args.repo, args.state, args.limit), (None, None, 50));
        let Some(Command::Prs(args)) = parse(&[
            "tidemark", "prs", "--team", "t", "--repo", "acme/api", "--state", "merged", "--limit",
            "0",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(args.repo.as_deref(), Some("acme/api"));
        assert_eq!(args.state.map(PrState::from), Some(PrState::Merged));
        assert_eq!(args.limit, 0);
    }

    #[test]
    fn metrics_defaults_to_the_whole_team_without_bots() {
        let Some(Command::Metrics(args)) = parse(&["tidemark", "metrics", "--team", "t"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(MetricsGrouping::from(args.by), MetricsGrouping::Team);
        assert!(!args.include_bots);
        assert_eq!(args.since, None);
        let Some(Command::Metrics(args)) = parse(&[
            "tidemark",
            "metrics",
            "--team",
            "t",
            "--by",
            "week",
            "--since",
            "30d",
            "--include-bots",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(MetricsGrouping::from(args.by), MetricsGrouping::Week);
        assert_eq!(args.since.as_deref(), Some("30d"));
        assert!(args.include_bots);
    }

    #[test]
    fn sync_takes_wait() {
        let got = parse(&["tidemark", "sync", "--team", "platform", "--wait"]).unwrap();
        assert_eq!(
            got,
            Some(Command::Sync(SyncArgs {
                team: "platform".into(),
                wait: true,
                format: Format { json: false },
            }))
        );
    }

    #[test]
    fn help_explains_each_command() {
        for (path, needles) in [
            (
                &["repos", "track"][..],
                &["OWNER/REPO", "--team", "--json"][..],
            ),
            (&["repos", "available"], &["Examples:", "untrack"]),
            (&["sync"], &["--wait", "stderr", "Ctrl-C", "exits with 1"]),
            (&["members"], &["--team", "--json"]),
            (&["prs"], &["--repo", "--state", "--limit", "250 commits"]),
            (
                &["metrics"],
                &[
                    "--since",
                    "YYYY-MM-DD",
                    "30d",
                    "12w",
                    "--by",
                    "--include-bots",
                    "PICKUP",
                ],
            ),
        ] {
            let text = help(path);
            for needle in needles {
                assert!(
                    text.contains(needle),
                    "{path:?}: missing {needle} in:\n{text}"
                );
            }
        }
    }
}
