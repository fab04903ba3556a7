//! `dora` and `delivery config`: delivery (DORA) measures and the team's rules for them.
//! Parsing only; running them is in `commands::delivery`, wording their output in
//! `output::delivery`.

use clap::{Args, Subcommand, ValueEnum};
use tidemark_protocol::delivery::{DoraGrouping, Signal};

use super::Format;

const DORA_HELP: &str = "\
The five DORA measures, each against the performance bands of the DORA report edition it names:
  deployment frequency     successful production deployments per week
  change lead time         a pull request's first commit to the deployment that shipped it
  change fail rate         deployments that failed (their status, an incident, a revert) of those
                           finished
  recovery time            a failure's start to its recovery (the next successful deployment,
                           the incident's close, the revert's deployment)
  rework rate              deployments shipping a revert or a hotfix-labelled pull request

Each repository's deployments come from the best signal it has, in this order: GitHub
Deployments to a production environment, deploy workflow runs on the default branch, releases,
tags; else its merged pull requests stand in, marked as a proxy. `tidemark delivery config`
shows and sets the rules.

--explain lists under each figure the deployments, pull requests and incidents it counts and
the rule that classified each.

Examples:
  tidemark dora --team platform
  tidemark dora --team platform --by week --since 26w
  tidemark dora --team platform --by repo --explain
  tidemark dora --team platform --json";

const CONFIG_SET_HELP: &str = "\
Without --yes, shows what the new rules would change in the last 12 weeks and saves nothing.

Examples:
  tidemark delivery config set --team platform --production-pattern '^(prod|live)$'
  tidemark delivery config set --team platform --signal acme/web=releases --yes
  tidemark delivery config set --team platform --signal acme/web=auto --yes";

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = DORA_HELP)]
pub struct DoraArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Start of the window: YYYY-MM-DD (UTC), or 30d / 12w back from now (default 12w)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// One group for the whole team, or one per repository or ISO week
    #[arg(long, value_enum, default_value_t = DoraBy::Team)]
    pub by: DoraBy,
    /// List what each figure counts and the rule for each
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoraBy {
    Team,
    Repo,
    Week,
}

impl From<DoraBy> for DoraGrouping {
    fn from(by: DoraBy) -> Self {
        match by {
            DoraBy::Team => DoraGrouping::Team,
            DoraBy::Repo => DoraGrouping::Repo,
            DoraBy::Week => DoraGrouping::Week,
        }
    }
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum DeliveryCommand {
    /// The team's delivery rules: `show` them, or `set` them after a preview
    Config {
        #[command(subcommand)]
        command: DeliveryConfigCommand,
    },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum DeliveryConfigCommand {
    /// Show the team's rules (the defaults until it sets its own)
    Show {
        /// The team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: String,
        #[command(flatten)]
        format: Format,
    },
    /// Change some of the team's rules (admins and owners); the others stay
    Set(ConfigSetArgs),
}

#[derive(Debug, Args, Clone, PartialEq, Eq)]
#[command(after_help = CONFIG_SET_HELP)]
pub struct ConfigSetArgs {
    /// The team (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// GitHub Deployments count when their environment matches this regular expression
    #[arg(long, value_name = "REGEX")]
    pub production_pattern: Option<String>,
    /// Workflow runs count when their workflow's name matches this regular expression
    #[arg(long, value_name = "REGEX")]
    pub workflow_pattern: Option<String>,
    /// Tags count when their name matches this regular expression
    #[arg(long, value_name = "REGEX")]
    pub tag_pattern: Option<String>,
    /// An issue with this label is an incident
    #[arg(long, value_name = "LABEL")]
    pub incident_label: Option<String>,
    /// A pull request with this label makes the deployment that ships it rework
    #[arg(long, value_name = "LABEL")]
    pub hotfix_label: Option<String>,
    /// OWNER/REPO=SIGNAL: deployments, workflow-runs, releases, tags, merged-prs, or auto (the
    /// best one found); repeat for several repositories
    #[arg(long = "signal", value_name = "OWNER/REPO=SIGNAL", value_parser = parse_signal)]
    pub signals: Vec<(String, Option<Signal>)>,
    /// Save the rules (without it, only the preview is shown)
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub format: Format,
}

fn parse_signal(text: &str) -> Result<(String, Option<Signal>), String> {
    let (repo, signal) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}` is not OWNER/REPO=SIGNAL"))?;
    tidemark_protocol::validate_repo_full_name(repo)?;
    if signal == "auto" {
        return Ok((repo.to_string(), None));
    }
    let names: Vec<&str> = Signal::ALL.iter().map(|s| s.name()).collect();
    Signal::from_name(signal)
        .map(|s| (repo.to_string(), Some(s)))
        .ok_or_else(|| {
            format!(
                "`{signal}` is not a signal; one of: {}, auto",
                names.join(", ")
            )
        })
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

    #[test]
    fn dora_defaults_to_the_team_without_explain() {
        let Some(Command::Dora(args)) = parse(&["tidemark", "dora", "--team", "t"]).unwrap() else {
            panic!("not dora");
        };
        assert_eq!(
            (args.by, args.explain, args.since),
            (DoraBy::Team, false, None)
        );
        assert!(parse(&["tidemark", "dora", "--team", "t", "--by", "member"]).is_err());
    }

    #[test]
    fn signals_are_named_or_auto() {
        let Some(Command::Delivery {
            command:
                DeliveryCommand::Config {
                    command: DeliveryConfigCommand::Set(args),
                },
        }) = parse(&[
            "tidemark",
            "delivery",
            "config",
            "set",
            "--team",
            "t",
            "--signal",
            "acme/web=releases",
            "--signal",
            "acme/api=auto",
        ])
        .unwrap()
        else {
            panic!("not delivery config set");
        };
        assert_eq!(
            args.signals,
            [
                ("acme/web".to_string(), Some(Signal::Releases)),
                ("acme/api".to_string(), None)
            ]
        );
        assert!(!args.yes);
        let err = parse(&[
            "tidemark",
            "delivery",
            "config",
            "set",
            "--team",
            "t",
            "--signal",
            "acme/web=ci",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`ci` is not a signal; one of: deployments, workflow-runs"),
            "{err}"
        );
        assert!(
            parse(&[
                "tidemark", "delivery", "config", "set", "--team", "t", "--signal", "web"
            ])
            .is_err()
        );
    }
}
