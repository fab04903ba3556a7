//! RPC round trips against the real `tidemarkd` on a socket in a temp dir.

use tidemark_protocol::{PROTOCOL_VERSION, RpcError, TeamRef};
use tidemark_tests::harness::{Daemon, Sandbox, block_on, connect, ctx};

#[test]
fn teams_round_trip_and_errors_are_typed() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let me = c.whoami(ctx()).await.unwrap().unwrap();
        // SAFETY: geteuid cannot fail.
        assert_eq!(me.uid, unsafe { libc::geteuid() });

        assert_eq!(c.team_list(ctx()).await.unwrap().unwrap(), vec![]);
        let platform = c
            .team_create(ctx(), "platform".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(platform.name, "platform");
        assert_eq!(
            platform.role,
            Some(tidemark_protocol::Role::Owner),
            "the creator owns it"
        );
        let apps = c.team_create(ctx(), "Apps".into()).await.unwrap().unwrap();
        let names: Vec<String> = c
            .team_list(ctx())
            .await
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["Apps", "platform"], "listed by name");

        let dup = c.team_create(ctx(), "PLATFORM".into()).await.unwrap();
        assert!(matches!(dup, Err(RpcError::AlreadyExists(_))), "{dup:?}");
        let bad = c.team_create(ctx(), " padded ".into()).await.unwrap();
        assert!(
            matches!(bad, Err(RpcError::InvalidArgument { .. })),
            "{bad:?}"
        );
        let long = c.team_create(ctx(), "x".repeat(65)).await.unwrap();
        assert!(
            matches!(long, Err(RpcError::InvalidArgument { .. })),
            "{long:?}"
        );

        let renamed = c
            .team_rename(ctx(), TeamRef::Name("platform".into()), "infra".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((renamed.id, renamed.name.as_str()), (platform.id, "infra"));
        let clash = c
            .team_rename(ctx(), TeamRef::Id(apps.id), "INFRA".into())
            .await
            .unwrap();
        assert!(
            matches!(clash, Err(RpcError::AlreadyExists(_))),
            "{clash:?}"
        );

        let status = c
            .status(ctx(), Some(TeamRef::Name("infra".into())))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.len(), 1);
        assert_eq!(status[0].team.id, platform.id);
        assert!(status[0].integrations.is_empty() && status[0].repos.is_empty());
        assert_eq!(
            (status[0].member_count, status[0].pull_request_count),
            (0, 0)
        );
        assert_eq!(c.status(ctx(), None).await.unwrap().unwrap().len(), 2);
        assert!(
            c.integrations(ctx(), TeamRef::Id(apps.id))
                .await
                .unwrap()
                .unwrap()
                .is_empty()
        );
        assert!(
            c.tracked_repos(ctx(), TeamRef::Id(apps.id))
                .await
                .unwrap()
                .unwrap()
                .is_empty()
        );

        let deleted = c
            .team_delete(ctx(), TeamRef::Name("infra".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((deleted.id, deleted.name.as_str()), (platform.id, "infra"));
        let gone = c
            .team_delete(ctx(), TeamRef::Name("infra".into()))
            .await
            .unwrap();
        assert!(matches!(gone, Err(RpcError::NotFound(_))), "{gone:?}");
        let forged = c
            .status(ctx(), Some(TeamRef::Id(987_654_321)))
            .await
            .unwrap();
        assert!(matches!(forged, Err(RpcError::NotFound(_))), "{forged:?}");
        let global = c.integrations(ctx(), TeamRef::Id(0)).await.unwrap();
        assert!(
            matches!(global, Err(RpcError::NotFound(_))),
            "team id 0 is not a team: {global:?}"
        );
    });
    assert!(daemon.stop().success());
}

#[test]
fn hello_refuses_another_protocol_version() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        match c.hello(ctx(), PROTOCOL_VERSION + 1).await.unwrap() {
            Err(RpcError::VersionMismatch { client, daemon, .. }) => {
                assert_eq!((client, daemon), (PROTOCOL_VERSION + 1, PROTOCOL_VERSION));
            }
            other => panic!("expected a version mismatch, got {other:?}"),
        }
    });
}

#[test]
fn teams_survive_a_restart() {
    let sandbox = Sandbox::new();
    let daemon = Daemon::start(&sandbox, 1);
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        c.team_create(ctx(), "durable".into())
            .await
            .unwrap()
            .unwrap();
    });
    assert!(daemon.stop().success(), "clean exit on SIGTERM");
    let daemon = Daemon::start(&sandbox, 2);
    block_on(async {
        let c = connect(&daemon.socket).await.unwrap();
        let teams = c.team_list(ctx()).await.unwrap().unwrap();
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].name, "durable");
    });
}
