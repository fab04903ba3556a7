//! Credentials stored with unique fake secrets (GitHub's and Slack's): afterwards those secrets
//! appear nowhere in the raw store files, the daemon's logs (at trace level), or any RPC reply
//! (what the TUI and the CLI show is made of those replies).

use tidemark_protocol::{SecretState, TeamRef};
use tidemark_tests::harness::{
    Daemon, Sandbox, block_on, connect, ctx, files_containing, seed_connected_team, seed_slack,
};

const ACCESS: &str = "gho_CANARYaccess7f3b9c1d2e4f5a6b7c8d9e0Zq1";
const REFRESH: &str = "ghr_CANARYrefresh0a1b2c3d4e5f6a7b8c9d0e1f2";
const HOOK: &str = "whsec-CANARY-hook-5e6f7a8b9c0d";
const SLACK: &str = "xoxb-CANARY-slack-1a2b3c4d5e6f7a8b9c0d";

#[test]
fn stored_secrets_never_leave_the_daemon() {
    let sandbox = Sandbox::new();
    let team = seed_connected_team(&sandbox, "canary", ACCESS, REFRESH, HOOK);
    seed_slack(&sandbox, team, SLACK);
    let daemon = Daemon::start(&sandbox, 1);
    let replies = block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let r = TeamRef::Id(team);
        let status = c.status(ctx(), Some(r.clone())).await.unwrap().unwrap();
        let cred = &status[0].integrations[0].credential;
        assert_eq!(cred.access_token, SecretState::Masked("gho_…0Zq1".into()));
        assert_eq!(
            cred.refresh_token,
            Some(SecretState::Masked("ghr_…e1f2".into()))
        );
        assert_eq!(cred.scopes, ["read:org", "repo", "read:user"]);
        assert_eq!(
            cred.connected_by.as_ref().map(|u| u.uid),
            Some(unsafe { libc::geteuid() })
        );
        let github = status[0].integrations[0].github.as_ref().unwrap();
        assert_eq!(github.organization_slug, "octo-org");
        assert_eq!(status[0].repos[0].full_name, "octo-org/hello-world");
        let slack = status[0].slack.as_ref().expect("the seeded Slack link");
        assert_eq!(slack.workspace.as_deref(), Some("Canary Corp"));
        let alerts = c
            .alerts(
                ctx(),
                tidemark_protocol::agreements::AlertsQuery {
                    team: r.clone(),
                    include_resolved: true,
                    since: None,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        format!(
            "{alerts:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
            c.hello(ctx(), tidemark_protocol::PROTOCOL_VERSION)
                .await
                .unwrap(),
            c.whoami(ctx()).await.unwrap(),
            c.team_list(ctx()).await.unwrap(),
            status,
            c.status(ctx(), None).await.unwrap(),
            c.integrations(ctx(), r.clone()).await.unwrap(),
            c.tracked_repos(ctx(), r.clone()).await.unwrap(),
            c.team_rename(ctx(), r, "canary-renamed".into())
                .await
                .unwrap(),
        )
    });
    assert!(daemon.stop().success());
    let log = std::fs::read_to_string(sandbox.log_path(1)).unwrap();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "logs ran at a verbose level"
    );
    for secret in [ACCESS, REFRESH, HOOK, SLACK] {
        let core = &secret[4..20]; // any sizeable piece of it
        assert!(!replies.contains(core), "an RPC reply carries {secret}");
        assert!(!log.contains(core), "the log carries {secret}");
        let hits = files_containing(sandbox.dir.path(), core.as_bytes());
        assert!(hits.is_empty(), "{secret} is in {hits:?}");
    }
}
