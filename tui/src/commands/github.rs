//! `tidemark connect github` and `tidemark disconnect github`.
//!
//! Talk goes to stderr (the prompt, the questions, "waiting…"), the result to stdout, so
//! `--json` output stays clean. The web flow's GitHub login is confirmed by the user (or by
//! `--github-login`) before the daemon stores anything. Once the daemon has started a flow, every way out but a final
//! answer cancels it: an error, a refusal, or Ctrl-C (SIGINT is ours from the start of the
//! command, and a blocking read of stdin happens on a thread of its own so it cannot delay it).

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectStarted, ConnectState, FlowId,
    IntegrationInfo, OrgChoice, RpcError, TeamRef,
};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::{CliError, confirm, connect, emit};
use crate::autostart::Endpoint;
use crate::cli::{ConnectGithub, DisconnectGithub};
use crate::client::{ClientError, Connection, STATUS_WAIT_MS};
use crate::timefmt::now;
use crate::{browser, output};

/// How long a best-effort cancel may hold up the exit.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

pub fn replace_prompt(team: &str, connection: &str) -> String {
    format!(
        "Team '{team}' is already connected to GitHub ({connection}). Replace its token? [y/N] "
    )
}

/// The web flow's question: the account GitHub signed in may not be the user's.
pub fn login_prompt(team: &str, login: &str) -> String {
    format!(
        "GitHub says this browser signed in as @{login}. Connect team '{team}' as @{login}? [y/N] "
    )
}

pub fn disconnect_prompt(team: &str, purge: bool) -> String {
    if purge {
        format!(
            "Disconnect team '{team}' from GitHub and delete its synced history (members, pull \
             requests, reviews, commits)? Its webhooks, token and tracked repositories go too. \
             This cannot be undone. [y/N] "
        )
    } else {
        format!(
            "Disconnect team '{team}' from GitHub? Its webhooks, token and tracked repositories \
             are deleted; synced history is kept (--purge deletes it too). [y/N] "
        )
    }
}

/// The organization an answer picks: its number in the menu, or its login (any case).
pub fn parse_org_choice(answer: &str, orgs: &[OrgChoice]) -> Option<String> {
    let answer = answer.trim();
    if let Ok(n) = answer.parse::<usize>() {
        return n
            .checked_sub(1)
            .and_then(|i| orgs.get(i))
            .map(|o| o.login.clone());
    }
    orgs.iter()
        .find(|o| o.login.eq_ignore_ascii_case(answer))
        .map(|o| o.login.clone())
}

pub(super) fn say(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Ask on stderr and read one line of stdin; `None` at end of input. The read runs on a plain
/// thread: Ctrl-C answers at once, and the thread dies with the process.
pub(super) async fn ask(prompt: &str, interrupts: &mut Signal) -> Result<Option<String>, CliError> {
    say(prompt);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = io::stdin().lock().read_line(&mut line).map(|n| (n, line));
        let _ = tx.send(read);
    });
    tokio::select! {
        read = rx => {
            let (n, line) = read.map_err(|_| io::Error::other("reading stdin stopped"))??;
            Ok((n > 0).then_some(line))
        }
        _ = interrupts.recv() => {
            say("\n");
            Err(CliError::Interrupted)
        }
    }
}

/// Run an RPC unless Ctrl-C comes first.
pub(super) async fn or_interrupt<T>(
    call: impl Future<Output = Result<T, ClientError>>,
    interrupts: &mut Signal,
) -> Result<T, CliError> {
    tokio::select! {
        result = call => Ok(result?),
        _ = interrupts.recv() => Err(CliError::Interrupted),
    }
}

/// The daemon words a refusal for any client ("use the device flow instead"); the command line
/// names its own flag for it.
pub fn with_flag_hint(reason: &str, web: bool) -> String {
    if web && reason.contains("use the device flow") {
        format!("{reason} (run the command without --web)")
    } else if !web && reason.contains("use the web flow") {
        format!("{reason} (--web)")
    } else {
        reason.to_string()
    }
}

/// The daemon's "not set up" and this command line's way to set it up. A client id in this
/// shell's environment is the usual trap: the running daemon never sees it.
pub fn not_set_up_hint(reason: &str, client_id_in_env: bool) -> String {
    if client_id_in_env {
        format!(
            "{reason}. GITHUB_CLIENT_ID is set in this shell, but the daemon reads its own \
             settings: `tidemark setup github` saves it in the daemon's config and applies it"
        )
    } else {
        format!("{reason}: set it up with `tidemark setup github`")
    }
}

