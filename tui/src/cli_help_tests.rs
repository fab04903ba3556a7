//! `tidemark --help` documents every flag, argument and environment variable.

use super::{AFTER_HELP, Cli};
use clap::CommandFactory;

#[test]
fn every_flag_has_help_and_every_environment_variable_is_listed() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut stack = vec![cmd];
    let mut missing = Vec::new();
    while let Some(c) = stack.pop() {
        for arg in c.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() {
                missing.push(format!("tidemark {} {id}", c.get_name()));
            }
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(
                    AFTER_HELP.contains(&format!("\n  {env} ")),
                    "{env} (of --{id}) is missing from the environment list"
                );
            }
        }
        stack.extend(c.get_subcommands().cloned());
    }
    assert!(missing.is_empty(), "no help text: {missing:?}");
}
