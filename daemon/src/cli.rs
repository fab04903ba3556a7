//! Command line of `tidemarkd`.

use crate::context::Stop;
use crate::crypto::{KEY_ENV, KEY_FILE, KeySource, Keyring};
use crate::ops::rotate;
use crate::ops::service::Scope;
use crate::settings::{self, ConfigFile, Key, Layer, Origin, Raw, Settings};
use crate::{lifecycle, logging, paths};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const ENV_HELP: &str = "\
Environment:
  TIDEMARK_CONFIG             The config file (as --config)
  TIDEMARK_DATA_DIR           Data directory (as --data-dir)
  TIDEMARK_SOCKET             RPC socket path (as --socket)
  TIDEMARK_SOCKET_GROUP       Group given access to the socket (as --socket-group)
  TIDEMARK_SOCKET_MODE        The socket's mode, 0600 or 0660 (as --socket-mode)
  INTEGRATION_ENCRYPTION_KEY  Fernet keys, newest first, comma-separated. When unset, the key file
                              DATA_DIR/encryption.key (mode 0600) is used, and created on first start.
  GITHUB_CLIENT_ID            Client id of tidemark's GitHub OAuth app (as --github-client-id;
                              enable the device flow in the app's settings)
  GITHUB_CLIENT_SECRET        Its client secret (optional: for the browser flow, --web, and to
                              revoke tidemark's token on disconnect). No flag: it would show in
                              `ps`; `tidemark setup github` keeps it sealed in the config file
  TIDEMARK_GITHUB_URL         GitHub's web URL (as --github-url)
  TIDEMARK_GITHUB_API_URL     GitHub's API URL (as --github-api-url)
  TIDEMARK_OAUTH_ADDR         OAuth callback listener address (as --oauth-addr)
  TIDEMARK_TOKEN_CHECK_SECS   How often expiring tokens are refreshed (as --token-check-secs)
  TIDEMARK_SYNC_INTERVAL_SECS Time between reconciliation syncs (as --sync-interval-secs)
  TIDEMARK_GITHUB_SECONDARY_WAIT_SECS Wait after a secondary rate limit without retry-after
                              (as --github-secondary-wait-secs)
  TIDEMARK_WEBHOOK_ADDR       Webhook listener address (as --webhook-addr)
  TIDEMARK_METRICS_ADDR       OpenMetrics endpoint address (as --metrics-addr; default off)
  TIDEMARK_WEBHOOK_BACKLOG_MAX Webhook deliveries that may wait per team (as
                              --webhook-backlog-max)
  TIDEMARK_PUBLIC_URL         The URL GitHub calls for webhooks (as --public-url)
  SLACK_CLIENT_ID             Client id of tidemark's Slack app (as --slack-client-id)
  SLACK_CLIENT_SECRET         Its client secret (needed to connect Slack). No flag: it would
                              show in `ps`
  TIDEMARK_SLACK_URL          Slack's URL, for OAuth and the Web API (as --slack-url)
  TIDEMARK_MANAGED_BY         Set by the systemd units (`systemd`), for `tidemark daemon status`
  RUST_LOG                    Log filter for stderr, e.g. info, debug, tidemark_daemon=trace
  XDG_CONFIG_HOME             Default config file is $XDG_CONFIG_HOME/tidemark/daemon.toml
                              (~/.config/tidemark/daemon.toml)
  XDG_DATA_HOME               Default data dir is $XDG_DATA_HOME/tidemark (~/.local/share/tidemark)
  XDG_RUNTIME_DIR             Default socket is $XDG_RUNTIME_DIR/tidemark/tidemark.sock
                              (DATA_DIR/tidemark.sock when unset)";

/// tidemarkd: the tidemark daemon. Owns the store and the encryption keys, and serves the
/// `tidemark` client over a Unix socket.
#[derive(Debug, Parser)]
#[command(name = "tidemarkd", version, after_help = ENV_HELP)]
struct Cli {
    /// Where tidemark keeps its data [default: $XDG_DATA_HOME/tidemark]
    #[arg(long, global = true, env = paths::DATA_DIR_ENV, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The RPC socket [default: $XDG_RUNTIME_DIR/tidemark/tidemark.sock]
    #[arg(long, global = true, env = paths::SOCKET_ENV, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// The config file [default: $XDG_CONFIG_HOME/tidemark/daemon.toml, else
    /// ~/.config/tidemark/daemon.toml; a missing default file means the defaults]. Every setting
    /// below may be set there under its name with `_` for `-` (e.g. `sync_interval_secs = 3600`);
    /// the environment and the command line win over it
    #[arg(long, global = true, env = "TIDEMARK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Group whose members may connect to the socket (a system install: `tidemark`); the
    /// socket gets that group, and a socket directory tidemarkd creates gets mode 0750
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_SOCKET_GROUP",
        value_name = "GROUP"
    )]
    socket_group: Option<String>,
    /// The socket's mode: 0600 (owner only) or 0660 (owner and --socket-group)
    #[arg(long, global = true, env = "TIDEMARK_SOCKET_MODE", value_name = "MODE")]
    socket_mode: Option<String>,
    /// Client id of tidemark's GitHub OAuth app (needed to connect GitHub; `tidemark setup
    /// github` saves it in the config file)
    #[arg(long, global = true, env = "GITHUB_CLIENT_ID", value_name = "ID")]
    github_client_id: Option<String>,
    /// Client id of tidemark's Slack app (needed to connect Slack; its secret comes from
    /// SLACK_CLIENT_SECRET or the config file, never a flag)
    #[arg(long, global = true, env = "SLACK_CLIENT_ID", value_name = "ID")]
    slack_client_id: Option<String>,
    /// Slack's URL, for OAuth and the Web API [default: https://slack.com]
    #[arg(long, global = true, env = "TIDEMARK_SLACK_URL", value_name = "URL")]
    slack_url: Option<String>,
    /// GitHub's web URL, for OAuth (GitHub Enterprise Server: https://HOST) [default:
    /// https://github.com]
    #[arg(long, global = true, env = "TIDEMARK_GITHUB_URL", value_name = "URL")]
    github_url: Option<String>,
    /// GitHub's API URL (GitHub Enterprise Server: https://HOST/api/v3) [default:
    /// https://api.github.com]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_GITHUB_API_URL",
        value_name = "URL"
    )]
    github_api_url: Option<String>,
    /// Where the OAuth callback listener of the browser flow binds: a loopback address; the
    /// default is 127.0.0.1 on a free port, open only while a browser flow waits
    #[arg(long, global = true, env = "TIDEMARK_OAUTH_ADDR", value_name = "ADDR")]
    oauth_addr: Option<String>,
    /// How often to look for GitHub tokens about to expire and refresh them, in seconds
    /// [default: 60]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_TOKEN_CHECK_SECS",
        value_name = "SECS"
    )]
    token_check_secs: Option<String>,
    /// Seconds between reconciliation syncs of each GitHub integration (webhooks keep data fresh
    /// in between) [default: 21600]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_SYNC_INTERVAL_SECS",
        value_name = "SECS"
    )]
    sync_interval_secs: Option<String>,
    /// Seconds to wait after a GitHub secondary rate limit that names no retry-after (GitHub asks
    /// for at least 60; the wait doubles while the limit persists, up to 16 times this)
    /// [default: 60]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_GITHUB_SECONDARY_WAIT_SECS",
        value_name = "SECS"
    )]
    github_secondary_wait_secs: Option<String>,
    /// Webhook deliveries that may wait to be applied per team (and 50 KB of them on average:
    /// 512 MB at the default); beyond it new ones are answered 503, and the next sync covers
    /// what they said [default: 10000]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_WEBHOOK_BACKLOG_MAX",
        value_name = "N"
    )]
    webhook_backlog_max: Option<String>,
    /// Where the webhook listener binds (path /webhooks/github); `off` for none [default:
    /// 127.0.0.1:8787]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_WEBHOOK_ADDR",
        value_name = "ADDR"
    )]
    webhook_addr: Option<String>,
    /// Serve OpenMetrics (Prometheus) at /metrics: a port (bound on 127.0.0.1) or HOST:PORT;
    /// delivery and review measures per team and repository, and the daemon's health [default:
    /// off]
    #[arg(
        long,
        global = true,
        env = "TIDEMARK_METRICS_ADDR",
        value_name = "ADDR"
    )]
    metrics_addr: Option<String>,
    /// The public URL GitHub calls for webhooks (your tunnel's, e.g. https://x.trycloudflare.com);
    /// without it tidemark creates no webhooks and relies on periodic syncs
    #[arg(long, global = true, env = "TIDEMARK_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve in the foreground until SIGTERM or SIGINT (the default)
    Run,
    /// Generate a new encryption key and re-encrypt every stored secret with it. Stop the daemon
    /// first. Safe to interrupt and run again.
    RotateKey,
    /// Print a new random encryption key (for INTEGRATION_ENCRYPTION_KEY)
    GenerateKey,
    /// Write a hardened systemd unit (user or system) and reload systemd; --print shows it only
    InstallService(InstallService),
    /// Stop, disable and remove the systemd unit (data, key and the tidemark account stay)
    UninstallService(ServiceScope),
    /// Check the data dir, its free space, the key file, store, socket, clock, GitHub and the
    /// webhook URL; one verdict line each (ok, warn, fail). Exit status 1 when anything fails
    Doctor,
    /// Write a consistent snapshot of the store to PATH (mode 0600), also while the daemon runs,
    /// authenticated with a key derived from the encryption key (the key file is not included:
    /// back it up separately)
    Backup {
        /// The backup file to create (refused if it exists)
        path: PathBuf,
    },
    /// Replace the store with a backup, after verifying it was made with one of this daemon's
    /// encryption keys and is intact. Stop the daemon first; the old store is kept beside it as
    /// store.before-restore-TIMESTAMP
    Restore {
        /// A file written by `tidemarkd backup` (refused when it is a symlink, or when another
        /// user could have written it)
        path: PathBuf,
        /// Also restore a backup whose origin cannot be shown: an old-format one (checksum
        /// only), or one whose MAC none of the keys in force verifies. Only for a file you know
        /// the origin of
        #[arg(long)]
        accept_unauthenticated: bool,
    },
    /// Print a shell completion script (e.g. `tidemarkd completions bash > /etc/bash_completion.d/tidemarkd`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// User or system unit.
