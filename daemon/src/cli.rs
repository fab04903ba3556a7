//! Command line of `tidemarkd`.

use crate::crypto::{KEY_ENV, KEY_FILE, KeySource, Keyring};
use crate::{daemon, logging, paths, rotate};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const ENV_HELP: &str = "\
Environment:
  TIDEMARK_DATA_DIR           Data directory (as --data-dir)
  TIDEMARK_SOCKET             RPC socket path (as --socket)
  INTEGRATION_ENCRYPTION_KEY  Fernet keys, newest first, comma-separated. When unset, the key file
                              DATA_DIR/encryption.key (mode 0600) is used, and created on first start.
  RUST_LOG                    Log filter for stderr, e.g. info, debug, tidemark_daemon=trace
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
}

/// Run `tidemarkd` with these arguments (the first one is the program name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tidemarkd: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let (data_dir, socket) = paths::resolve(cli.data_dir, cli.socket).map_err(|e| e.to_string())?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => daemon::run(daemon::Config { data_dir, socket }).map_err(|e| e.to_string()),
        Command::GenerateKey => {
            println!("{}", Keyring::generate_key().expose());
            Ok(())
        }
        Command::RotateKey => {
            daemon::prepare_data_dir(&data_dir).map_err(|e| e.to_string())?;
            let outcome = rotate::rotate_key(&data_dir).map_err(|e| e.to_string())?;
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
    }
}
