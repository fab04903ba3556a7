//! Connecting GitHub needs the admin role, and keeps needing it: a flow whose user is demoted
//! before GitHub approves stores nothing. The real daemon against the simulator.

use serde_json::json;
use std::time::Duration;
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectState, Role, RpcError, TeamRef, UserRef,
};
use tidemark_tests::harness::{self, Daemon, Sandbox, block_on, connect, ctx, use_simulator};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

#[test]
fn a_flow_whose_user_stops_being_admin_stores_nothing() {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                repos: 1,
                prs_per_repo: 1,
                members: 2,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: None,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap();
    let sandbox = Sandbox::new();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let me = unsafe { libc::geteuid() };
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let team = TeamRef::Name("platform".into());
        c.team_create(ctx(), "platform".into())
            .await
            .unwrap()
            .unwrap();
        let request = ConnectRequest {
            team: team.clone(),
            method: ConnectMethod::Device,
            org: None,
            replace: false,
            org_hook: false,
        };
        let started = c
            .github_connect(ctx(), request.clone())
            .await
            .unwrap()
            .unwrap();
        let ConnectPrompt::Device { user_code, .. } = &started.prompt else {
            panic!("{:?}", started.prompt)
        };

        // Someone else becomes owner; the flow's user steps down to member.
        c.team_add_member(ctx(), team.clone(), UserRef::Uid(60_001), Role::Owner)
            .await
            .unwrap()
            .unwrap();
        c.team_add_member(ctx(), team.clone(), UserRef::Uid(me), Role::Member)
            .await
            .unwrap()
            .unwrap();
        let again = c.github_connect(ctx(), request).await.unwrap();
        assert!(
            matches!(&again, Err(RpcError::PermissionDenied(m)) if m.contains("admin or owner")),
            "{again:?}"
        );

        let approved = reqwest::Client::new()
            .post(format!("{}/_sim/oauth/device/approve", sim.url()))
            .json(&json!({ "user_code": user_code }))
            .send()
            .await
            .unwrap();
        assert!(approved.status().is_success());
        let state = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let s = c
                    .github_connect_status(ctx(), started.flow, 2_000)
                    .await
                    .unwrap()
                    .unwrap();
                if s != ConnectState::Waiting {
                    break s;
                }
            }
        })
        .await
        .expect("the flow to end within 30 s");
        assert!(
            matches!(&state, ConnectState::Failed { reason } if reason.contains("no longer manage")),
            "{state:?}"
        );
        // A member still reads the team: nothing was stored.
        let integrations = c.integrations(ctx(), team).await.unwrap().unwrap();
        assert!(integrations.is_empty(), "{integrations:?}");
    });
    harness::wait_until(Duration::from_secs(5), "the refusal in the log", || {
        daemon
            .log_text()
            .contains("no longer manages the team")
            .then_some(())
    });
}