#[derive(Debug, Args)]
#[group(skip)]
struct ServiceScope {
    /// A user unit (~/.config/systemd/user): runs as you, with your data dir
    #[arg(long, conflicts_with = "system", required_unless_present = "system")]
    user: bool,
    /// A system unit (/etc/systemd/system): runs as user `tidemark` with data in
    /// /var/lib/tidemark and the socket /run/tidemark/tidemark.sock (group tidemark, 0660)
    #[arg(long)]
    system: bool,
    /// Write the unit into this directory instead, and leave systemd alone (for packaging)
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InstallService {
    #[command(flatten)]
    scope: ServiceScope,
    /// Print the unit to stdout and change nothing
    #[arg(long)]
    print: bool,
    /// The tidemarkd binary the unit runs [default: this one]
    #[arg(long, value_name = "PATH")]
    exec: Option<PathBuf>,
}

/// Whether tidemarkd accepts these arguments (the first is the program name); for tests of
/// the command lines it writes, such as a unit's ExecStart.
pub fn check_args(args: &[&str]) -> Result<(), String> {
    Cli::try_parse_from(args)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Run `tidemarkd` with these arguments (the first one is the program name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // Taken now: a restart runs this very file again even if a new build replaced it since.
    let exe = std::env::current_exe();
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (m, cli)));
    let (matches, cli) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    logging::init();
    match run(cli, &matches) {
        Ok(Stop::Exit) => ExitCode::SUCCESS,
        Ok(Stop::Restart) => restart_self(exe),
        Err(message) => {
            eprintln!("tidemarkd: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Run again, in this process (same pid, so systemd and a client that waits on it follow):
/// the same executable, command line and environment; the config file is read anew.
fn restart_self(exe: std::io::Result<PathBuf>) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let exe = match exe {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("tidemarkd: error: cannot restart: cannot tell where the executable is: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(exe = %exe.display(), "restarting");
    // Every file and socket was opened close-on-exec: the new image starts clean.
    let err = std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!(
        "tidemarkd: error: cannot restart ({}): {err}",
        exe.display()
    );
    ExitCode::FAILURE
}

/// The command line's and environment's settings (the client secret only from the
/// environment: a flag would show in `ps`).
fn given_settings(matches: &ArgMatches) -> Layer {
    let mut layer = Layer::default();
    for key in Key::ALL {
        if key.flag().is_none() {
            continue;
        }
        if let Some(value) = matches.get_one::<String>(key.name()) {
            let origin = match matches.value_source(key.name()) {
                Some(ValueSource::EnvVariable) => Origin::Env,
                _ => Origin::Flag,
            };
            layer.set(key, Raw::Text(value.clone()), origin);
        }
    }
    layer.with_env(|name| std::env::var(name).ok())
}

/// `--config`, else the default path (which may be missing).
fn config_file(explicit: Option<PathBuf>) -> Option<ConfigFile> {
    match explicit {
        Some(path) => Some(ConfigFile {
            path: std::path::absolute(&path).unwrap_or(path),
            explicit: true,
        }),
        None => settings::default_path().map(|path| ConfigFile {
            path,
            explicit: false,
        }),
    }
}

/// Everything the daemon runs with: defaults, the config file, the environment, the flags.
fn load_settings(
    matches: &ArgMatches,
    file: Option<&ConfigFile>,
) -> Result<(Settings, Layer), String> {
    let given = given_settings(matches);
    let from_file = match file {
        Some(file) => settings::read_file(file).map_err(|e| e.to_string())?,
        None => Layer::default(),
    };
    let settings = Settings::resolve(&given, &from_file).map_err(|e| e.to_string())?;
    Ok((settings, given))
}

fn socket_access(
    group: Option<&str>,
    mode: Option<u32>,
) -> Result<crate::lifecycle::SocketAccess, String> {
    let gid = match group {
        Some(name) => Some(crate::auth::group_id(name).map_err(|e| format!("socket_group: {e}"))?),
        None => None,
    };
    let mode = mode.unwrap_or(if gid.is_some() { 0o660 } else { 0o600 });
    crate::lifecycle::SocketAccess::new(mode, gid).map_err(|e| format!("socket_mode: {e}"))
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<Stop, String> {
    let explicit_data_dir = cli.data_dir.clone();
    let (data_dir, socket) = paths::resolve(cli.data_dir, cli.socket).map_err(|e| e.to_string())?;
    let file = config_file(cli.config);
    let command = cli.command.unwrap_or(Command::Run);
    if matches!(
        command,
        Command::RotateKey | Command::Backup { .. } | Command::Restore { .. } | Command::Doctor
    ) && let Err(e) = crate::ops::hardening::disable_core_dumps()
    {
        // These read keys or secrets too; the daemon itself refuses to run without it.
        eprintln!("tidemarkd: warning: {e}");
    }
    let done = match command {
        Command::Run => {
            let started = load_settings(matches, file.as_ref()).and_then(|(settings, given)| {
                let socket_access =
                    socket_access(settings.socket_group.as_deref(), settings.socket_mode)?;
                lifecycle::run(lifecycle::Config {
                    data_dir: data_dir.clone(),
                    socket,
                    socket_access,
                    settings,
                    given,
                    file,
                })
                .map_err(|e| e.to_string())
            });
            if let Err(message) = &started {
                lifecycle::record_startup_error(&data_dir, message);
            }
            return started;
        }
        Command::InstallService(args) => {
            let scope = if args.scope.system {
                Scope::System
            } else {
                Scope::User
            };
            let exec = match args.exec {
                Some(p) => p,
                None => std::env::current_exe()
                    .and_then(|p| p.canonicalize())
                    .map_err(|e| format!("cannot tell where tidemarkd is: {e}; pass --exec"))?,
            };
            let spec = crate::ops::service::UnitSpec {
                scope,
                exec,
                data_dir: explicit_data_dir.filter(|_| scope == Scope::User),
                extra_args: vec![],
            };
            crate::ops::commands::install_service(spec, args.scope.unit_dir, args.print)
        }
        Command::UninstallService(scope) => crate::ops::commands::uninstall_service(
            if scope.system {
                Scope::System
            } else {
                Scope::User
            },
            scope.unit_dir.as_deref(),
        ),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "tidemarkd",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Backup { path } => crate::ops::commands::backup(&data_dir, &path),
        Command::Restore {
            path,
            accept_unauthenticated,
        } => crate::ops::commands::restore(&data_dir, &path, accept_unauthenticated),
        Command::Doctor => {
            let (settings, _) = load_settings(matches, file.as_ref())?;
            crate::ops::commands::doctor(&crate::ops::doctor::Inputs {
                data_dir,
                socket,
                web_url: settings.github.web_url,
                api_url: settings.github.api_url,
                public_url: settings.public_url,
            })
        }
        Command::GenerateKey => {
            println!("{}", Keyring::generate_key().expose());
            Ok(())
        }
        Command::RotateKey => {
            lifecycle::prepare_data_dir(&data_dir).map_err(|e| e.to_string())?;
            // As root on the system install's data dir, the new key file would be root's.
            crate::ops::ensure_owner(&data_dir, "run rotate-key")?;
            let outcome =
                rotate::rotate_key(&data_dir, file.as_ref()).map_err(|e| e.to_string())?;
            let r = &outcome.report;
            println!(
                "re-encrypted {} secret(s); {} already used the newest key",
                r.reencrypted, r.already_current
            );
            match &outcome.source {
                KeySource::File(path) if r.failed.is_empty() => println!(
                    "{} now holds only the new key ({} old key(s) dropped); back it up",
                    path.display(),
                    outcome.dropped_old_keys
                ),
                KeySource::File(path) => println!(
                    "{} keeps its old keys too, because some secrets could not be read",
                    path.display()
                ),
                KeySource::Env => println!(
                    "keys come from {KEY_ENV}, which tidemarkd cannot edit: every secret is now \
                     sealed with its first key, so the others can be removed from it. To move to \
                     a new key: `tidemarkd generate-key`, put it first in {KEY_ENV}, and run \
                     rotate-key again (or unset {KEY_ENV} to use DATA_DIR/{KEY_FILE})"
                ),
            }
            if r.failed.is_empty() {
                Ok(())
            } else {
                for failure in &r.failed {
                    eprintln!("tidemarkd: {failure}");
                }
                Err(format!(
                    "{} secret(s) could not be decrypted; they are kept unchanged",
                    r.failed.len()
                ))
            }
        }
    };
    done.map(|()| Stop::Exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag and argument of every subcommand has help text, and every environment
    /// variable a flag reads is named in `--help`'s environment list.
    #[test]
    fn help_documents_every_flag_and_environment_variable() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut stack = vec![cmd.clone()];
        while let Some(c) = stack.pop() {
            for arg in c.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                assert!(
                    arg.get_help().is_some(),
                    "{} {id} has no help text",
                    c.get_name()
                );
                if let Some(env) = arg.get_env() {
                    let env = env.to_string_lossy();
                    assert!(
                        ENV_HELP.contains(&format!("\n  {env} ")),
                        "{env} (of --{id}) is missing from the environment list"
                    );
                }
            }
            stack.extend(c.get_subcommands().cloned());
        }
        let help = cmd.render_long_help().to_string();
        for env in [
            "TIDEMARK_SOCKET_GROUP",
            "GITHUB_CLIENT_SECRET",
            "SLACK_CLIENT_SECRET",
            "INTEGRATION_ENCRYPTION_KEY",
        ] {
            assert!(help.contains(env), "--help does not mention {env}");
        }
    }

    #[test]
    fn socket_access_flags() {
        assert!(check_args(&["tidemarkd", "--socket-mode", "0660", "run"]).is_ok());
        let matches = Cli::command()
            .try_get_matches_from(["tidemarkd", "--socket-mode", "9"])
            .unwrap();
        let err = load_settings(&matches, None).unwrap_err();
        assert!(
            err.starts_with("--socket-mode: \"9\" is not allowed; expected \"0600\""),
            "{err}"
        );
        assert!(
            socket_access(None, Some(0o660)).is_err(),
            "a group mode needs a group"
        );
        assert!(
            socket_access(Some("0"), Some(0o666)).is_err(),
            "never for others"
        );
        let a = socket_access(Some("0"), None).unwrap();
        assert_eq!((a.mode, a.gid), (0o660, Some(0)));
        assert_eq!(socket_access(None, None).unwrap().mode, 0o600);
    }
}
