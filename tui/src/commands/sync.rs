//! `repos`, `sync`, `members`, `prs` and `metrics`: a team's GitHub data. Arguments are checked
//! before connecting, so a typo never starts a daemon; names are data, never paths.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use tidemark_protocol::messages::{NOT_CONNECTED, UNAUTHORIZED};
use tidemark_protocol::validate_repo_full_name;
use tidemark_protocol::{MetricsQuery, PrQuery, RpcError, SyncProgress, SyncStatus, TeamRef};

use super::{CliError, connect, emit};
use crate::autostart::Endpoint;
use crate::cli::{MetricsArgs, PrsArgs, RepoNames, ReposCommand, SyncArgs, TeamArgs};
use crate::client::{ClientError, Connection, SYNC_STATUS_WAIT_MS};
use crate::output::sync as out;
use crate::timefmt;

/// A daemon that answers a long poll at once with nothing new is not asked again sooner than
/// this (it should hold the call; this keeps a misbehaving one from spinning us).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(250);

pub async fn repos(command: ReposCommand, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        ReposCommand::Available(TeamArgs { team, format }) => {
            let conn = connect(endpoint).await?;
            let repos = conn
                .repos_available(TeamRef::parse(&team))
                .await
                .map_err(connect_first(&team))?;
            emit(format, &repos, || out::repos_available(&team, &repos))
        }
        ReposCommand::List(TeamArgs { team, format }) => {
            let conn = connect(endpoint).await?;
            let repos = conn.tracked_repos(TeamRef::parse(&team)).await?;
            emit(format, &repos, || out::tracked_repos(&team, &repos))
        }
        ReposCommand::Track(RepoNames {
            team,
            repos,
            format,
        }) => {
            let names = repo_names(repos)?;
            let conn = connect(endpoint).await?;
            let tracked = conn
                .repos_track(TeamRef::parse(&team), names)
                .await
                .map_err(connect_first(&team))?;
            emit(format, &tracked, || out::tracked(&team, &tracked))
        }
        ReposCommand::Untrack(RepoNames {
            team,
            repos,
            format,
        }) => {
            let names = repo_names(repos)?;
            let conn = connect(endpoint).await?;
            let untracked = conn.repos_untrack(TeamRef::parse(&team), names).await?;
            emit(format, &untracked, || out::untracked(&team, &untracked))
        }
    }
}

/// The daemon's "not connected" refusal, with the command that connects `team`.
pub fn connect_first(team: &str) -> impl Fn(ClientError) -> CliError + '_ {
    move |err| match err {
        ClientError::Rpc(RpcError::InvalidArgument { field, reason })
            if field == "team" && reason == NOT_CONNECTED =>
        {
            CliError::NotConnected {
                reason,
                team_word: out::shell_word(team),
            }
        }
        other => CliError::Client(other),
    }
}

/// Check every name by GitHub's rules (the daemon checks again), and drop repeats.
pub fn repo_names(names: Vec<String>) -> Result<Vec<String>, CliError> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        validate_repo_full_name(&name).map_err(CliError::InvalidRepoName)?;
        if !unique.iter().any(|seen| seen.eq_ignore_ascii_case(&name)) {
            unique.push(name);
        }
    }
    Ok(unique)
}

pub async fn members(args: TeamArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let members = conn.members(TeamRef::parse(&args.team)).await?;
    emit(args.format, &members, || out::members(&args.team, &members))
}

pub async fn rotate_secret(args: TeamArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let report = conn
        .webhook_rotate_secret(TeamRef::parse(&args.team))
        .await?;
    emit(args.format, &report, || out::rotated(&args.team, &report))
}

pub async fn prs(args: PrsArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    if let Some(repo) = &args.repo {
        validate_repo_full_name(repo).map_err(CliError::InvalidRepoName)?;
    }
    let query = PrQuery {
        team: TeamRef::parse(&args.team),
        repo: args.repo,
        state: args.state.map(Into::into),
        limit: args.limit,
    };
    let conn = connect(endpoint).await?;
    let prs = conn.pull_requests(query).await?;
    emit(args.format, &prs, || out::pull_requests(&prs, args.limit))
}

/// The query `metrics` sends; `now` (Unix seconds) anchors a relative `--since`.
pub fn metrics_query(args: &MetricsArgs, now: i64) -> Result<MetricsQuery, CliError> {
    let since = args
        .since
        .as_deref()
        .map(|text| timefmt::parse_since(text, now))
        .transpose()
        .map_err(CliError::InvalidSince)?;
    Ok(MetricsQuery {
        team: TeamRef::parse(&args.team),
        since,
        by: args.by.into(),
        include_bots: args.include_bots,
    })
}

pub async fn metrics(args: MetricsArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let query = metrics_query(&args, unix_now())?;
    let by = query.by;
    let conn = connect(endpoint).await?;
    let rows = conn.metrics(query).await?;
    emit(args.format, &rows, || out::metrics(&rows, by))
}

