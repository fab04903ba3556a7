//! The scriptable subcommands: connect (starting the daemon if allowed), make one or two calls,
//! print JSON or human output. `connect github` and `disconnect github` are in `github`; `connect
//! slack`, `disconnect slack` and `slack` in `slack`; `agreements` and `alerts` in `agreements`.

mod agreements;
pub mod daemon;
mod delivery;
mod export;
mod github;
mod members;
mod slack;

pub use github::{disconnect_prompt, parse_org_choice, replace_prompt};

use std::io::{self, BufRead, IsTerminal, Write};

use serde::Serialize;
use tidemark_protocol::{TeamRef, validate_team_name};

use crate::autostart::{Endpoint, STARTING_MESSAGE, connect_or_start};
use crate::cli::{
    Command, ConnectService, DeliveryCommand, DeliveryConfigCommand, DisconnectService, Format,
    TeamCommand,
};
use crate::client::{ClientError, Connection};
use crate::output;

// `repos`, `sync`, `members`, `prs` and `metrics`.
mod sync;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Paths(#[from] tidemark_protocol::paths::NoDataDir),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("invalid team name: {0}")]
    InvalidName(String),
    #[error(
        "refusing to delete team '{0}' without confirmation: stdin is not a terminal; \
         pass --yes to delete it"
    )]
    NeedsConfirmation(String),
    #[error(
        "'{text}' names team #{id} by its id, but your team #{named} is also named '{text}' \
         (a name from before names starting with '#' were refused); nothing was deleted. \
         Rename team #{named} first: tidemark team rename '#{named}' NEW-NAME"
    )]
    AmbiguousTeam { text: String, id: u64, named: u64 },
    #[error("not deleted: team '{0}' is kept")]
    Declined(String),
    #[error(
        "team '{team}' is already connected to GitHub ({connection}); stdin is not a terminal, \
         so pass --yes to replace its token"
    )]
    AlreadyConnected { team: String, connection: String },
    #[error("not replaced: team '{0}' keeps its GitHub token")]
    NotReplaced(String),
    #[error("several organizations are visible: pass --org SLUG (one of: {0})")]
    ChooseOrg(String),
    #[error("no organization chosen; nothing was connected")]
    NoOrgChosen,
    /// `--github-login` named another account than the one GitHub signed in.
    #[error(
        "GitHub signed the browser in as @{actual}, not @{expected} (--github-login); nothing \
         was stored"
    )]
    LoginMismatch { expected: String, actual: String },
    #[error(
        "GitHub signed the browser in as @{0}, and stdin is not a terminal to confirm that \
         account; nothing was stored. If @{0} is the account to connect, run the command again \
         with --github-login {0}"
    )]
    LoginNeedsConfirmation(String),
    #[error("not connected: team '{team}' was not connected as @{login}; nothing was stored")]
    LoginRefused { team: String, login: String },
    /// The daemon's reason, already written for the user.
    #[error("{0}")]
    ConnectFailed(String),
    /// `tidemark daemon status` and the like when nothing answers (exit status 3).
    #[error("{0}")]
    NotRunning(String),
    #[error("interrupted: nothing was connected")]
    Interrupted,
    #[error(
        "refusing to disconnect team '{0}' from GitHub without confirmation: stdin is not a \
         terminal; pass --yes to disconnect it"
    )]
    DisconnectNeedsConfirmation(String),
    #[error("not disconnected: team '{0}' keeps its GitHub connection")]
    DisconnectDeclined(String),
    #[error(
        "the terminal UI needs a terminal on stdin and stdout; for scripts use a subcommand \
         (see `tidemark --help`)"
    )]
    NotATerminal,
    #[error(transparent)]
    Tui(#[from] crate::runtime::TuiError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("invalid repository name: {0}")]
    InvalidRepoName(String),
    #[error("invalid --since: {0}")]
    InvalidSince(String),
    /// A refusal of this command line's own, worded whole (what was wrong and what to do).
    #[error("{0}")]
    Usage(String),
    #[error("sync of team '{team}' failed: {reason}")]
    SyncFailed { team: String, reason: String },
    /// The daemon's words (which name no command: the TUI shows them too) and this command
    /// line's way to connect.
    #[error("{reason} (tidemark connect github --team {team_word})")]
    NotConnected { reason: String, team_word: String },
}

