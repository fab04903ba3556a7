//! The command line: flags, subcommands, and dispatch. Parsing stays here; running a subcommand
//! is in [`crate::commands`].

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tidemark_protocol::paths::{self, DATA_DIR_ENV, SOCKET_ENV};

use crate::autostart::{Endpoint, ensure_data_dir};
use crate::commands::{self, CliError};
use crate::{logging, runtime};

mod agreements;
mod delivery;
mod export;
mod sync;
mod team;

pub use agreements::{
    AgreementsCommand, AgreementsSetArgs, AlertsArgs, ConnectSlack, DisconnectSlack, SlackCommand,
    Unset, channel_arg, is_channel_id, time_of_day,
};
pub use delivery::{ConfigSetArgs, DeliveryCommand, DeliveryConfigCommand, DoraArgs, DoraBy};
pub use export::{ExportArgs, ExportFormat, ExportWhat};
pub use sync::{
    GroupBy, MetricsArgs, PrStateArg, PrsArgs, RepoNames, ReposCommand, SyncArgs, TeamArgs,
};
pub use team::{RoleArg, TeamCommand};

const AFTER_HELP: &str = "\
Environment:
  TIDEMARK_SOCKET    same as --socket
  TIDEMARK_DATA_DIR  same as --data-dir
  TIDEMARK_DAEMON_USER  the account a shared system daemon runs as (default `tidemark`):
                     tidemark talks only to a daemon run by you, root or that account
  RUST_LOG           log filter for DATA_DIR/tui.log (default: warn,tidemark_tui=info)

  GITHUB_CLIENT_ID   `tidemark setup github` only: the OAuth app's client id to save in
                     the daemon's config (the daemon itself never reads this shell's
                     environment once it runs)
  GITHUB_CLIENT_SECRET  `tidemark setup github` only: its client secret, likewise

The daemon: `tidemark daemon status` shows it (pid, version, uptime, its settings and where
they come from); `tidemark daemon stop|restart|reload` steer it; `tidemark setup github`
gives it the GitHub OAuth app it needs to connect teams.

Without a subcommand, tidemark opens the terminal UI. When nothing answers on the socket, tidemark
starts its built-in daemon in the background (logging to DATA_DIR/daemon.log) unless --no-start
is given.";

const CONNECT_GITHUB_HELP: &str = "\
How it works:
  Device flow (default): tidemark prints a link and a code; open the link on any device, sign in
  to GitHub and type the code. Web flow (--web): tidemark opens a browser on this machine when
  there is a display, and always prints the link; GitHub sends the browser back to the daemon's
  loopback listener, so the browser must run on the daemon's machine.

  tidemark then waits for GitHub's answer (a code works for about 15 minutes); Ctrl-C cancels.
  When the token sees several organizations, tidemark lists them and asks which one; without a
  terminal, pass --org. A team that is already connected keeps its token unless you agree to
  replace it (--yes agrees in advance).

  Web flow: whoever opens the link decides which GitHub account signs in, and the link may have
  been seen by someone else. So tidemark shows the login GitHub answered and stores nothing until
  you confirm it; without a terminal, --github-login LOGIN confirms it in advance (another login
  stores nothing).

  With --org-hook tidemark also asks for the admin:org_hook scope. When you are an owner of the
  organization and the daemon has a public URL (--public-url), it then creates an organization
  webhook, so members joining or leaving arrive at once; otherwise they arrive with the periodic
  sync (`tidemark status` says which).

