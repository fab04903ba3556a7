//! Tests of `cli.rs`.
use super::*;

fn parse(args: &[&str]) -> Result<(ArgMatches, Cli), clap::Error> {
    let matches = Cli::command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((matches, cli))
}

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn no_subcommand_means_tui() {
    let (_, cli) = parse(&["tidemark"]).unwrap();
    assert_eq!(cli.command, None);
    assert!(!cli.no_start);
}

#[test]
fn global_flags_work_after_the_subcommand() {
    let (_, cli) = parse(&[
        "tidemark",
        "team",
        "list",
        "--json",
        "--socket",
        "/s",
        "--no-start",
    ])
    .unwrap();
    assert_eq!(cli.socket, Some(PathBuf::from("/s")));
    assert!(cli.no_start);
    assert_eq!(
        cli.command,
        Some(Command::Team {
            command: TeamCommand::List {
                format: Format { json: true }
            }
        })
    );
}

#[test]
fn team_delete_takes_yes() {
    let (_, cli) = parse(&["tidemark", "team", "delete", "platform", "-y"]).unwrap();
    let Some(Command::Team {
        command: TeamCommand::Delete { name, yes, .. },
    }) = cli.command
    else {
        panic!()
    };
    assert_eq!((name.as_str(), yes), ("platform", true));
}

#[test]
fn team_membership_commands_parse() {
    let (_, cli) = parse(&[
        "tidemark",
        "team",
        "add-member",
        "platform",
        "alice",
        "--role",
        "admin",
    ])
    .unwrap();
    assert_eq!(
        cli.command,
        Some(Command::Team {
            command: TeamCommand::AddMember {
                team: "platform".into(),
                user: "alice".into(),
                role: RoleArg::Admin,
                format: Format { json: false },
            }
        })
    );
    let err = parse(&["tidemark", "team", "add-member", "platform", "alice"]).unwrap_err();
    assert_eq!(err.exit_code(), 2, "--role is required");
    let err = parse(&[
        "tidemark",
        "team",
        "add-member",
        "p",
        "alice",
        "--role",
        "boss",
    ])
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let (_, cli) = parse(&["tidemark", "team", "remove-member", "p", "1002", "--json"]).unwrap();
    assert!(matches!(
        cli.command,
        Some(Command::Team {
            command: TeamCommand::RemoveMember { .. }
        })
    ));
    let help = subcommand_help(&["team", "add-member"]);
    assert!(help.contains("Roles:") && help.contains("owner"), "{help}");
    assert!(
        help.contains("invitation") && help.contains("tidemark team accept"),
        "{help}"
    );
}