pub async fn connect_github(args: ConnectGithub, endpoint: &Endpoint) -> Result<(), CliError> {
    // From here on Ctrl-C is ours: it cancels the flow instead of killing us mid-way.
    let mut interrupts = signal(SignalKind::interrupt())?;
    let conn = or_interrupt(connect(endpoint), &mut interrupts).await?;
    let mut request = ConnectRequest {
        team: TeamRef::parse(&args.team),
        method: if args.web {
            ConnectMethod::Web
        } else {
            ConnectMethod::Device
        },
        org: args.org.clone(),
        replace: false,
        org_hook: args.org_hook,
    };
    let started = match conn.github_connect(request.clone()).await {
        Err(ClientError::Rpc(RpcError::InvalidArgument { field, reason })) if field == "method" => {
            return Err(CliError::ConnectFailed(format!(
                "invalid method: {}",
                with_flag_hint(&output::printable(&reason), args.web)
            )));
        }
        Err(ClientError::Rpc(RpcError::NotConfigured(reason))) => {
            return Err(CliError::ConnectFailed(not_set_up_hint(
                &output::printable(&reason),
                std::env::var_os("GITHUB_CLIENT_ID").is_some_and(|v| !v.is_empty()),
            )));
        }
        Err(ClientError::Rpc(RpcError::AlreadyExists(what))) => {
            // The daemon's message names it; the stored organization says it shorter.
            let connection = match conn.integrations(request.team.clone()).await {
                Ok(list) => output::github_connection(&list).map(output::describe_connection),
                Err(_) => None,
            }
            .unwrap_or(what);
            if !args.yes {
                if !io::stdin().is_terminal() {
                    return Err(CliError::AlreadyConnected {
                        team: args.team,
                        connection,
                    });
                }
                let prompt = replace_prompt(&args.team, &connection);
                let answer = ask(&prompt, &mut interrupts).await?.unwrap_or_default();
                if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
                    return Err(CliError::NotReplaced(args.team));
                }
            }
            request.replace = true;
            conn.github_connect(request).await?
        }
        other => other?,
    };
    let flow = started.flow;
    let pages = browser::page_dir(&endpoint.data_dir);
    let followed = follow(&conn, &started, &args, &pages, &mut interrupts).await;
    // The page that opened the authorize link (with its `state`) goes now, not a minute later.
    browser::remove_pages();
    match followed {
        Ok((github_login, integration)) => {
            let human = output::connected(&args.team, &github_login, &integration);
            let state = ConnectState::Connected {
                github_login,
                integration,
            };
            emit(args.format, &state, || human)
        }
        // The flow ended at the daemon: nothing to cancel.
        Err(CliError::ConnectFailed(reason)) => {
            Err(CliError::ConnectFailed(with_flag_hint(&reason, args.web)))
        }
        Err(err) => {
            cancel(&conn, flow).await;
            Err(err)
        }
    }
}

async fn cancel(conn: &Connection, flow: FlowId) {
    match tokio::time::timeout(CANCEL_GRACE, conn.github_connect_cancel(flow)).await {
        Ok(Ok(())) => tracing::info!(flow, "connect flow cancelled"),
        Ok(Err(err)) => tracing::warn!(flow, error = %err, "cancelling the connect flow failed"),
        Err(_) => tracing::warn!(flow, "cancelling the connect flow timed out"),
    }
}

/// Tell the user what to do, then follow the flow to its end.
async fn follow(
    conn: &Connection,
    started: &ConnectStarted,
    args: &ConnectGithub,
    pages: &Path,
    interrupts: &mut Signal,
) -> Result<(String, Box<IntegrationInfo>), CliError> {
    let flow = started.flow;
    if let ConnectPrompt::Browser { authorize_url } = &started.prompt
        && browser::display_available()
    {
        match browser::open(authorize_url, pages) {
            Ok(()) => say("Opening your browser…\n"),
            Err(err) => say(&format!("Cannot open a browser ({err}).\n")),
        }
    }
    say(&output::connect_prompt(
        started,
        now(),
        io::stderr().is_terminal(),
    ));
    say("Waiting for GitHub… (Ctrl-C cancels)\n");
    let interactive = io::stdin().is_terminal();
    let mut state = ConnectState::Waiting;
    loop {
        state = match state {
            ConnectState::Waiting => {
                or_interrupt(conn.github_connect_status(flow, STATUS_WAIT_MS), interrupts).await?
            }
            ConnectState::ConfirmLogin { github_login } => {
                let login = confirm_login(
                    &args.team,
                    &github_login,
                    args.github_login.as_deref(),
                    interactive,
                    interrupts,
                )
                .await?;
                or_interrupt(conn.github_connect_confirm_login(flow, login), interrupts).await?
            }
            ConnectState::ChooseOrg { orgs } => {
                if !interactive {
                    return Err(CliError::ChooseOrg(output::org_logins(&orgs)));
                }
                let org = pick_org(&orgs, interrupts).await?;
                or_interrupt(conn.github_connect_choose_org(flow, org), interrupts).await?
            }
            ConnectState::Connected {
                github_login,
                integration,
            } => return Ok((github_login, integration)),
            ConnectState::Failed { reason } => {
                return Err(CliError::ConnectFailed(output::printable(&reason)));
            }
        }
    }
}

