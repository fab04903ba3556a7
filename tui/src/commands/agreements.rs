//! `tidemark agreements show|set|adherence` and `tidemark alerts`.

use tidemark_protocol::TeamRef;
use tidemark_protocol::agreements::{Agreements, AlertsQuery};

use super::{CliError, connect, emit};
use crate::autostart::Endpoint;
use crate::cli::{AgreementsCommand, AgreementsSetArgs, AlertsArgs, Unset};
use crate::output::agreements as out;
use crate::timefmt;

/// The most breaches `tidemark alerts` asks for (newest first; the open count covers all).
pub const ALERTS_LIMIT: u32 = 500;

pub async fn run(command: AgreementsCommand, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        AgreementsCommand::Show { team, format } => {
            let conn = connect(endpoint).await?;
            let agreements = conn.agreements(TeamRef::parse(&team)).await?;
            emit(format, &agreements, || out::agreements(&team, &agreements))
        }
        AgreementsCommand::Set(args) => set(args, endpoint).await,
        AgreementsCommand::Adherence {
            team,
            since,
            format,
        } => {
            let since = parse_since(since.as_deref())?;
            let conn = connect(endpoint).await?;
            let rows = conn.adherence(TeamRef::parse(&team), since).await?;
            emit(format, &rows, || out::adherence(&team, &rows))
        }
    }
}

fn parse_since(text: Option<&str>) -> Result<Option<i64>, CliError> {
    let now = timefmt::now();
    text.map(|t| timefmt::parse_since(t, now))
        .transpose()
        .map_err(CliError::InvalidSince)
}

/// The agreements with the flags' changes applied; a setting both given and `--unset` is
/// refused rather than guessed at.
pub fn apply(mut a: Agreements, args: &AgreementsSetArgs) -> Result<Agreements, String> {
    let given = |u: Unset| match u {
        Unset::FirstReview => args
            .first_review_within
            .is_some()
            .then_some("--first-review-within"),
        Unset::MaxSize => args.max_size.is_some().then_some("--max-size"),
        Unset::MergeWithin => args.merge_within.is_some().then_some("--merge-within"),
        Unset::MinApprovals => args.min_approvals.is_some().then_some("--min-approvals"),
        Unset::MaxOpenPerAuthor => args
            .max_open_per_author
            .is_some()
            .then_some("--max-open-per-author"),
        Unset::WorkingHours => args.working_hours.is_some().then_some("--working-hours"),
        Unset::Digest => args.digest_at.is_some().then_some("--digest-at"),
    };
    for &u in &args.unset {
        if let Some(flag) = given(u) {
            return Err(format!(
                "{flag} and --unset {} both given: say one of them",
                unset_name(u)
            ));
        }
    }
    replace(&mut a.first_review_within, args.first_review_within);
    replace(&mut a.merge_within, args.merge_within);
    replace(&mut a.working_hours, args.working_hours);
    replace(&mut a.max_size, args.max_size);
    replace(&mut a.min_approvals, args.min_approvals);
    replace(&mut a.max_open_per_author, args.max_open_per_author);
    replace(&mut a.digest_at, args.digest_at);
    if let Some(zone) = &args.timezone {
        a.timezone.clone_from(zone);
    }
    for u in &args.unset {
        match u {
            Unset::FirstReview => a.first_review_within = None,
            Unset::MaxSize => a.max_size = None,
            Unset::MergeWithin => a.merge_within = None,
            Unset::MinApprovals => a.min_approvals = None,
            Unset::MaxOpenPerAuthor => a.max_open_per_author = None,
            Unset::WorkingHours => a.working_hours = None,
            Unset::Digest => a.digest_at = None,
        }
    }
    Ok(a)
}

fn replace<T>(old: &mut Option<T>, new: Option<T>) {
    if new.is_some() {
        *old = new;
    }
}

/// The name `--unset` takes for a setting (as clap spells the value).
pub fn unset_name(u: Unset) -> &'static str {
    match u {
        Unset::FirstReview => "first-review",
        Unset::MaxSize => "max-size",
        Unset::MergeWithin => "merge-within",
        Unset::MinApprovals => "min-approvals",
        Unset::MaxOpenPerAuthor => "max-open-per-author",
        Unset::WorkingHours => "working-hours",
        Unset::Digest => "digest",
    }
}