#[test]
fn usage_errors_are_exit_code_2() {
    let err = parse(&["tidemark", "team", "frobnicate"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = parse(&["tidemark", "team", "create"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn daemon_arguments_pass_through_untouched() {
    let (matches, cli) = parse(&[
        "tidemark",
        "daemon",
        "--help",
        "--data-dir",
        "/d",
        "--socket",
        "/s",
    ])
    .unwrap();
    let Some(Command::Daemon { args }) = &cli.command else {
        panic!("{:?}", cli.command)
    };
    let got = daemon_args(&matches, &cli, args);
    let want: Vec<OsString> = ["--help", "--data-dir", "/d", "--socket", "/s"]
        .map(OsString::from)
        .to_vec();
    assert_eq!(got, want);
}

#[test]
fn daemon_control_commands_parse_apart_from_the_pass_through() {
    let ctl = DaemonControl::try_parse_from(["tidemark daemon", "status", "--json"]).unwrap();
    assert_eq!(
        ctl.command,
        DaemonCtl::Status {
            format: Format { json: true }
        }
    );
    for name in DAEMON_CONTROL {
        assert!(
            DaemonControl::try_parse_from(["tidemark daemon", name]).is_ok(),
            "{name}"
        );
    }
    // Anything else still goes to the built-in daemon untouched.
    let (_, cli) = parse(&["tidemark", "daemon", "run", "--webhook-addr", "off"]).unwrap();
    let Some(Command::Daemon { args }) = &cli.command else {
        panic!()
    };
    assert_eq!(args[0], "run");
}

#[test]
fn flags_before_daemon_are_forwarded() {
    let (matches, cli) = parse(&["tidemark", "--socket", "/s", "daemon", "-v"]).unwrap();
    let Some(Command::Daemon { args }) = &cli.command else {
        panic!()
    };
    let got = daemon_args(&matches, &cli, args);
    assert_eq!(got, ["--socket", "/s", "-v"].map(OsString::from).to_vec());
}

#[test]
fn connect_github_takes_its_flags() {
    let (_, cli) = parse(&[
        "tidemark", "connect", "github", "--team", "platform", "--web", "--org", "acme", "-y",
        "--json",
    ])
    .unwrap();
    assert_eq!(
        cli.command,
        Some(Command::Connect {
            service: ConnectService::Github(ConnectGithub {
                team: "platform".into(),
                web: true,
                org: Some("acme".into()),
                yes: true,
                org_hook: false,
                github_login: None,
                format: Format { json: true },
            })
        })
    );
    // The team is required.
    let err = parse(&["tidemark", "connect", "github"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn connect_github_org_hook_asks_for_the_org_hook_scope() {
    let (_, cli) = parse(&[
        "tidemark",
        "connect",
        "github",
        "--team",
        "platform",
        "--org-hook",
    ])
    .unwrap();
    let Some(Command::Connect {
        service: ConnectService::Github(args),
    }) = cli.command
    else {
        panic!("not connect github")
    };
    assert!(args.org_hook);
}

#[test]
fn github_login_goes_with_the_web_flow() {
    let (_, cli) = parse(&[
        "tidemark",
        "connect",
        "github",
        "--team",
        "platform",
        "--web",
        "--github-login",
        "octocat",
    ])
    .unwrap();
    let Some(Command::Connect {
        service: ConnectService::Github(args),
    }) = cli.command
    else {
        panic!("not connect github")
    };
    assert_eq!(args.github_login.as_deref(), Some("octocat"));
    // The device flow never asks: the flag would promise a check that does not happen.
    let err = parse(&[
        "tidemark",
        "connect",
        "github",
        "--team",
        "platform",
        "--github-login",
        "octocat",
    ])
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--web"), "{err}");
}

#[test]
fn disconnect_github_takes_its_flags() {
    let (_, cli) = parse(&[
        "tidemark",
        "disconnect",
        "github",
        "--team",
        "platform",
        "--purge",
        "--yes",
    ])
    .unwrap();
    assert_eq!(
        cli.command,
        Some(Command::Disconnect {
            service: DisconnectService::Github(DisconnectGithub {
                team: "platform".into(),
                purge: true,
                yes: true,
                format: Format { json: false },
            })
        })
    );
}

fn subcommand_help(path: &[&str]) -> String {
    let mut cmd = Cli::command();
    let mut sub = &mut cmd;
    for name in path {
        sub = sub.find_subcommand_mut(name).unwrap();
    }
    sub.render_long_help().to_string()
}

#[test]
fn connect_help_names_the_daemon_settings() {
    let help = subcommand_help(&["connect", "github"]);
    for needle in [
        "github_client_id",
        "github_client_secret",
        "tidemark setup github",
        "--web",
        "--org",
        "--yes",
        "--github-login",
        "stores nothing until",
        "Ctrl-C",
        "Daemon-side settings",
    ] {
        assert!(help.contains(needle), "missing {needle} in:\n{help}");
    }
    let help = subcommand_help(&["disconnect", "github"]);
    for needle in ["--purge", "tidemark setup github", "history"] {
        assert!(help.contains(needle), "missing {needle} in:\n{help}");
    }
}

#[test]
fn help_documents_flags_and_environment() {
    let help = Cli::command().render_long_help().to_string();
    for needle in [
        "--socket",
        "--data-dir",
        "--no-start",
        "TIDEMARK_SOCKET",
        "TIDEMARK_DATA_DIR",
        "RUST_LOG",
        "GITHUB_CLIENT_ID",
        "tidemark daemon status",
        "tidemark setup github",
    ] {
        assert!(help.contains(needle), "missing {needle} in:\n{help}");
    }
}