/// Is the account GitHub signed the browser in as the one to connect? `--github-login` answers
/// in advance, else the user (a terminal is needed). Answers the login to confirm; any other
/// way out stores nothing (the caller cancels the flow).
async fn confirm_login(
    team: &str,
    shown: &str,
    expected: Option<&str>,
    interactive: bool,
    interrupts: &mut Signal,
) -> Result<String, CliError> {
    let printable = output::printable(shown);
    if let Some(expected) = expected {
        let expected = expected.trim().trim_start_matches('@');
        if !expected.eq_ignore_ascii_case(shown) {
            return Err(CliError::LoginMismatch {
                expected: output::printable(expected),
                actual: printable,
            });
        }
        say(&format!(
            "GitHub signed the browser in as @{printable}, as --github-login says.\n"
        ));
        return Ok(expected.to_string());
    }
    if !interactive {
        return Err(CliError::LoginNeedsConfirmation(printable));
    }
    let answer = ask(&login_prompt(team, &printable), interrupts)
        .await?
        .unwrap_or_default();
    if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(shown.to_string())
    } else {
        Err(CliError::LoginRefused {
            team: team.to_string(),
            login: printable,
        })
    }
}

async fn pick_org(orgs: &[OrgChoice], interrupts: &mut Signal) -> Result<String, CliError> {
    say(&output::org_menu(orgs));
    loop {
        let prompt = format!("Which one? [1-{}, or its name] ", orgs.len());
        let Some(answer) = ask(&prompt, interrupts).await? else {
            return Err(CliError::NoOrgChosen);
        };
        if answer.trim().is_empty() {
            return Err(CliError::NoOrgChosen);
        }
        match parse_org_choice(&answer, orgs) {
            Some(login) => return Ok(login),
            None => say(&format!(
                "'{}' is not one of them; type a number or a name.\n",
                output::printable(answer.trim())
            )),
        }
    }
}

pub async fn disconnect_github(
    args: DisconnectGithub,
    endpoint: &Endpoint,
) -> Result<(), CliError> {
    // Decide before connecting: no daemon gets started for a change we will refuse.
    if !args.yes {
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::DisconnectNeedsConfirmation(args.team));
        }
        let prompt = disconnect_prompt(&args.team, args.purge);
        if !confirm(&prompt, &mut stdin.lock(), &mut io::stderr())? {
            return Err(CliError::DisconnectDeclined(args.team));
        }
    }
    let report = connect(endpoint)
        .await?
        .github_disconnect(TeamRef::parse(&args.team), args.purge)
        .await?;
    emit(args.format, &report, || {
        output::disconnected(&args.team, &report)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs() -> Vec<OrgChoice> {
        ["acme", "Acme-Labs", "widgets"]
            .iter()
            .enumerate()
            .map(|(i, login)| OrgChoice {
                login: (*login).into(),
                id: i as u64 + 1,
                description: None,
            })
            .collect()
    }

    /// The daemon's words name no flag (the TUI shows them too); the command line adds its own.
    #[test]
    fn not_set_up_says_how_and_explains_the_shells_variable() {
        let reason = "GitHub is not set up on this daemon yet: it needs the client id of a \
                      GitHub OAuth app";
        assert_eq!(
            not_set_up_hint(reason, false),
            format!("{reason}: set it up with `tidemark setup github`")
        );
        let hint = not_set_up_hint(reason, true);
        assert!(
            hint.contains("GITHUB_CLIENT_ID is set in this shell"),
            "{hint}"
        );
        assert!(hint.contains("`tidemark setup github`"), "{hint}");
    }

    #[test]
    fn refusals_get_the_command_lines_flag() {
        let web = "the web flow needs the OAuth app's client secret, which this daemon does not \
                   have; use the device flow instead";
        assert_eq!(
            with_flag_hint(web, true),
            format!("{web} (run the command without --web)")
        );
        let device = "the device flow is not enabled for this OAuth app: enable it in the app's \
                      settings on GitHub, or use the web flow";
        assert_eq!(with_flag_hint(device, false), format!("{device} (--web)"));
        assert_eq!(with_flag_hint("access denied", false), "access denied");
    }

    #[test]
    fn an_org_is_chosen_by_number_or_name() {
        let orgs = orgs();
        assert_eq!(parse_org_choice("2\n", &orgs).as_deref(), Some("Acme-Labs"));
        assert_eq!(
            parse_org_choice(" acme-labs ", &orgs).as_deref(),
            Some("Acme-Labs")
        );
        assert_eq!(
            parse_org_choice("widgets", &orgs).as_deref(),
            Some("widgets")
        );
        for bad in ["0", "4", "-1", "acm", ""] {
            assert_eq!(parse_org_choice(bad, &orgs), None, "{bad}");
        }
    }

    #[test]
    fn prompts_say_what_happens() {
        assert_eq!(
            replace_prompt("platform", "acme"),
            "Team 'platform' is already connected to GitHub (acme). Replace its token? [y/N] "
        );
        assert_eq!(
            login_prompt("platform", "octocat"),
            "GitHub says this browser signed in as @octocat. Connect team 'platform' as \
             @octocat? [y/N] "
        );
        let keep = disconnect_prompt("platform", false);
        assert!(keep.contains("synced history is kept") && keep.contains("--purge"));
        let purge = disconnect_prompt("platform", true);
        assert!(purge.contains("delete its synced history") && purge.contains("cannot be undone"));
    }
}