pub async fn run(command: Command, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        Command::Repos { command } => sync::repos(command, endpoint).await,
        Command::Sync(args) => sync::sync(args, endpoint).await,
        Command::Members(args) => sync::members(args, endpoint).await,
        Command::Webhook {
            command: crate::cli::WebhookCommand::RotateSecret(args),
        } => sync::rotate_secret(args, endpoint).await,
        Command::Prs(args) => sync::prs(args, endpoint).await,
        Command::Metrics(args) => sync::metrics(args, endpoint).await,
        Command::Dora(args) => delivery::dora(args, endpoint).await,
        Command::Agreements { command } => agreements::run(command, endpoint).await,
        Command::Alerts(args) => agreements::alerts(args, endpoint).await,
        Command::Slack { command } => slack::run(command, endpoint).await,
        Command::Export(args) => export::export(args, endpoint).await,
        Command::Delivery {
            command: DeliveryCommand::Config { command },
        } => match command {
            DeliveryConfigCommand::Show { team, format } => {
                delivery::show(team, format, endpoint).await
            }
            DeliveryConfigCommand::Set(args) => delivery::set(args, endpoint).await,
        },
        Command::Team { command } => team(command, endpoint).await,
        Command::Status { team, format } => {
            let conn = connect(endpoint).await?;
            let statuses = conn.status(team.as_deref().map(TeamRef::parse)).await?;
            emit(format, &statuses, || {
                output::status(&statuses, crate::timefmt::now())
            })
        }
        Command::Connect {
            service: ConnectService::Github(args),
        } => github::connect_github(args, endpoint).await,
        Command::Disconnect {
            service: DisconnectService::Github(args),
        } => github::disconnect_github(args, endpoint).await,
        Command::Connect {
            service: ConnectService::Slack(args),
        } => slack::connect_slack(args, endpoint).await,
        Command::Disconnect {
            service: DisconnectService::Slack(args),
        } => slack::disconnect_slack(args, endpoint).await,
        Command::Setup {
            service: crate::cli::SetupService::Github(args),
        } => daemon::setup_github(args, endpoint).await,
        // Dispatched before a runtime exists (see `cli::main_from`).
        Command::Daemon { .. } => unreachable!("the daemon subcommand is run by cli::main_from"),
        Command::Completions { .. } => unreachable!("completions are printed by cli::main_from"),
    }
}

async fn team(command: TeamCommand, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        TeamCommand::Create { name, format } => {
            validate_team_name(&name).map_err(CliError::InvalidName)?;
            let team = connect(endpoint).await?.team_create(name).await?;
            emit(format, &team, || output::team_created(&team))
        }
        TeamCommand::List { format } => {
            let conn = connect(endpoint).await?;
            let teams = conn.team_list().await?;
            let waiting = if format.json {
                String::new()
            } else {
                members::waiting_line(&conn).await
            };
            emit(format, &teams, || output::team_list(&teams) + &waiting)
        }
        TeamCommand::Rename { old, new, format } => {
            validate_team_name(&new).map_err(CliError::InvalidName)?;
            let conn = connect(endpoint).await?;
            let team = conn.team_rename(TeamRef::parse(&old), new).await?;
            emit(format, &team, || output::team_renamed(&old, &team))
        }
        TeamCommand::Delete { name, yes, format } => {
            // Decide before connecting: no daemon gets started for a deletion we will refuse.
            let stdin = io::stdin();
            if !yes && !stdin.is_terminal() {
                return Err(CliError::NeedsConfirmation(name));
            }
            let conn = connect(endpoint).await?;
            // What is confirmed is what goes: the prompt names the team's id, and the delete
            // asks for that id, not for the text again.
            let target = match resolve_for_delete(&name, &conn.team_list().await?)? {
                Some(team) => TeamRef::Id(team.id),
                None => TeamRef::parse(&name), // the daemon says why it is not there
            };
            if !yes {
                let shown = match &target {
                    TeamRef::Id(id) => format!("{name}' (#{id})"),
                    TeamRef::Name(_) => format!("{name}'"),
                };
                if !confirm(&delete_prompt(&shown), &mut stdin.lock(), &mut io::stderr())? {
                    return Err(CliError::Declined(name));
                }
            }
            let deleted = conn.team_delete(target).await?;
            let json = serde_json::json!({ "deleted": { "id": deleted.id, "name": deleted.name } });
            emit(format, &json, || output::team_deleted(&deleted))
        }
        command @ (TeamCommand::AddMember { .. }
        | TeamCommand::RemoveMember { .. }
        | TeamCommand::Members { .. }
        | TeamCommand::Invitations { .. }
        | TeamCommand::Accept { .. }
        | TeamCommand::Decline { .. }) => members::run(command, endpoint).await,
    }
}

async fn connect(endpoint: &Endpoint) -> Result<Connection, ClientError> {
    // stderr, so stdout stays clean for --json.
    connect_or_start(endpoint, || eprintln!("{STARTING_MESSAGE}")).await
}

/// `shown` is the team as the prompt names it, closing quote included: `platform' (#1)`.
pub fn delete_prompt(shown: &str) -> String {
    format!("Delete team '{shown} and everything stored for it? This cannot be undone. [y/N] ")
}