Daemon-side settings (the daemon's, not this command's):
  github_client_id      client id of the GitHub OAuth app; needed for both flows
  github_client_secret  its client secret; needed for --web, and to revoke the grant on
                        disconnect
  `tidemark setup github` saves them in the daemon's config file and applies them at once
  (also GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET in the daemon's environment);
  `tidemark daemon status` shows what the daemon has.

Examples:
  tidemark connect github --team platform
  tidemark connect github --team platform --org acme --yes --json
  tidemark connect github --team platform --org-hook
  tidemark connect github --team platform --web --github-login octocat --json";

const DISCONNECT_GITHUB_HELP: &str = "\
Disconnecting deletes the webhooks tidemark created, revokes the OAuth grant at GitHub when the
daemon knows the client secret (`tidemark setup github`; otherwise the report says how to revoke it
yourself), and deletes the token, the integration and the tracked repositories in one step.
Synced history (members, pull requests, reviews, commits) stays unless --purge.

Examples:
  tidemark disconnect github --team platform
  tidemark disconnect github --team platform --purge --yes --json";

/// tidemark: how your team's code review flows, from your terminal.
#[derive(Debug, Parser)]
#[command(name = "tidemark", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Unix socket of the daemon [default: $XDG_RUNTIME_DIR/tidemark/tidemark.sock, else
    /// DATA_DIR/tidemark.sock]
    #[arg(long, global = true, env = SOCKET_ENV, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Data directory of the daemon, and of tidemark's own logs [default:
    /// $XDG_DATA_HOME/tidemark, else ~/.local/share/tidemark]
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Never start the daemon: fail if nothing answers on the socket
    #[arg(long, global = true)]
    pub no_start: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Print machine-readable JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum WebhookCommand {
    /// Roll the webhook secret: GitHub's hooks get a new one; deliveries signed with the old one
    /// are still accepted for an hour
    RotateSecret(TeamArgs),
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Create, list, rename and delete teams; manage who belongs to them
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// The GitHub organization's repositories: see what there is, track, untrack
    Repos {
        #[command(subcommand)]
        command: ReposCommand,
    },
    /// Sync the team's GitHub data now (--wait follows it to the end)
    Sync(SyncArgs),
    /// The people measured: members of the organization, bots and those who left marked
    Members(TeamArgs),
    /// Pull requests of the tracked repositories with their size, cycle and review time
    Prs(PrsArgs),
    /// Cycle time, review time, its parts and size as p50/p75/p90, per team, repository, member
    /// or week
    Metrics(MetricsArgs),
    /// Delivery (DORA) measures: deployment frequency, change lead time, change fail rate,
    /// recovery time and rework rate, each traceable (--explain) to what it counts
    Dora(DoraArgs),
    /// The team's delivery rules: `tidemark delivery config show|set`
    Delivery {
        #[command(subcommand)]
        command: DeliveryCommand,
    },
    /// Working agreements: the limits the team sets itself (first review, size, merge time,
    /// approvals, open pull requests per author), `show`, `set`, and `adherence` per week
    #[command(after_help = agreements::AGREEMENTS_AFTER_HELP)]
    Agreements {
        #[command(subcommand)]
        command: AgreementsCommand,
    },
    /// Breaches of the team's working agreements, newest first, with the Slack link's state
    Alerts(AlertsArgs),
    /// The team's Slack link: `tidemark slack status|channel` (`connect slack` makes it)
    #[command(after_help = agreements::SLACK_AFTER_HELP)]
    Slack {
        #[command(subcommand)]
        command: SlackCommand,
    },
    /// Pull requests, deployments, incidents or weekly measures as CSV or JSON, for
    /// spreadsheets
    Export(ExportArgs),
    /// The team's GitHub webhooks
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Show teams, their integrations (credential metadata, never tokens), tracked repositories
    /// and sync status
    Status {
        /// Only this team (a name, or #id)
        #[arg(long, value_name = "NAME")]
        team: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Connect a team to an external service (GitHub, Slack)
    Connect {
        #[command(subcommand)]
        service: ConnectService,
    },
    /// Disconnect a team from an external service (GitHub, Slack)
    Disconnect {
        #[command(subcommand)]
        service: DisconnectService,
    },
    /// Print a shell completion script (e.g. `tidemark completions bash >
    /// ~/.local/share/bash-completion/completions/tidemark`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Set up what the daemon needs: `tidemark setup github` (the GitHub OAuth app)
    Setup {
        #[command(subcommand)]
        service: SetupService,
    },
    /// The daemon: `tidemark daemon status|stop|restart|reload` (see `tidemark daemon status
    /// --help`); anything else runs the built-in daemon in the foreground with these arguments
    /// (`tidemark daemon --help` is tidemarkd's)
    #[command(disable_help_flag = true)]
    Daemon {
        /// Arguments for the daemon, exactly as `tidemarkd` takes them
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            num_args = 0..,
            value_name = "ARGS"
        )]
        args: Vec<OsString>,
    },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum SetupService {
    /// Give the daemon the GitHub OAuth app it connects teams through: shows what to register
    /// on GitHub (with the exact callback URL), asks for the client id and optional secret,
    /// saves them in the daemon's config file (the secret sealed with its key) and applies them
    /// at once
    #[command(after_help = SETUP_GITHUB_HELP)]
    Github(SetupGithub),
}

const SETUP_GITHUB_HELP: &str = "\
Only the daemon's own user and root may do this. Without --client-id, and with a terminal, it
asks; GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET in this shell are used when set.

Examples:
  tidemark setup github
  tidemark setup github --client-id Ov23liAbCdEf12345678 --no-secret
  printf '%s\\n' \"$SECRET\" | tidemark setup github --client-id Ov23li... --client-secret-stdin";

#[derive(Debug, Args, PartialEq, Eq)]
pub struct SetupGithub {
    /// The OAuth app's client id [default: asked for]
    #[arg(long, env = "GITHUB_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the client secret from the first line of stdin
    #[arg(long, conflicts_with = "no_secret")]
    pub client_secret_stdin: bool,
    /// Keep no client secret (one saved before is removed): the device flow only
    #[arg(long)]
    pub no_secret: bool,
    #[command(flatten)]
    pub format: Format,
}

/// `tidemark daemon status|stop|restart|reload`, parsed apart from the pass-through
/// `tidemark daemon ARGS` (see [`main_from`]).
#[derive(Debug, Parser, PartialEq, Eq)]
#[command(name = "tidemark daemon")]
pub struct DaemonControl {
    #[command(subcommand)]
    pub command: DaemonCtl,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum DaemonCtl {
    /// Whether the daemon runs: pid, version, uptime, its user, data dir, socket, config file,
    /// and every setting with its value (secrets masked) and where it comes from. Exit status 3
    /// when it is not running (with the reason its last start failed, when known)
    Status {
        #[command(flatten)]
        format: Format,
    },
    /// Stop the daemon (webhook deliveries in hand finish first); its own user and root only
    Stop,
    /// Stop the daemon and start it again in place: the same command line, the config file read
    /// anew (also for settings a reload cannot change: webhook_addr, socket_group, socket_mode).
    /// Starts it when it is not running
    Restart,
    /// Read the daemon's config file again and apply it now (as SIGHUP does); says which
    /// changes need a restart
    Reload {
        #[command(flatten)]
        format: Format,
    },
}

/// The names `tidemark daemon` takes as control commands rather than passing them through.
pub const DAEMON_CONTROL: [&str; 4] = ["status", "stop", "restart", "reload"];

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum ConnectService {
    /// Connect a team to its GitHub organization with OAuth (device code, or --web)
    #[command(after_help = CONNECT_GITHUB_HELP)]
    Github(ConnectGithub),
    /// Connect a team to a Slack workspace (admins and owners): alerts and a daily digest go to
    /// a channel there
    Slack(ConnectSlack),
}

#[derive(Debug, Args, PartialEq, Eq)]
pub struct ConnectGithub {
    /// The team to connect (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Authorize in a browser on this machine instead of typing a code (the daemon needs
    /// GITHUB_CLIENT_SECRET)
    #[arg(long)]
    pub web: bool,
    /// The organization to connect (its login, as in github.com/SLUG); asked for when the token
    /// sees several
    #[arg(long, value_name = "SLUG")]
    pub org: Option<String>,
    /// Replace the token of a team that is already connected without asking (needed when stdin
    /// is not a terminal)
    #[arg(long, short)]
    pub yes: bool,
    /// Also ask for the admin:org_hook scope, so that an org owner's connection gets an
    /// organization webhook and member changes arrive at once
    #[arg(long)]
    pub org_hook: bool,
    /// With --web: the GitHub account the browser must sign in as. Whoever opens the link picks
    /// the account, so tidemark shows the login GitHub answered and asks before storing
    /// anything; this answers in advance (needed when stdin is not a terminal). Another login
    /// stores nothing
    #[arg(long, value_name = "LOGIN", requires = "web")]
    pub github_login: Option<String>,
    #[command(flatten)]
    pub format: Format,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum DisconnectService {
    /// Disconnect a team from GitHub: webhooks, grant, token and tracked repositories
    #[command(after_help = DISCONNECT_GITHUB_HELP)]
    Github(DisconnectGithub),
    /// Disconnect a team from Slack: the token is revoked and deleted
    Slack(DisconnectSlack),
}

#[derive(Debug, Args, PartialEq, Eq)]
pub struct DisconnectGithub {
    /// The team to disconnect (a name, or #id)
    #[arg(long, value_name = "NAME")]
    pub team: String,
    /// Also delete the synced history: members, pull requests, reviews and commits
    #[arg(long)]
    pub purge: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub format: Format,
}

/// The built-in daemon's entry point (`tidemark daemon ARGS` runs it with `tidemark daemon` and
/// ARGS): this library does not link the daemon, so the `tidemark` binary, which does, passes
/// `tidemark_daemon::cli::main_from`.
pub type BuiltinDaemon = fn(Vec<OsString>) -> ExitCode;

/// Parse `args` (the first is the program name), run, and report errors as `error: ...` with
/// exit code 1; usage errors keep clap's message and exit code 2. `daemon` runs `tidemark daemon
/// ARGS`.
pub fn main_from<I, T>(args: I, daemon: BuiltinDaemon) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(err.exit_code().clamp(0, 255) as u8);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Completions { shell }) = &cli.command {
        clap_complete::generate(
            *shell,
            &mut Cli::command(),
            "tidemark",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let mut cli = cli;
    let mut control = None;
    if let Some(Command::Daemon { args }) = &cli.command
        && let Some(first) = args.first().and_then(|a| a.to_str())
        && DAEMON_CONTROL.contains(&first)
    {
        let parsed = DaemonControl::try_parse_from(
            std::iter::once(OsString::from("tidemark daemon")).chain(args.iter().cloned()),
        );
        match parsed {
            Ok(parsed) => control = Some(parsed.command),
            Err(err) => {
                let _ = err.print();
                return ExitCode::from(err.exit_code().clamp(0, 255) as u8);
            }
        }
    }
    if let Some(Command::Daemon { args }) = &cli.command
        && control.is_none()
    {
        // The daemon runs its own runtime: call it before creating ours.
        let args = daemon_args(&matches, &cli, args);
        return daemon(
            std::iter::once(OsString::from("tidemark daemon"))
                .chain(args)
                .collect(),
        );
    }
    if control.is_some() {
        cli.command = None;
    }
    match run(cli, control) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err @ CliError::NotRunning(_)) => {
            eprintln!("error: {err}");
            ExitCode::from(3)
        }
        // The shell's convention for a command stopped by SIGINT.
        Err(err @ CliError::Interrupted) => {
            eprintln!("{err}");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Arguments for the built-in daemon: the pass-through ones, preceded by `--data-dir` and
/// `--socket` when given on our command line before `daemon` (environment variables reach the
/// daemon by themselves, and passing them again would make them look like repeated flags).
pub fn daemon_args(matches: &ArgMatches, cli: &Cli, passthrough: &[OsString]) -> Vec<OsString> {
    let mut args = Vec::new();
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    if let (true, Some(dir)) = (given("data_dir"), &cli.data_dir) {
        args.extend(["--data-dir".into(), dir.clone().into_os_string()]);
    }
    if let (true, Some(socket)) = (given("socket"), &cli.socket) {
        args.extend(["--socket".into(), socket.clone().into_os_string()]);
    }
    args.extend(passthrough.iter().cloned());
    args
}

fn run(cli: Cli, control: Option<DaemonCtl>) -> Result<(), CliError> {
    let given = cli.socket.clone();
    let (data_dir, user_socket) = paths::resolve(cli.data_dir, cli.socket)?;
    // No daemon of this user's own, but the system service runs: use it (and start none).
    let (socket, system) = paths::client_socket(given, user_socket, Path::exists);
    let endpoint = Endpoint {
        data_dir,
        socket,
        autostart: !cli.no_start && !system,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Some(ctl) = control {
        if endpoint.data_dir.is_dir() {
            let _ = logging::init(&endpoint.data_dir.join(logging::LOG_FILE));
        }
        return runtime.block_on(commands::daemon::control(ctl, &endpoint));
    }
    match cli.command {
        None => {
            // A bad config file is said first, before the terminal is taken over.
            let config = match crate::config::default_path() {
                Some(path) => crate::config::load(&path)?,
                None => crate::config::Config::default(),
            };
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                return Err(CliError::NotATerminal);
            }
            // The TUI may start the daemon, which needs the directory anyway; logs go there.
            ensure_data_dir(&endpoint.data_dir).map_err(crate::client::ClientError::from)?;
            let log = endpoint.data_dir.join(logging::LOG_FILE);
            if let Err(err) = logging::init(&log) {
                eprintln!("warning: cannot log to {}: {err}", log.display());
            }
            runtime.block_on(runtime::run(endpoint, config))?;
            Ok(())
        }
        Some(command) => {
            // Log to the same file, but never create the directory just for that.
            if endpoint.data_dir.is_dir() {
                let _ = logging::init(&endpoint.data_dir.join(logging::LOG_FILE));
            }
            runtime.block_on(commands::run(command, &endpoint))
        }
    }
}

#[cfg(test)]
#[path = "cli_help_tests.rs"]
mod help_tests;

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
