//! Parsing of `agreements`, `alerts`, `slack`, `connect slack` and `disconnect slack`: every
//! flag, and every bad value refused by clap naming its flag.

use clap::{CommandFactory, FromArgMatches};
use tidemark_protocol::agreements::{Span, WorkingHours};

use super::*;
use crate::cli::{Cli, Command, ConnectService, DisconnectService};

fn parse(args: &[&str]) -> Result<Option<Command>, clap::Error> {
    let matches = Cli::command().try_get_matches_from(args)?;
    Ok(Cli::from_arg_matches(&matches)?.command)
}

fn set(args: &[&str]) -> Result<AgreementsSetArgs, String> {
    let argv: Vec<&str> = ["tidemark", "agreements", "set", "--team", "t"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    match parse(&argv) {
        Ok(Some(Command::Agreements {
            command: AgreementsCommand::Set(args),
        })) => Ok(args),
        Ok(other) => panic!("not agreements set: {other:?}"),
        Err(err) => Err(err.to_string()),
    }
}

#[test]
fn every_setting_parses_with_the_protocols_parsers() {
    let args = set(&[
        "--first-review-within",
        "24h",
        "--max-size",
        "400",
        "--merge-within",
        "7d",
        "--min-approvals",
        "1",
        "--max-open-per-author",
        "5",
        "--working-hours",
        "09:00-18:00",
        "--timezone",
        "Europe/Berlin",
        "--digest-at",
        "09:30",
        "--json",
    ])
    .unwrap();
    assert_eq!(args.first_review_within, Some(Span::Hours(24)));
    assert_eq!(args.max_size, Some(400));
    assert_eq!(args.merge_within, Some(Span::Days(7)));
    assert_eq!(args.min_approvals, Some(1));
    assert_eq!(args.max_open_per_author, Some(5));
    assert_eq!(
        args.working_hours,
        Some(WorkingHours::parse("09:00-18:00").unwrap())
    );
    assert_eq!(args.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(args.digest_at, Some(570));
    assert!(args.format.json && args.changes_something());
    assert!(!set(&[]).unwrap().changes_something());
}

#[test]
fn unset_is_repeatable_and_takes_only_known_names() {
    let args = set(&["--unset", "max-size", "--unset", "digest"]).unwrap();
    assert_eq!(args.unset, [Unset::MaxSize, Unset::Digest]);
    assert!(args.changes_something());
    for name in [
        "first-review",
        "max-size",
        "merge-within",
        "min-approvals",
        "max-open-per-author",
        "working-hours",
        "digest",
    ] {
        assert!(set(&["--unset", name]).is_ok(), "{name}");
    }
    let err = set(&["--unset", "size"]).unwrap_err();
    assert!(err.contains("'size'") && err.contains("--unset"), "{err}");
    // The time zone is not a limit: it always has a value.
    assert!(set(&["--unset", "timezone"]).is_err());
}

#[test]
fn bad_values_are_usage_errors_naming_their_flag() {
    for (flag, value, says) in [
        ("--first-review-within", "24", "is not a span"),
        ("--first-review-within", "0h", "at least 1h"),
        ("--merge-within", "1w", "is not a span"),
        ("--merge-within", "400d", "at most 366d"),
        ("--max-size", "0", "must be at least 1"),
        ("--max-size", "lots", "is not a whole number"),
        ("--min-approvals", "1.5", "is not a whole number"),
        ("--max-open-per-author", "0", "must be at least 1"),
        ("--working-hours", "18:00-09:00", "must end after it starts"),
        ("--working-hours", "9-5", "is not a working day"),
        ("--digest-at", "9:30", "is not a time of day"),
        ("--digest-at", "24:00", "is not a time of day"),
        ("--timezone", "Europe Berlin", "is not a time zone name"),
        ("--timezone", "", "is not a time zone name"),
    ] {
        let err = set(&[flag, value]).unwrap_err();
        assert!(
            err.contains(&format!("for '{flag} <")),
            "{flag} {value}: {err}"
        );
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

#[test]
fn show_and_adherence_take_a_team_and_json() {
    let Some(Command::Agreements {
        command: AgreementsCommand::Show { team, format },
    }) = parse(&["tidemark", "agreements", "show", "--team", "#2", "--json"]).unwrap()
    else {
        panic!("not agreements show");
    };
    assert_eq!((team.as_str(), format.json), ("#2", true));
    let Some(Command::Agreements {
        command: AgreementsCommand::Adherence { since, .. },
    }) = parse(&[
        "tidemark",
        "agreements",
        "adherence",
        "--team",
        "t",
        "--since",
        "2025-01-01",
    ])
    .unwrap()
    else {
        panic!("not agreements adherence");
    };
    assert_eq!(since.as_deref(), Some("2025-01-01"));
    assert!(
        parse(&["tidemark", "agreements", "show"]).is_err(),
        "--team is needed"
    );
}

#[test]
fn alerts_take_all_and_since() {
    let Some(Command::Alerts(args)) = parse(&["tidemark", "alerts", "--team", "t"]).unwrap() else {
        panic!("not alerts");
    };
    assert_eq!(
        (args.all, args.since, args.format.json),
        (false, None, false)
    );
    let Some(Command::Alerts(args)) = parse(&[
        "tidemark", "alerts", "--team", "t", "--all", "--since", "30d", "--json",
    ])
    .unwrap() else {
        panic!("not alerts");
    };
    assert_eq!(
        (args.all, args.since.as_deref(), args.format.json),
        (true, Some("30d"), true)
    );
}

#[test]
fn connect_and_disconnect_slack_parse() {
    let Some(Command::Connect {
        service: ConnectService::Slack(args),
    }) = parse(&[
        "tidemark",
        "connect",
        "slack",
        "--team",
        "t",
        "--channel",
        "#eng-alerts",
        "--no-browser",
    ])
    .unwrap()
    else {
        panic!("not connect slack");
    };
    assert_eq!(args.channel.as_deref(), Some("#eng-alerts"));
    assert!(args.no_browser);
    let Some(Command::Disconnect {
        service: DisconnectService::Slack(args),
    }) = parse(&["tidemark", "disconnect", "slack", "--team", "t", "-y"]).unwrap()
    else {
        panic!("not disconnect slack");
    };
    assert!(args.yes);
    // GitHub's flags are not Slack's.
    assert!(parse(&["tidemark", "connect", "slack", "--team", "t", "--web"]).is_err());
    assert!(parse(&["tidemark", "disconnect", "slack", "--team", "t", "--purge"]).is_err());
}

#[test]
fn slack_channel_takes_the_channel_as_an_argument() {
    let Some(Command::Slack {
        command: SlackCommand::Channel { team, channel, .. },
    }) = parse(&["tidemark", "slack", "channel", "--team", "t", "eng-alerts"]).unwrap()
    else {
        panic!("not slack channel");
    };
    assert_eq!((team.as_str(), channel.as_str()), ("t", "eng-alerts"));
    assert!(parse(&["tidemark", "slack", "channel", "--team", "t"]).is_err());
    assert!(matches!(
        parse(&["tidemark", "slack", "status", "--team", "t", "--json"]).unwrap(),
        Some(Command::Slack {
            command: SlackCommand::Status { .. }
        })
    ));
}

#[test]
fn channels_are_sent_as_ids_or_hash_names() {
    assert_eq!(channel_arg("eng-alerts"), "#eng-alerts");
    assert_eq!(channel_arg(" #eng-alerts "), "#eng-alerts");
    assert_eq!(channel_arg("C024BE91L"), "C024BE91L");
    assert_eq!(channel_arg("G01ABCDEFG"), "G01ABCDEFG");
    // Short or lower case: a name, not an id.
    assert_eq!(channel_arg("CI"), "#CI");
    assert_eq!(channel_arg("c024be91l"), "#c024be91l");
}

#[test]
fn the_long_help_has_examples() {
    for path in [
        &["agreements"][..],
        &["agreements", "set"],
        &["alerts"],
        &["connect", "slack"],
        &["disconnect", "slack"],
        &["slack"],
    ] {
        let mut cmd = Cli::command();
        let mut sub = &mut cmd;
        for name in path {
            sub = sub.find_subcommand_mut(name).expect("a subcommand");
        }
        let help = sub.render_long_help().to_string();
        assert!(help.contains("Examples:\n  tidemark "), "{path:?}: {help}");
    }
}