/// The team `text` names among the caller's `teams`, if it is one of them. `#N` is always the
/// id N; if one of the caller's teams still carries the name `#N` (allowed before names were
/// checked), the text could mean either, and a deletion is refused until that team is renamed.
fn resolve_for_delete<'a>(
    text: &str,
    teams: &'a [tidemark_protocol::TeamInfo],
) -> Result<Option<&'a tidemark_protocol::TeamInfo>, CliError> {
    match TeamRef::parse(text) {
        TeamRef::Id(id) => {
            if let Some(clash) = teams.iter().find(|t| t.name == text && t.id != id) {
                return Err(CliError::AmbiguousTeam {
                    text: text.to_string(),
                    id,
                    named: clash.id,
                });
            }
            Ok(teams.iter().find(|t| t.id == id))
        }
        TeamRef::Name(name) => {
            let wanted = tidemark_protocol::nfc(&name).to_lowercase();
            let mut found = teams.iter().filter(|t| t.name.to_lowercase() == wanted);
            match (found.next(), found.next()) {
                (Some(team), None) => Ok(Some(team)),
                // None, or several: the daemon answers (not found, or which ids to use).
                _ => Ok(None),
            }
        }
    }
}

/// Ask on `out`, read one line from `input`; only `y` or `yes` (any case) agree.
pub fn confirm(prompt: &str, input: &mut impl BufRead, out: &mut impl Write) -> io::Result<bool> {
    write!(out, "{prompt}")?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Print JSON or the human text on stdout.
fn emit<T: Serialize>(
    format: Format,
    value: &T,
    human: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let text = if format.json {
        let mut json = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        json.push('\n');
        json
    } else {
        human()
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `tidemark team list | head -1` is not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_confirms() {
        for (answer, expected) in [
            ("y\n", true),
            ("YES\n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("yep\n", false),
        ] {
            let mut out = Vec::new();
            let got = confirm("sure? ", &mut answer.as_bytes(), &mut out).unwrap();
            assert_eq!(got, expected, "{answer:?}");
            assert_eq!(out, b"sure? ");
        }
    }

    #[test]
    fn prompt_names_the_team() {
        assert!(delete_prompt("platform' (#1)").starts_with("Delete team 'platform' (#1) "));
    }

    #[test]
    fn a_hash_id_that_is_also_an_old_name_is_refused_for_delete() {
        let mut teams = crate::fixtures::teams();
        teams[1].name = "#1".into(); // team #2, named before such names were refused
        let err = resolve_for_delete("#1", &teams).unwrap_err().to_string();
        assert!(
            err.contains("team #1") && err.contains("tidemark team rename '#2'"),
            "{err}"
        );
        // The old team is still reachable by its own id, and the others as before.
        assert_eq!(resolve_for_delete("#2", &teams).unwrap().unwrap().id, 2);
        assert_eq!(resolve_for_delete("#3", &teams).unwrap().unwrap().id, 3);
        assert_eq!(
            resolve_for_delete("PLATFORM", &teams).unwrap().unwrap().id,
            1
        );
        assert!(resolve_for_delete("#9", &teams).unwrap().is_none());
    }

    #[test]
    fn refusal_messages_say_what_to_do() {
        let text = CliError::NeedsConfirmation("platform".into()).to_string();
        assert!(
            text.contains("--yes") && text.contains("'platform'"),
            "{text}"
        );
        for err in [
            CliError::AlreadyConnected {
                team: "platform".into(),
                connection: "acme".into(),
            },
            CliError::DisconnectNeedsConfirmation("platform".into()),
        ] {
            let text = err.to_string();
            assert!(
                text.contains("--yes") && text.contains("'platform'"),
                "{text}"
            );
        }
        assert_eq!(
            CliError::ChooseOrg("a, b, c".into()).to_string(),
            "several organizations are visible: pass --org SLUG (one of: a, b, c)"
        );
    }

    #[test]
    fn json_of_protocol_types_is_stable() {
        let json = serde_json::to_value(&crate::fixtures::teams()[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": 1, "name": "platform", "created_at": 1_736_085_780i64, "role": "owner"})
        );
    }

    #[tokio::test]
    async fn invalid_names_are_refused_before_connecting() {
        let endpoint = Endpoint {
            data_dir: "/nonexistent/tidemark-test".into(),
            socket: "/nonexistent/tidemark-test.sock".into(),
            autostart: true,
        };
        let cmd = TeamCommand::Create {
            name: " padded".into(),
            format: Format { json: false },
        };
        let err = team(cmd, &endpoint).await.unwrap_err();
        assert!(matches!(err, CliError::InvalidName(_)), "{err}");
    }
}
