//! The first screen, the GitHub setup, the daemon panel and a failed start, rendered on a
//! `TestBackend`: insta snapshots at 80x24 and 100x30, and assertions on the rendered rows for
//! what must hold at any size (values whole, the secret never drawn). States are built through
//! the same update function the TUI uses, from fabricated protocol values.

use crate::support::tui::{key, send, typed};
use crate::support::tui::{screen_lines, shows};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tidemark_protocol::{GitHubAppReport, ReloadReport, SettingSource};
use tidemark_tui::app::{Event, LinkEvent, OperateError, Reply, StartError, State};
use tidemark_tui::fixtures;
use tidemark_tui::views;
use tidemark_tui::views::first_screen::DEMO_COMMAND;

const SIZES: [(u16, u16); 2] = [(80, 24), (100, 30)];
const CALLBACK: &str = "http://127.0.0.1/oauth/callback";
const REGISTER: &str = "https://github.com/settings/applications/new";
const CONFIG: &str = "/home/alice/.config/tidemark/daemon.toml";
const SECRET: &str = "0123abcd-very-secret";

fn snapshot(name: &str, state: &State) {
    for (width, height) in SIZES {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        views::draw(&mut terminal, state).unwrap();
        insta::assert_snapshot!(
            format!("{name}@{width}x{height}"),
            terminal.backend().to_string()
        );
    }
}

fn screen(state: &State) -> Vec<String> {
    screen_lines(state, 80, 24)
}

/// Assert `text` is on some row, whole.
#[track_caller]
fn assert_shows(lines: &[String], text: &str) {
    assert!(
        shows(lines, text),
        "{text:?} not whole on screen:\n{}",
        lines.join("\n")
    );
}

/// Connected, no team, the daemon's info in (GitHub set up or not).
fn first_screen(configured: bool) -> State {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(vec![]))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(configured)),
        ],
    );
    state
}

/// The setup opened with `g`, the daemon's info answered.
fn setup() -> State {
    let mut state = first_screen(false);
    send(&mut state, typed("g"));
    send(
        &mut state,
        [Event::Reply(fixtures::daemon_info_reply(false))],
    );
    state
}

fn at_secret() -> State {
    let mut state = setup();
    send(&mut state, [key(KeyCode::Enter)]);
    send(&mut state, typed("Ov23liABC"));
    send(&mut state, [key(KeyCode::Enter)]);
    state
}

fn report() -> GitHubAppReport {
    let mut github = fixtures::daemon_info(true).github;
    github.has_secret = false;
    GitHubAppReport {
        config_file: CONFIG.into(),
        github,
        reload: ReloadReport {
            config_file: Some(CONFIG.into()),
            applied: vec!["github_client_id".into()],
            need_restart: vec![],
            overridden: vec![],
        },
    }
}

// The first screen.

#[test]
fn the_first_screen_offers_the_demo_and_the_github_setup() {
    let state = first_screen(false);
    let lines = screen(&state);
    assert_shows(&lines, "No teams yet. Two ways forward:");
    assert_shows(&lines, "Try tidemark offline");
    assert_shows(&lines, DEMO_COMMAND);
    assert_shows(&lines, "g  Set up GitHub");
    assert!(!shows(&lines, "Create a team"), "{}", lines.join("\n"));
    snapshot("first_screen", &state);
}

#[test]
fn with_github_set_up_the_first_screen_offers_a_team() {
    let state = first_screen(true);
    let lines = screen(&state);
    assert_shows(&lines, DEMO_COMMAND);
    assert_shows(&lines, "n  Create a team, then connect it to GitHub");
    assert!(!shows(&lines, "Set up GitHub"));
    snapshot("first_screen_github_set_up", &state);
}

#[test]
fn before_the_daemon_answers_the_first_screen_offers_the_setup() {
    let mut state = State::new("/tmp/t.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(vec![]))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
        ],
    );
    assert_shows(&screen(&state), "g  Set up GitHub");
}

#[test]
fn the_teams_help_lists_the_new_keys() {
    let mut state = first_screen(false);
    send(&mut state, typed("?"));
    let lines = screen(&state);
    assert_shows(&lines, "set up GitHub");
    assert_shows(&lines, "the daemon: settings, reload");
    assert_shows(&lines, "retry a failed daemon start");
}

// The setup, step by step.

#[test]
fn step_one_shows_every_value_to_register_whole() {
    let state = setup();
    for (width, height) in SIZES {
        let lines = screen_lines(&state, width, height);
        assert_shows(&lines, "Step 1 of 3");
        assert_shows(&lines, REGISTER);
        assert_shows(&lines, &format!("Authorization callback URL  {CALLBACK}"));
        assert_shows(&lines, "Application name            tidemark");
        assert_shows(&lines, "Homepage URL                https://github.com");
        assert_shows(&lines, "Enable Device Flow          tick it");
        assert_shows(&lines, "GitHub accepts any port on a loopback callback URL");
        assert_shows(&lines, "c copy the callback URL");
    }
    snapshot("setup_register", &state);
}

