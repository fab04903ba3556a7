//! Connecting GitHub needs the admin role, and keeps needing it: a flow whose user is demoted
//! before GitHub approves stores nothing. The real daemon against the simulator.

use serde_json::json;
use std::time::Duration;
use tidemark_protocol::{
    ConnectMethod, ConnectPrompt, ConnectRequest, ConnectState, MemberAdded, Role, RpcError,
    TeamRef, UserRef,
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
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    // The team, and a second owner (uid 60001) who accepted an invitation: nobody becomes an
    // owner without accepting, and uid 60001 cannot call the daemon from this process (its
    // peer uid is ours), so the invitation and the acceptance are written before the daemon
    // starts, through the same store calls the daemon makes for them.
    {
        use tidemark_daemon::store::Role as StoredRole;
        tidemark_daemon::lifecycle::prepare_data_dir(&sandbox.data_dir()).unwrap();
        let store = harness::open_store(&sandbox);
        store
            .upsert_user(me, &tidemark_daemon::auth::user_name(me))
            .unwrap();
        store.upsert_user(60_001, "60001").unwrap();
        let team = store.create_team("platform", Some(me)).unwrap().id;
        store.invite(team, 60_001, StoredRole::Owner, me).unwrap();
        store.accept_invitation(team, 60_001).unwrap();
        store.flush().unwrap();
        drop(store);
        harness::wait_for_store_unlocked(&sandbox);
    }
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let team = TeamRef::Name("platform".into());
        let members = c.team_members(ctx(), team.clone()).await.unwrap().unwrap();
        let owners: Vec<u32> = members
            .iter()
            .filter(|m| m.role == Role::Owner)
            .map(|m| m.user.uid)
            .collect();
        assert_eq!(owners.len(), 2, "{members:?}");
        assert!(
            owners.contains(&60_001) && owners.contains(&me),
            "{members:?}"
        );
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

        // With another owner there, the flow's user steps down to member (a member's role
        // changes at once).
        let stepped_down = c
            .team_add_member(ctx(), team.clone(), UserRef::Uid(me), Role::Member)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(&stepped_down, MemberAdded::Member(m) if m.role == Role::Member),
            "{stepped_down:?}"
        );
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
