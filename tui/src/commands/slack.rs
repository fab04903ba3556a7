//! `tidemark connect slack`, `tidemark disconnect slack` and `tidemark slack status|channel`.
//!
//! Like `connect github`'s web flow: the daemon starts a flow and answers Slack's authorize
//! link, which is printed (and opened when a browser can show, unless `--no-browser`); the
//! status is long-polled until the flow ends. Once linked, a channel is chosen (`--channel`, or
//! from a numbered list on a terminal) and set with `slack_channel_set`. Talk goes to stderr,
//! the result to stdout. There is no cancel RPC for a Slack flow: Ctrl-C stops waiting, and the
//! daemon lets the flow expire.

use std::io::{self, IsTerminal};

use tidemark_protocol::agreements::{SlackChannel, SlackConnectState, SlackStatus};
use tidemark_protocol::{ConnectPrompt, ConnectStarted, RpcError, TeamRef};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::github::{ask, or_interrupt, say};
use super::{CliError, confirm, connect, emit};
use crate::autostart::Endpoint;
use crate::browser;
use crate::cli::{ConnectSlack, DisconnectSlack, SlackCommand, channel_arg};
use crate::client::{ClientError, STATUS_WAIT_MS};
use crate::output::agreements as out;
use crate::output::printable;
use crate::timefmt::{self, now};

pub fn disconnect_prompt(team: &str) -> String {
    format!(
        "Disconnect team '{team}' from Slack? Its token is revoked and deleted, and messages \
         not yet sent are dropped. [y/N] "
    )
}

/// What to open, for stderr.
pub fn connect_prompt(started: &ConnectStarted, now: i64) -> String {
    let left = timefmt::time_left(started.expires_at - now);
    let link = match &started.prompt {
        ConnectPrompt::Browser { authorize_url } => printable(authorize_url),
        // Slack has no device flow; should a daemon answer one, its link is what to open.
        ConnectPrompt::Device {
            verification_uri, ..
        } => printable(verification_uri),
    };
    format!(
        "Open this link in a browser to add tidemark to a Slack workspace:\n\n    {link}\n\n\
         The link expires in {left}.\n"
    )
}

/// The channel an answer or `--channel` names among `channels`: its number in the menu (only
/// when `numbered`), `#name`, name (any case) or id.
pub fn pick_channel<'a>(
    answer: &str,
    channels: &'a [SlackChannel],
    numbered: bool,
) -> Option<&'a SlackChannel> {
    let answer = answer.trim();
    if numbered && let Ok(n) = answer.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| channels.get(i));
    }
    let name = answer.strip_prefix('#').unwrap_or(answer);
    channels
        .iter()
        .find(|c| c.id == answer)
        .or_else(|| channels.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
}

pub async fn run(command: SlackCommand, endpoint: &Endpoint) -> Result<(), CliError> {
    match command {
        SlackCommand::Status { team, format } => {
            let conn = connect(endpoint).await?;
            let statuses = conn.status(Some(TeamRef::parse(&team))).await?;
            let slack = statuses.into_iter().next().and_then(|s| s.slack);
            // JSON: the wire type, "not connected" included.
            let json = slack.clone().unwrap_or_default();
            emit(format, &json, || {
                out::slack_status(&team, slack.as_ref(), now())
            })
        }
        SlackCommand::Channel {
            team,
            channel,
            format,
        } => {
            let conn = connect(endpoint).await?;
            let status = conn
                .slack_channel_set(TeamRef::parse(&team), channel_arg(&channel))
                .await?;
            emit(format, &status, || channel_set(&team, &status))
        }
    }
}

fn channel_set(team: &str, status: &SlackStatus) -> String {
    format!(
        "Alerts and digests of team '{}' go to {}.\n",
        printable(team),
        out::slack_line(Some(status)).trim_start_matches("Slack: ")
    )
}

pub async fn connect_slack(args: ConnectSlack, endpoint: &Endpoint) -> Result<(), CliError> {
    let interactive = io::stdin().is_terminal();
    // Decided before anything starts: no workspace gets linked without a channel to post to.
    if args.channel.is_none() && !interactive {
        return Err(CliError::Usage(format!(
            "stdin is not a terminal to choose a Slack channel on: pass --channel (#name, name \
             or id); nothing was started for team '{}'",
            printable(&args.team)
        )));
    }
    let mut interrupts = signal(SignalKind::interrupt())?;
    let conn = or_interrupt(connect(endpoint), &mut interrupts).await?;
    let team = TeamRef::parse(&args.team);
    let started = match conn.slack_connect(team.clone()).await {
        Err(ClientError::Rpc(RpcError::NotConfigured(reason))) => {
            return Err(CliError::ConnectFailed(printable(&reason)));
        }
        other => other?,
    };
    if let ConnectPrompt::Browser { authorize_url } = &started.prompt
        && !args.no_browser
        && browser::display_available()
    {
        match browser::open(authorize_url, &browser::page_dir(&endpoint.data_dir)) {
            Ok(()) => say("Opening your browser…\n"),
            Err(err) => say(&format!("Cannot open a browser ({err}).\n")),
        }
    }
    say(&connect_prompt(&started, now()));
    say("Waiting for Slack… (Ctrl-C stops waiting)\n");
    let waited = wait(&conn, &started, &mut interrupts).await;
    // The page that opened the authorize link goes now, not a minute later.
    browser::remove_pages();
    let (workspace, channels) = waited?;
    let workspace = printable(&workspace);
    say(&format!("Linked to the Slack workspace {workspace}.\n"));
    let later = format!(
        "the workspace is linked; choose a channel later with `tidemark slack channel --team {} \
         CHANNEL`",
        printable(&args.team)
    );
    if channels.is_empty() {
        return Err(CliError::Usage(format!(
            "tidemark's bot sees no channel in {workspace}: invite it to one in Slack (/invite \
             @tidemark); {later}"
        )));
    }
    let channel = match &args.channel {
        Some(text) => pick_channel(text, &channels, false).ok_or_else(|| {
            CliError::Usage(format!(
                "no channel '{}' among those tidemark's bot sees ({}); {later}",
                printable(text),
                out::channel_names(&channels)
            ))
        })?,
        None => ask_channel(&channels, &later, &mut interrupts).await?,
    };
    let status = or_interrupt(
        conn.slack_channel_set(team, channel.id.clone()),
        &mut interrupts,
    )
    .await?;
    emit(args.format, &status, || channel_set(&args.team, &status))
}

