//! The client and the CLI binary against the real daemon's service (in this process, on a real
//! socket, over a real store): the calls whose answers need no GitHub. The fake daemon keeps
//! what only it can stage (`fake_daemon.rs`).

use crate::support::cli::{socket_in, stderr, stdout, tidemark};
use crate::support::real_daemon::RealDaemon;
use tidemark_protocol::TeamRef;
use tidemark_tui::client::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_calls_round_trip_with_the_real_service() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);

    let conn = Connection::connect(&socket).await.unwrap();
    assert_eq!(conn.hello().daemon_version, env!("CARGO_PKG_VERSION"));
    let created = conn.team_create("mobile".into()).await.unwrap();
    assert_eq!(created.name, "mobile");
    conn.team_create("platform".into()).await.unwrap();
    let names: Vec<_> = conn
        .team_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["mobile", "platform"]);
    let err = conn.team_create("mobile".into()).await.unwrap_err();
    assert_eq!(err.to_string(), "a team named 'mobile' already exists");
    assert!(!err.is_connection_lost());
    let status = conn
        .status(Some(TeamRef::Name("mobile".into())))
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].team.name, "mobile");
    assert!(status[0].integrations.is_empty(), "{status:?}");
    // What the calls did is in the daemon's store.
    assert!(daemon.store().team_by_name("platform").unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_team_lifecycle_human_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let daemon = RealDaemon::listen(&socket);

    let out = tidemark(&socket, &["team", "create", "platform"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tidemark(&socket, &["team", "create", "mobile"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Created team 'mobile' (#2).\n");

    let out = tidemark(&socket, &["team", "list", "--json"]).await;
    let teams: Vec<tidemark_protocol::TeamInfo> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(teams.len(), 2);

    let out = tidemark(&socket, &["team", "rename", "mobile", "ios"]).await;
    assert_eq!(stdout(&out), "Renamed team 'mobile' to 'ios'.\n");

    // No terminal on stdin and no --yes: refused, and the team is still there.
    let out = tidemark(&socket, &["team", "delete", "ios"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(daemon.store().team_by_name("ios").unwrap().is_some());

    let out = tidemark(&socket, &["team", "delete", "ios", "--yes", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["deleted"]["name"], "ios");
    assert!(daemon.store().team_by_name("ios").unwrap().is_none());

    let out = tidemark(&socket, &["team", "delete", "ios", "--yes"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: team 'ios' not found\n");
}

mod delivery {
    //! The Delivery tab against the real daemon: a team's deployments, pull requests and
    //! GitHub's compare seeded in the store as a sync would leave them, the figures on screen
    //! worked out by hand, a refused pattern in the daemon's words, and a save that lands.

    use super::*;
    use crate::support::tui::{Tui, shows};
    use ratatui::crossterm::event::KeyCode;
    use tidemark_daemon::crypto::Secret;
    use tidemark_daemon::store::{
        Commit, Compared, Deploy, DeploySource, DeployState, NewCredential, NewGitHubIntegration,
        PrState, Provider, PullRequest,
    };
    use tidemark_protocol::delivery::Signal;
    use tidemark_tui::app::{Event, Loadable, Screen, State};
    use tidemark_tui::tabs::delivery::rules::{RulesEditor, Saving};
    use tidemark_tui::tabs::delivery::{DeliveryTab, Page};

    const HOUR: i64 = 3_600;
    const REPO: u64 = 4_242;

    fn sha(n: u64) -> String {
        format!("{n:07x}{}", "c".repeat(33))
    }

    /// `platform` connected to GitHub (no OAuth: the records a connect leaves), tracking
    /// acme/api: pull requests #1 (first commit 30 h ago) and #2 (14 h ago), both merged and
    /// shipped by the production deployment 10 h ago (GitHub's compare from the one 48 h ago
    /// lists their merge commits), then a deployment 5 h ago that failed.
    fn seed(daemon: &RealDaemon, team: u64, now: i64) {
        let store = daemon.store();
        store
            .create_credential(
                daemon.keyring(),
                team,
                NewCredential {
                    provider: Provider::Github,
                    access_token: Secret::new("gho_test0000000000000000000000000000000000"),
                    refresh_token: None,
                    token_expires_at: None,
                    scopes: vec!["read:org".into(), "repo".into(), "read:user".into()],
                    connected_by: None,
                },
            )
            .unwrap();
        store
            .create_github_integration(
                daemon.keyring(),
                team,
                NewGitHubIntegration {
                    organization_slug: "acme".into(),
                    organization_id: 77,
                    webhook_secret: Secret::new("hook"),
                },
            )
            .unwrap();
        store.track_repo(team, REPO, "acme/api").unwrap();
        for (number, title, first_commit, merged) in [
            (1, "Add cache", now - 30 * HOUR, now - 20 * HOUR),
            (2, "Add login", now - 14 * HOUR, now - 12 * HOUR),
        ] {
            let pr = PullRequest {
                team_id: team,
                repo_id: REPO,
                number,
                github_id: 9_000 + number,
                title: title.into(),
                state: PrState::Merged,
                is_draft: false,
                author_github_id: Some(1),
                author_login: Some("alice".into()),
                author_member_id: None,
                created_at: first_commit + HOUR,
                ready_at: None,
                updated_at: merged,
                merged_at: Some(merged),
                closed_at: Some(merged),
                additions: 10,
                deletions: 2,
                first_commit_at: None,
                first_review_at: None,
                cycle_time: None,
                review_time: None,
                merged_by_login: None,
                merged_by_github_id: None,
                merge_commit_sha: Some(sha(100 + number)),
                base_ref: Some("main".into()),
                head_ref: Some(format!("feature-{number}")),
                labels: Vec::new(),
            };
            let commit = Commit {
                team_id: team,
                repo_id: REPO,
                pr_number: number,
                sha: sha(200 + number),
                author_github_id: Some(1),
                author_email: None,
                author_member_id: None,
                authored_at: Some(first_commit),
                committed_at: Some(first_commit),
            };
            store
                .put_pull_request(pr, Vec::new(), vec![commit])
                .unwrap();
        }
        let deploy = |id: &str, n: u64, at: i64, state: DeployState| Deploy {
            team_id: team,
            repo_id: REPO,
            source: DeploySource::Deployment,
            id: id.into(),
            sha: sha(n),
            name: "production".into(),
            branch: Some("main".into()),
            created_at: at - 600,
            state,
            finished_at: Some(at),
            detail: match state {
                DeployState::Success => "status success".into(),
                _ => "status failure".into(),
            },
            updated_at: at,
        };
        store
            .put_deploys(
                team,
                &[
                    deploy("DE_kwDOAAA1", 1, now - 48 * HOUR, DeployState::Success),
                    deploy("DE_kwDOAAA2", 2, now - 10 * HOUR, DeployState::Success),
                    deploy("DE_kwDOAAA3", 3, now - 5 * HOUR, DeployState::Failure),
                ],
            )
            .unwrap();
        store
            .put_compare(&Compared {
                team_id: team,
                repo_id: REPO,
                base: sha(1),
                head: sha(2),
                commits: vec![sha(90), sha(101), sha(102)],
                truncated: false,
            })
            .unwrap();
    }

    fn tab(state: &State) -> Option<&DeliveryTab> {
        match &state.screen {
            Screen::Team(view) => Some(&view.delivery),
            Screen::Teams => None,
        }
    }

    fn loaded(state: &State) -> bool {
        tab(state).is_some_and(|t| matches!(t.data, Loadable::Loaded(_)))
    }

    fn editor(state: &State) -> Option<&RulesEditor> {
        match &tab(state)?.page {
            Page::Rules(editor) => Some(editor),
            _ => None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_delivery_tab_shows_the_hand_worked_figures_and_saves_the_rules() {
        let dir = tempfile::tempdir().unwrap();
        let socket = socket_in(&dir);
        let daemon = RealDaemon::listen(&socket);
        let conn = Connection::connect(&socket).await.unwrap();
        let team = conn.team_create("platform".into()).await.unwrap().id;
        let now = tidemark_tui::timefmt::now();
        seed(&daemon, team, now);

        let mut tui = Tui::start(&socket);
        tui.handle(Event::Clock(now));
        tui.until("the team list", |s| s.teams().len() == 1).await;
        tui.open("platform").await;
        tui.press("6");
        tui.until("the delivery figures", loaded).await;
        let screen = tui.screen(100, 30);
        // Two successful deployments in 12 weeks; #1 took 20 h to production, #2 4 h; one
        // failed deployment of three finished, not recovered; nothing reworked.
        for text in [
            "0.16/week (2 successful)",
            "p50 4h, p90 20h (2)",
            "33.3% (1 of 3)",
            "— (nothing counted), 1 not recovered",
            "0.0% (0 of 3)",
            "acme/api deployments",
            "#1 Add cache · #2 Add login",
        ] {
            assert!(shows(&screen, text), "{text}: {screen:#?}");
        }
        let report = &tab(&tui.state).unwrap().loaded().unwrap().team;
        assert_eq!(report.repos[0].signal, Signal::Deployments);

        // What the fail rate counts, with the daemon's rule for each.
        tui.press("jj");
        tui.key(KeyCode::Enter);
        let screen = tui.screen(100, 30);
        assert!(
            shows(
                &screen,
                "acme/api DE_kwDOAAA3: FAILED: its own status: status failure"
            ),
            "{screen:#?}"
        );
        tui.key(KeyCode::Esc);

        // The rules: a pattern the daemon refuses is said under it, in its words.
        tui.press("e");
        tui.key(KeyCode::Enter);
        tui.key(KeyCode::Home);
        tui.press("(");
        tui.key(KeyCode::Enter);
        tui.press("p");
        tui.until("the refusal", |s| {
            editor(s).is_some_and(|e| e.refusal.is_some())
        })
        .await;
        let refusal = editor(&tui.state).unwrap().refusal.clone().unwrap();
        assert_eq!(refusal.rule, Some(0), "{refusal:?}");
        assert!(refusal.text.contains("not a usable pattern"), "{refusal:?}");
        let screen = tui.screen(100, 30);
        assert!(shows(&screen, "unclosed group"), "{screen:#?}");
        assert!(daemon.store().delivery_settings(team).unwrap().is_none());

        // Put it right: acme/api by merged pull requests instead; `s` shows the effect first,
        // the second `s` saves.
        tui.key(KeyCode::Enter);
        tui.key(KeyCode::Home);
        tui.key(KeyCode::Delete);
        tui.key(KeyCode::Enter);
        tui.key(KeyCode::End);
        for _ in 0..Signal::ALL.len() {
            tui.press(" ");
        }
        assert_eq!(
            editor(&tui.state).unwrap().choice("acme/api"),
            Some(Signal::MergedPrs)
        );
        tui.press("s");
        tui.until("the preview", |s| {
            editor(s).is_some_and(RulesEditor::previewed_now)
        })
        .await;
        let screen = tui.screen(100, 30);
        // Merged pull requests stand in: #1 and #2 are the two deployments, and nothing failed.
        for text in [
            "Deploy frequency 0.16/week                            → 0.16/week",
            "Lead time        p50 4h, p90 20h (2)                  → p50 2h, p90 10h (2)",
            "Change fail rate 33.3% (1 of 3)                       → 0.0% (0 of 2)",
            "Recovery time    — (nothing counted), 1 not recovered → — (nothing counted)",
        ] {
            assert!(shows(&screen, text), "{text}: {screen:#?}");
        }
        tui.press("s");
        tui.until("the save", |s| {
            editor(s).is_some_and(|e| e.saving == Saving::Saved)
        })
        .await;
        let saved = daemon.store().delivery_settings(team).unwrap().unwrap();
        assert_eq!(saved.signals, [(REPO, None)]);
        // The tab's figures follow the saved rules.
        tui.until("the figures again", |s| {
            tab(s)
                .and_then(|t| t.loaded())
                .is_some_and(|d| d.team.repos[0].signal == Signal::MergedPrs)
        })
        .await;
    }
}