#[test]
fn a_long_registration_link_gets_a_line_of_its_own() {
    let mut state = first_screen(false);
    send(&mut state, typed("g"));
    let mut info = fixtures::daemon_info(false);
    let web = "https://github.example-corp.internal";
    info.github.web_url = web.into();
    info.github.register_url = format!("{web}/settings/applications/new");
    send(
        &mut state,
        [Event::Reply(Reply::DaemonInfo(Ok(Box::new(info))))],
    );
    let lines = screen(&state);
    assert_shows(&lines, &format!("{web}/settings/applications/new"));
    // Too long beside its label: the homepage goes below it, whole.
    assert_shows(&lines, &format!("    {web}"));
}

#[test]
fn step_one_tells_a_non_operator_who_may() {
    let mut state = first_screen(false);
    send(&mut state, typed("g"));
    let mut info = fixtures::daemon_info(false);
    info.caller_may_operate = false;
    info.user = "tidemark".into();
    send(
        &mut state,
        [Event::Reply(Reply::DaemonInfo(Ok(Box::new(info))))],
    );
    let text = screen(&state).join("\n");
    assert!(text.contains("user 'tidemark'"), "{text}");
    assert!(text.contains("sudo tidemark setup github"), "{text}");
    assert!(!text.contains("enter next"), "{text}");
    snapshot("setup_not_an_operator", &state);
}

#[test]
fn step_two_takes_the_client_id_and_refuses_a_bad_one_inline() {
    let mut state = setup();
    send(&mut state, [key(KeyCode::Enter)]);
    send(&mut state, typed("Ov23 liABC"));
    send(&mut state, [key(KeyCode::Enter)]);
    let lines = screen(&state);
    assert_shows(&lines, "Step 2 of 3");
    assert_shows(&lines, "› Ov23 liABC");
    assert_shows(&lines, "without spaces or control characters");
    assert_shows(&lines, CALLBACK);
    snapshot("setup_client_id_refused", &state);
}

#[test]
fn step_three_draws_bullets_never_the_secret() {
    let mut state = at_secret();
    send(&mut state, typed(SECRET));
    for (width, height) in SIZES {
        let lines = screen_lines(&state, width, height);
        assert_shows(&lines, "Step 3 of 3");
        assert_shows(&lines, &format!("› {}", "•".repeat(SECRET.len())));
        assert_shows(&lines, "The device flow needs no secret;");
        assert_shows(&lines, "Enter on an empty field skips it.");
        assert_shows(&lines, CALLBACK);
        let text = lines.join("\n");
        for part in ["0123", "abcd", "very", "secret"] {
            assert!(!text.contains(part) || part == "secret", "{part}:\n{text}");
        }
        assert!(!text.contains(SECRET));
    }
    snapshot("setup_secret", &state);
}

#[test]
fn saving_and_the_outcome_name_the_config_file() {
    let mut state = at_secret();
    send(&mut state, [key(KeyCode::Enter)]);
    assert_shows(
        &screen(&state),
        "Saving to the daemon's config and applying it…",
    );
    send(
        &mut state,
        [
            Event::Reply(Reply::GithubAppSaved(Ok(Box::new(report())))),
            Event::Reply(fixtures::daemon_info_reply(true)),
        ],
    );
    let lines = screen(&state);
    assert_shows(&lines, "GitHub is set up.");
    assert_shows(&lines, CONFIG);
    assert_shows(&lines, "Applied now, no restart needed: github_client_id.");
    assert_shows(&lines, "n create a team, then connect it");
    snapshot("setup_saved", &state);
}

#[test]
fn the_outcome_says_when_the_environment_wins() {
    let mut state = at_secret();
    send(&mut state, [key(KeyCode::Enter)]);
    let mut report = report();
    report.reload.applied.clear();
    report.reload.overridden = vec![("github_client_id".into(), SettingSource::Environment)];
    send(
        &mut state,
        [Event::Reply(Reply::GithubAppSaved(Ok(Box::new(report))))],
    );
    let text = screen(&state).join("\n");
    assert!(
        text.contains("GITHUB_CLIENT_ID in the daemon's environment wins"),
        "{text}"
    );
    snapshot("setup_saved_overridden", &state);
}

#[test]
fn a_refusal_shows_in_the_dialog_with_the_inputs_kept() {
    let mut state = at_secret();
    send(&mut state, typed("abc"));
    send(&mut state, [key(KeyCode::Enter)]);
    send(
        &mut state,
        [Event::Reply(Reply::GithubAppSaved(Err(
            OperateError::Denied(
                "permission denied: only the daemon's own user and root may stop, reload or \
             configure it"
                    .into(),
            ),
        )))],
    );
    let lines = screen(&state);
    let text = lines.join("\n");
    assert!(text.contains("not saved: permission denied"), "{text}");
    assert!(text.contains("sudo tidemark setup github"), "{text}");
    assert_shows(&lines, "› •••");
    snapshot("setup_refused", &state);
}