pub async fn sync(args: SyncArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let team = TeamRef::parse(&args.team);
    let mut progress = conn
        .sync_start(team.clone())
        .await
        .map_err(connect_first(&args.team))?;
    if args.wait {
        progress = follow(&conn, &team, progress, &mut io::stderr()).await?;
    }
    if !progress.running && progress.status == SyncStatus::Error {
        // Scripts get the final status on stdout as well as the error.
        if args.format.json {
            emit(args.format, &progress, String::new)?;
        }
        let mut reason = out::sync_failure(&progress);
        if progress.error.as_deref() == Some(UNAUTHORIZED) {
            // The daemon's words name no command; this is the command line's.
            let _ = write!(
                reason,
                "; run `tidemark connect github --team {} --yes`",
                out::shell_word(&args.team)
            );
        }
        return Err(CliError::SyncFailed {
            team: args.team,
            reason,
        });
    }
    emit(args.format, &progress, || {
        if progress.running {
            out::sync_started(&args.team, &progress)
        } else {
            out::sync_finished(&args.team, &progress)
        }
    })
}

/// Long-poll `sync_status` until the sync is over, writing a progress line to `log` each time
/// what it says changes. Returns the final status.
async fn follow(
    conn: &Connection,
    team: &TeamRef,
    mut progress: SyncProgress,
    log: &mut impl Write,
) -> Result<SyncProgress, CliError> {
    let mut last_line = String::new();
    while progress.running {
        let line = out::sync_progress_line(&progress);
        if line != last_line {
            // Progress is a courtesy: a closed stderr must not stop the wait.
            let _ = writeln!(log, "{line}");
            last_line = line;
        }
        let asked = Instant::now();
        let next = conn.sync_status(team.clone(), SYNC_STATUS_WAIT_MS).await?;
        if next == progress {
            tokio::time::sleep(MIN_POLL_INTERVAL.saturating_sub(asked.elapsed())).await;
        }
        progress = next;
    }
    Ok(progress)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Format, GroupBy};
    use tidemark_protocol::MetricsGrouping;

    fn nowhere() -> Endpoint {
        Endpoint {
            data_dir: "/nonexistent/tidemark-test".into(),
            socket: "/nonexistent/tidemark-test.sock".into(),
            autostart: true,
        }
    }

    fn metrics_args(since: Option<&str>) -> MetricsArgs {
        MetricsArgs {
            team: "platform".into(),
            since: since.map(Into::into),
            by: GroupBy::Repo,
            include_bots: true,
            format: Format { json: false },
        }
    }

    #[test]
    fn repo_names_are_checked_and_deduplicated() {
        let names = repo_names(vec![
            "acme/api".into(),
            "acme/web".into(),
            "ACME/API".into(),
        ])
        .unwrap();
        assert_eq!(names, ["acme/api", "acme/web"]);
        for bad in [
            "acme",
            "acme/../etc",
            "../etc/passwd",
            "acme/a b",
            "-x/y",
            "a/b/c",
        ] {
            let err = repo_names(vec!["acme/api".into(), bad.into()]).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid repository name: "),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn metrics_query_carries_the_arguments() {
        let now = 1_736_085_780;
        let query = metrics_query(&metrics_args(Some("2025-01-01")), now).unwrap();
        assert_eq!(
            query,
            MetricsQuery {
                team: TeamRef::Name("platform".into()),
                since: Some(1_735_689_600),
                by: MetricsGrouping::Repo,
                include_bots: true,
            }
        );
        let query = metrics_query(&metrics_args(Some("30d")), now).unwrap();
        assert_eq!(query.since, Some(now - 30 * 86_400));
        assert_eq!(metrics_query(&metrics_args(None), now).unwrap().since, None);
        let err = metrics_query(&metrics_args(Some("2025-02-30")), now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --since: '2025-02-30' is not a day of the calendar"
        );
    }

    #[tokio::test]
    async fn bad_arguments_are_refused_before_connecting() {
        // Nothing listens at the endpoint, and autostart is on: only an error raised before
        // connecting can come back as a usage error rather than a start attempt.
        let err = metrics(metrics_args(Some("last week")), &nowhere())
            .await
            .unwrap_err();
        assert!(matches!(err, CliError::InvalidSince(_)), "{err}");
        let track = ReposCommand::Track(RepoNames {
            team: "platform".into(),
            repos: vec!["acme/..".into()],
            format: Format { json: false },
        });
        let err = repos(track, &nowhere()).await.unwrap_err();
        assert!(matches!(err, CliError::InvalidRepoName(_)), "{err}");
        let args = PrsArgs {
            team: "platform".into(),
            repo: Some("not a repo".into()),
            state: None,
            limit: 50,
            format: Format { json: false },
        };
        let err = prs(args, &nowhere()).await.unwrap_err();
        assert!(matches!(err, CliError::InvalidRepoName(_)), "{err}");
    }
}