/// Follow the flow to its end: the workspace and the channels the bot sees.
async fn wait(
    conn: &crate::client::Connection,
    started: &ConnectStarted,
    interrupts: &mut Signal,
) -> Result<(String, Vec<SlackChannel>), CliError> {
    loop {
        let state = or_interrupt(
            conn.slack_connect_status(started.flow, STATUS_WAIT_MS),
            interrupts,
        )
        .await;
        match state {
            Ok(SlackConnectState::Waiting) => {}
            Ok(SlackConnectState::Connected {
                workspace,
                channels,
            }) => return Ok((workspace, channels)),
            Ok(SlackConnectState::Failed { reason }) => {
                return Err(CliError::ConnectFailed(printable(&reason)));
            }
            // Ctrl-C included (exit status 130): nothing was linked, the flow expires at the
            // daemon.
            Err(err) => return Err(err),
        }
    }
}

async fn ask_channel<'a>(
    channels: &'a [SlackChannel],
    later: &str,
    interrupts: &mut Signal,
) -> Result<&'a SlackChannel, CliError> {
    say(&out::channel_menu(channels));
    loop {
        let prompt = format!("Which channel? [1-{}, or its name] ", channels.len());
        let answer = ask(&prompt, interrupts).await?.unwrap_or_default();
        if answer.trim().is_empty() {
            return Err(CliError::Usage(format!("no channel chosen: {later}")));
        }
        match pick_channel(&answer, channels, true) {
            Some(c) => return Ok(c),
            None => say(&format!(
                "'{}' is not one of them; type a number or a name.\n",
                printable(answer.trim())
            )),
        }
    }
}

pub async fn disconnect_slack(args: DisconnectSlack, endpoint: &Endpoint) -> Result<(), CliError> {
    // Decided before connecting: no daemon gets started for a change we will refuse.
    if !args.yes {
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::Usage(format!(
                "refusing to disconnect team '{}' from Slack without confirmation: stdin is not \
                 a terminal; pass --yes to disconnect it",
                printable(&args.team)
            )));
        }
        if !confirm(
            &disconnect_prompt(&args.team),
            &mut stdin.lock(),
            &mut io::stderr(),
        )? {
            return Err(CliError::Usage(format!(
                "not disconnected: team '{}' keeps its Slack link",
                printable(&args.team)
            )));
        }
    }
    connect(endpoint)
        .await?
        .slack_disconnect(TeamRef::parse(&args.team))
        .await?;
    let json = serde_json::json!({ "team": args.team, "disconnected": "slack" });
    emit(args.format, &json, || {
        format!(
            "Team '{}' is disconnected from Slack: its token is revoked and deleted.\n",
            printable(&args.team)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channels() -> Vec<SlackChannel> {
        crate::fixtures::slack_channels()
    }

    #[test]
    fn a_channel_is_named_by_hash_name_name_or_id() {
        let list = channels();
        for text in ["#eng-alerts", "eng-alerts", " ENG-alerts ", "C024BE91L"] {
            assert_eq!(
                pick_channel(text, &list, false).map(|c| c.id.as_str()),
                Some("C024BE91L"),
                "{text}"
            );
        }
        assert_eq!(pick_channel("#eng", &list, false), None);
        assert_eq!(
            pick_channel("c024be91l", &list, false),
            None,
            "ids keep their case"
        );
    }

    #[test]
    fn numbers_pick_from_the_menu_only_when_asked() {
        let list = channels();
        assert_eq!(
            pick_channel("2", &list, true).map(|c| c.name.as_str()),
            Some("platform")
        );
        for bad in ["0", "4", "-1"] {
            assert_eq!(pick_channel(bad, &list, true), None, "{bad}");
        }
        // `--channel 2` means a channel named 2, not the second one of a list nobody saw.
        assert_eq!(pick_channel("2", &list, false), None);
    }

    #[test]
    fn the_prompt_shows_the_link_and_when_it_expires() {
        let started = ConnectStarted {
            flow: 7,
            prompt: ConnectPrompt::Browser {
                authorize_url: "https://slack.com/oauth/v2/authorize?client_id=1&state=x".into(),
            },
            expires_at: 1_000 + 600,
        };
        let text = connect_prompt(&started, 1_000);
        assert!(
            text.contains("    https://slack.com/oauth/v2/authorize?client_id=1&state=x\n"),
            "{text}"
        );
        assert!(text.contains("expires in 10 min"), "{text}");
    }

    #[test]
    fn the_channel_set_line_names_channel_and_workspace() {
        let status = crate::fixtures::slack_status();
        assert_eq!(
            channel_set("platform", &status),
            "Alerts and digests of team 'platform' go to #eng-alerts (acme).\n"
        );
        assert!(disconnect_prompt("platform").ends_with("[y/N] "));
    }
}