// Connecting when GitHub is not set up.

#[test]
fn a_not_configured_connect_offers_g() {
    let mut state = State::new("/tmp/t.sock".into());
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Connected {
                daemon_version: "0.1.0".into(),
            }),
            Event::Reply(Reply::Teams(Ok(fixtures::teams()))),
            Event::Reply(Reply::Invitations(Ok(vec![]))),
            Event::Reply(fixtures::daemon_info_reply(false)),
            key(KeyCode::Enter),
            key(KeyCode::Char('c')),
            Event::Reply(Reply::ConnectStarted {
                attempt: 1,
                result: Err(StartError::NotConfigured(
                    "GitHub is not set up on this daemon yet: it needs the client id of a \
                     GitHub OAuth app"
                        .into(),
                )),
            }),
        ],
    );
    let lines = screen(&state);
    assert_shows(&lines, "GitHub is not set up on this daemon yet");
    assert_shows(&lines, "Press g to set it up here");
    assert_shows(&lines, "g set up GitHub");
    snapshot("connect_not_configured", &state);
}

// The daemon panel.

#[test]
fn the_daemon_panel_shows_every_setting_and_its_source() {
    let mut state = first_screen(true);
    send(&mut state, typed("D"));
    send(
        &mut state,
        [Event::Reply(fixtures::daemon_info_reply(true))],
    );
    let lines = screen_lines(&state, 100, 30);
    assert_shows(&lines, "pid 4242 · version 0.1.0");
    assert_shows(&lines, "user alice");
    assert_shows(&lines, "/run/user/1000/tidemark/tidemark.sock");
    assert_shows(&lines, CONFIG);
    assert_shows(
        &lines,
        "github_client_id      Ov23liFAKE0123456789  (config file)",
    );
    assert_shows(
        &lines,
        "webhook_addr*         127.0.0.1:8473  (environment)",
    );
    assert_shows(&lines, "github_client_secret  not set  (default)");
    assert_shows(&lines, "  tidemark daemon restart · tidemark daemon stop");
    snapshot("daemon_panel", &state);
}

#[test]
fn the_daemon_panel_reports_a_reload() {
    let mut state = first_screen(true);
    send(&mut state, typed("Dr"));
    send(
        &mut state,
        [
            Event::Reply(fixtures::daemon_info_reply(true)),
            Event::Reply(Reply::Reloaded(Ok(ReloadReport {
                config_file: Some(CONFIG.into()),
                applied: vec!["sync_interval_secs".into()],
                need_restart: vec!["webhook_addr".into()],
                overridden: vec![("github_client_id".into(), SettingSource::Environment)],
            }))),
        ],
    );
    let text = screen_lines(&state, 100, 30).join("\n");
    assert!(text.contains("Applied now: sync_interval_secs."), "{text}");
    assert!(
        text.contains("Needs a restart to apply: webhook_addr."),
        "{text}"
    );
    assert!(
        text.contains("GITHUB_CLIENT_ID in the daemon's environment"),
        "{text}"
    );
    snapshot("daemon_panel_reloaded", &state);
}

#[test]
fn a_long_path_in_the_panel_gives_way_from_the_left() {
    let mut state = first_screen(true);
    let mut info = fixtures::daemon_info(true);
    info.data_dir = format!(
        "/srv/{}/tidemark/data",
        "very-long-directory-name/".repeat(5)
    );
    send(&mut state, typed("D"));
    send(
        &mut state,
        [Event::Reply(Reply::DaemonInfo(Ok(Box::new(info))))],
    );
    let lines = screen(&state);
    let row = lines
        .iter()
        .find(|l| l.contains("Data dir"))
        .expect("the data dir row");
    assert!(row.contains("…"), "{row}");
    assert!(row.contains("/tidemark/data"), "{row}");
}

// A daemon that failed to start.

#[test]
fn a_failed_start_shows_its_reason_and_the_way_to_try_again() {
    let mut state = State::new("/run/user/1000/tidemark/tidemark.sock".into());
    let reason = "the tidemark daemon exited during start-up (exit status: 1): cannot read the \
                  config file /home/alice/.config/tidemark/daemon.toml: line 3: expected `=`";
    send(
        &mut state,
        [
            Event::Link(LinkEvent::Starting),
            Event::Link(LinkEvent::StartFailed {
                reason: reason.into(),
            }),
        ],
    );
    for (width, height) in SIZES {
        let text = screen_lines(&state, width, height).join("\n");
        assert!(text.contains("the daemon did not start"), "{text}");
        assert!(text.contains("expected `=`"), "{text}");
        assert!(text.contains("not started again by itself"), "{text}");
        assert!(text.contains("Press s to try once more"), "{text}");
        assert!(!text.contains("reconnects by itself"), "{text}");
    }
    snapshot("start_failed", &state);
}
