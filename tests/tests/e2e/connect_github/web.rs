//! The web flow: PKCE through the daemon's loopback callback listener, the listener's refusals,
//! and the GitHub login the user must confirm before anything is stored (whoever opens the
//! authorize link picks the account, and the link may have been seen by another local user).

use super::*;
use tidemark_tests::harness::another_member_login;

/// What the user's browser does with the authorize URL: GitHub (the simulator) redirects to our
/// callback.
fn authorize(url: &str) -> String {
    harness::authorize_in_browser(url, None)
}

/// Answer a flow's login question with `login`.
fn confirm(client: &TidemarkClient, flow: u64, login: &str) -> Result<ConnectState, RpcError> {
    block_on(client.github_connect_confirm_login(ctx(), flow, login.into())).unwrap()
}

fn asks_to_confirm(state: ConnectState) -> String {
    match state {
        ConnectState::ConfirmLogin { github_login } => github_login,
        other => panic!("the login question: {other:?}"),
    }
}

/// GET a callback URL, optionally with another Host header. (status, page)
fn callback(url: &str, host: Option<&str>) -> (u16, String) {
    block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(h) = host {
            req = req.header("host", h);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn token_exchanges(sim: &Sim) -> u64 {
    sim.stats()
        .endpoints
        .get("POST /login/oauth/access_token")
        .copied()
        .unwrap_or(0)
}

fn browser_url(started: &ConnectStarted) -> String {
    match &started.prompt {
        ConnectPrompt::Browser { authorize_url } => authorize_url.clone(),
        other => panic!("a browser prompt: {other:?}"),
    }
}

#[test]
fn web_flow_with_pkce_connects_through_the_loopback_listener() {
    let s = setup(true);
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let url = browser_url(&started);
    assert!(
        url.starts_with(&format!("{}/login/oauth/authorize?", s.sim.url())),
        "{url}"
    );
    for needed in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "scope=read%3Aorg+repo+read%3Auser",
    ] {
        assert!(url.contains(needed), "{needed} in {url}");
    }
    let back = authorize(&url);
    assert!(
        back.starts_with("http://127.0.0.1:") && back.contains("/oauth/callback?"),
        "{back}"
    );
    let (status, page) = callback(&back, None);
    assert_eq!(status, 200, "{page}");
    let viewer = s.sim.viewer_login();
    assert!(
        page.contains("Return to your terminal") && page.contains(&format!("@{viewer}")),
        "{page}"
    );
    // Nothing is stored until the user confirms the login GitHub answered.
    assert_eq!(asks_to_confirm(outcome(&client, started.flow)), viewer);
    assert!(integrations(&client, &t).is_empty());
    let done = confirm(&client, started.flow, &viewer.to_uppercase()).unwrap();
    let ConnectState::Connected { github_login, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(github_login, viewer);
    assert_eq!(integrations(&client, &t).len(), 1);
    // The listener closed with the last waiting flow.
    let refused = block_on(reqwest::Client::new().get(&back).send());
    assert!(
        refused.is_err(),
        "the callback listener should be closed: {refused:?}"
    );
}

#[test]
fn forged_reused_foreign_host_and_odd_callbacks_exchange_nothing() {
    let s = setup(true);
    let client = s.client();
    let t = team(&client, "platform");
    // Two flows waiting keep the listener open throughout.
    let a = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let b = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let back_a = authorize(&browser_url(&a));
    let back_b = authorize(&browser_url(&b));
    let base = back_a.split("/oauth/callback").next().unwrap().to_string();
    let exchanges = token_exchanges(&s.sim);

    // A state we never issued.
    let (status, _) = callback(
        &format!("{base}/oauth/callback?code=abc&state=forged"),
        None,
    );
    assert_eq!(status, 400);
    // No state at all.
    assert_eq!(
        callback(&format!("{base}/oauth/callback?code=abc"), None).0,
        400
    );
    // A real callback, but sent to a name that is not loopback (DNS rebinding).
    let port = base.rsplit(':').next().unwrap();
    assert_eq!(
        callback(&back_a, Some(&format!("evil.example:{port}"))).0,
        400
    );
    // Repeated parameters.
    assert_eq!(callback(&format!("{back_a}&state=other"), None).0, 400);
    // Oversized.
    let long = format!("{base}/oauth/callback?state={}", "x".repeat(5_000));
    assert_eq!(callback(&long, None).0, 414);
    // Another path.
    assert_eq!(callback(&format!("{base}/webhooks/github"), None).0, 404);
    assert_eq!(
        token_exchanges(&s.sim),
        exchanges,
        "nothing above may reach GitHub's token endpoint"
    );
    assert_eq!(
        block_on(client.github_connect_status(ctx(), a.flow, 0))
            .unwrap()
            .unwrap(),
        ConnectState::Waiting,
        "refused callbacks leave the flow waiting"
    );

    // The real one works once; replaying it is refused and exchanges nothing.
    assert_eq!(callback(&back_a, None).0, 200);
    let login = asks_to_confirm(outcome(&client, a.flow));
    assert!(matches!(
        confirm(&client, a.flow, &login),
        Ok(ConnectState::Connected { .. })
    ));
    let exchanges = token_exchanges(&s.sim);
    let (status, page) = callback(&back_a, None);
    assert_eq!(status, 400);
    assert!(page.contains("already used"), "{page}");
    assert_eq!(token_exchanges(&s.sim), exchanges);
    // Flow b (same team, now connected) fails at the store: it never asked to replace.
    assert_eq!(callback(&back_b, None).0, 200);
    let login = asks_to_confirm(outcome(&client, b.flow));
    match confirm(&client, b.flow, &login) {
        Ok(ConnectState::Failed { reason }) => assert!(reason.contains("already"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_denied_web_authorization_fails_and_stores_nothing() {
    let s = setup(true);
    control(&s.sim, "/_sim/oauth/deny", json!({}));
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let back = authorize(&browser_url(&started));
    assert!(back.contains("error=access_denied"), "{back}");
    let (status, page) = callback(&back, None);
    assert_eq!(status, 200);
    assert!(page.contains("nothing was stored"), "{page}");
    match outcome(&client, started.flow) {
        ConnectState::Failed { reason } => assert!(reason.contains("denied"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(integrations(&client, &t).is_empty());
}

/// The attack: another local user saw the authorize link and completed it with their own GitHub
/// account. The user is shown that login, refuses, and the team stays unconnected.
#[test]
fn a_web_flow_completed_with_another_account_is_refused_and_stores_nothing() {
    let s = setup(true);
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let attacker = another_member_login(&s.sim);
    let back = harness::authorize_in_browser(&browser_url(&started), Some(&attacker));
    let (status, page) = callback(&back, None);
    assert_eq!(status, 200, "{page}");
    // The daemon holds the attacker's token, asks, and has stored nothing.
    assert_eq!(asks_to_confirm(outcome(&client, started.flow)), attacker);
    assert!(integrations(&client, &t).is_empty());

    // The user does not recognise the account: refusing is cancelling.
    block_on(client.github_connect_cancel(ctx(), started.flow))
        .unwrap()
        .unwrap();
    assert_eq!(
        block_on(client.github_connect_status(ctx(), started.flow, 0))
            .unwrap()
            .unwrap(),
        ConnectState::Failed {
            reason: "cancelled".into()
        }
    );
    let late = confirm(&client, started.flow, &attacker);
    assert!(
        matches!(late, Err(RpcError::InvalidArgument { .. })),
        "{late:?}"
    );
    let status = block_on(client.status(ctx(), Some(t.clone())))
        .unwrap()
        .unwrap()
        .remove(0);
    assert!(status.integrations.is_empty(), "{status:?}");
    assert_eq!(status.member_changes, None, "status says not connected");
    // The attacker's token is nowhere: not in the store's files nor the log; and GitHub no
    // longer honours it (revoked with the app's credentials once the flow ended unstored).
    let tokens = issued_tokens(&s.sim);
    assert_eq!(tokens.len(), 1);
    assert!(harness::files_containing(&s.sandbox.data_dir(), tokens[0].as_bytes()).is_empty());
    harness::wait_until(
        std::time::Duration::from_secs(10),
        "the refused token revoked at GitHub",
        || s.sim.world().tokens[&tokens[0]].revoked.then_some(()),
    );
    assert!(!s.daemon().log_text().contains(tokens[0].as_str()));
}

#[test]
fn confirming_another_login_than_githubs_is_refused_and_stores_nothing() {
    let s = setup(true);
    let client = s.client();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let attacker = another_member_login(&s.sim);
    let back = harness::authorize_in_browser(&browser_url(&started), Some(&attacker));
    assert_eq!(callback(&back, None).0, 200);
    assert_eq!(asks_to_confirm(outcome(&client, started.flow)), attacker);

    // The user expected their own account.
    let viewer = s.sim.viewer_login();
    match confirm(&client, started.flow, &viewer) {
        Err(RpcError::InvalidArgument { field, reason }) => {
            assert_eq!(field, "github_login");
            assert!(
                reason.contains(&format!("@{attacker}"))
                    && reason.contains(&format!("@{viewer}"))
                    && reason.contains("nothing was stored"),
                "{reason}"
            );
        }
        other => panic!("refused: {other:?}"),
    }
    // Nor does an organization choice skip the question.
    let skip = block_on(client.github_connect_choose_org(ctx(), started.flow, "acme".into()));
    assert!(
        matches!(skip, Ok(Err(RpcError::InvalidArgument { .. }))),
        "{skip:?}"
    );
    assert!(integrations(&client, &t).is_empty());
    assert_eq!(
        asks_to_confirm(
            block_on(client.github_connect_status(ctx(), started.flow, 0))
                .unwrap()
                .unwrap()
        ),
        attacker,
        "the flow still waits for an answer"
    );
    // While it waits, the token is held, not revoked.
    let tokens = issued_tokens(&s.sim);
    assert!(!s.sim.world().tokens[&tokens[0]].revoked);
}

/// Issue 15: out of descriptors, the callback listener (tiny_http then) ended its accept
/// thread for good and held its port answering nobody, so a web flow never heard its
/// callback. Now accepts back off and go on: once descriptors are free the browser's redirect
/// is answered and the flow moves on.
#[test]
fn the_callback_listener_answers_again_after_descriptors_run_out() {
    use std::os::unix::process::CommandExt;
    let sim = sim();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        use_simulator(cmd, &sim, true);
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 64,
                    rlim_max: 64,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    let client = block_on(connect(&daemon.socket)).unwrap();
    let t = team(&client, "platform");
    let started = start(&client, request(&t, ConnectMethod::Web)).unwrap();
    let back = authorize(&browser_url(&started));
    let addr = back
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // The daemon's descriptors used up by a local RPC flood; then the browser's redirect
    // arrives (a few tries, as a browser makes), and its accepts fail with EMFILE too.
    let flood: Vec<std::os::unix::net::UnixStream> = (0..200)
        .map_while(|_| std::os::unix::net::UnixStream::connect(&daemon.socket).ok())
        .collect();
    assert!(flood.len() > 100, "only {} connections", flood.len());
    harness::wait_until(
        Duration::from_secs(20),
        "the daemon to run out of descriptors",
        || {
            let log = daemon.log_text();
            log.lines()
                .any(|l| l.contains("accept failed") && l.contains("os error 24"))
                .then_some(())
        },
    );
    let waiting: Vec<std::net::TcpStream> = (0..4)
        .map_while(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    assert!(!waiting.is_empty());
    harness::wait_until(
        Duration::from_secs(20),
        "the callback listener's accepts to fail",
        || {
            let log = daemon.log_text();
            log.lines()
                .any(|l| l.contains("accept failed") && l.contains("oauth callback"))
                .then_some(())
        },
    );
    drop(waiting);
    drop(flood);
    // The daemon closes its ends once it reads the hang-ups; until then the token exchange
    // that the callback starts could still meet EMFILE. Wait until it holds few descriptors.
    let fd_dir = format!("/proc/{}/fd", daemon.pid());
    harness::wait_until(
        Duration::from_secs(20),
        "the daemon to close the flood's connections",
        || {
            let open = std::fs::read_dir(&fd_dir).ok()?.count();
            (open < 40).then_some(())
        },
    );
    let (status, page) = callback(&back, None);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Return to your terminal"), "{page}");
    let state = outcome(&client, started.flow);
    assert!(!matches!(state, ConnectState::Failed { .. }), "{state:?}");
    // A line per listener for the failures, however many there were.
    let log = daemon.log_text();
    let lines = log
        .lines()
        .filter(|l| l.contains("accept failed") && l.contains("oauth callback"))
        .count();
    assert!(lines <= 2, "{lines} lines");
}