async fn set(args: AgreementsSetArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    // Decided before connecting: no daemon gets started for a command that changes nothing.
    if !args.changes_something() {
        return Err(CliError::Usage(
            "nothing to change: give at least one setting or --unset (see `tidemark agreements \
             set --help`)"
                .into(),
        ));
    }
    let current = Agreements::default();
    apply(current, &args).map_err(CliError::Usage)?;
    let conn = connect(endpoint).await?;
    let team = TeamRef::parse(&args.team);
    let current = conn.agreements(team.clone()).await?;
    let wanted = apply(current, &args).map_err(CliError::Usage)?;
    let saved = conn.agreements_set(team, wanted).await?;
    emit(args.format, &saved, || {
        format!("Saved. {}", out::agreements(&args.team, &saved))
    })
}

pub async fn alerts(args: AlertsArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let since = parse_since(args.since.as_deref())?;
    let conn = connect(endpoint).await?;
    let alerts = conn
        .alerts(AlertsQuery {
            team: TeamRef::parse(&args.team),
            include_resolved: args.all,
            since,
            limit: ALERTS_LIMIT,
        })
        .await?;
    emit(args.format, &alerts, || {
        out::alerts(&alerts, args.all, &timefmt::local)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, FromArgMatches};
    use tidemark_protocol::agreements::{Span, WorkingHours};

    fn set_args(args: &[&str]) -> AgreementsSetArgs {
        let argv = ["tidemark", "agreements", "set", "--team", "t"]
            .iter()
            .chain(args)
            .copied();
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        match Cli::from_arg_matches(&matches).unwrap().command {
            Some(Command::Agreements {
                command: AgreementsCommand::Set(args),
            }) => args,
            other => panic!("not agreements set: {other:?}"),
        }
    }

    #[test]
    fn only_what_the_flags_give_changes() {
        let current = crate::fixtures::agreements();
        let changed = apply(
            current.clone(),
            &set_args(&["--max-size", "250", "--merge-within", "72h"]),
        )
        .unwrap();
        assert_eq!(changed.max_size, Some(250));
        assert_eq!(changed.merge_within, Some(Span::Hours(72)));
        // Everything else as it was.
        assert_eq!(
            Agreements {
                max_size: current.max_size,
                merge_within: current.merge_within,
                ..changed
            },
            current
        );
    }

    #[test]
    fn unset_takes_settings_back_and_keeps_the_rest() {
        let current = crate::fixtures::agreements();
        let changed = apply(
            current.clone(),
            &set_args(&["--unset", "digest", "--unset", "working-hours"]),
        )
        .unwrap();
        assert_eq!((changed.digest_at, changed.working_hours), (None, None));
        assert_eq!(changed.timezone, "Europe/Berlin");
        assert_eq!(changed.first_review_within, current.first_review_within);
    }

    #[test]
    fn a_setting_given_and_unset_is_refused_naming_both() {
        let err = apply(
            Agreements::default(),
            &set_args(&["--max-size", "400", "--unset", "max-size"]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "--max-size and --unset max-size both given: say one of them"
        );
        let err = apply(
            Agreements::default(),
            &set_args(&["--working-hours", "08:00-16:00", "--unset", "working-hours"]),
        )
        .unwrap_err();
        assert!(
            err.starts_with("--working-hours and --unset working-hours"),
            "{err}"
        );
    }

    #[test]
    fn a_new_day_and_zone_replace_the_old() {
        let changed = apply(
            crate::fixtures::agreements(),
            &set_args(&[
                "--working-hours",
                "08:00-16:30",
                "--timezone",
                "America/New_York",
                "--digest-at",
                "08:15",
            ]),
        )
        .unwrap();
        assert_eq!(
            changed.working_hours,
            Some(WorkingHours::parse("08:00-16:30").unwrap())
        );
        assert_eq!(changed.timezone, "America/New_York");
        assert_eq!(changed.digest_at, Some(8 * 60 + 15));
    }

    #[test]
    fn unset_names_are_claps() {
        use clap::ValueEnum;
        for u in Unset::value_variants() {
            assert_eq!(
                u.to_possible_value().unwrap().get_name(),
                unset_name(*u),
                "{u:?}"
            );
        }
    }

    #[tokio::test]
    async fn set_without_a_change_is_refused_before_connecting() {
        let endpoint = Endpoint {
            data_dir: "/nonexistent/tidemark-test".into(),
            socket: "/nonexistent/tidemark-test.sock".into(),
            autostart: true,
        };
        let err = set(set_args(&[]), &endpoint).await.unwrap_err();
        assert!(err.to_string().starts_with("nothing to change"), "{err}");
        let err = set(
            set_args(&["--max-size", "1", "--unset", "max-size"]),
            &endpoint,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, CliError::Usage(_)), "{err}");
    }
}
