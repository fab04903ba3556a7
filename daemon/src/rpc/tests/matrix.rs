//! The cross-team matrix: every RPC method, called by users of team A (and by a user in no
//! team) with team B's ids and names, B's connect flow and B's repository, and with forged ones.
//! B's answers must be exactly the forged ones (after putting the caller's own words aside), no
//! reply may show anything of B, and B's records must be byte-for-byte unchanged.
//!
//! It cannot fall behind the protocol: `row` (the policy table) matches `TidemarkRequest`
//! without a wildcard, so a new method does not compile until it has a row, and the test fails
//! when a method of `protocol/src/lib.rs` is not probed by `probes`.

use super::*;
use crate::auth::Need;
use std::collections::BTreeSet;
use tarpc::RequestName;
use tidemark_protocol::{
    ConnectMethod, ConnectRequest, ConnectState, FlowId, MetricsGrouping, MetricsQuery,
    PROTOCOL_VERSION, PrQuery, Role as WireRole, TeamRef, UserRef,
};

/// What a method needs of the caller: the policy, written down once more, apart from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Names no team: served to anyone; shows only the caller's own teams.
    Anyone,
    /// Names a connect flow: only the user who started it may see or steer it.
    OwnFlow,
    /// Names a team the caller is invited to: only the invited user may answer; to anyone
    /// else (its members included) the team is `NotFound`.
    OwnInvitation,
    /// Names a team: the caller's role there must allow this; non-members get `NotFound`.
    Team(Need),
    /// Membership calls: as `Team`, and operators may act on any team.
    Membership(Need),
    /// The daemon itself (stop, reload, configure): its own user and root only.
    Operator,
}

/// The policy table. No wildcard: a new RPC method fails to compile until it has a row.
pub fn row(req: &TidemarkRequest) -> Row {
    use TidemarkRequest as Q;
    match req {
        Q::Hello { .. }
        | Q::Whoami { .. }
        | Q::TeamCreate { .. }
        | Q::TeamList { .. }
        | Q::Invitations { .. } => Row::Anyone,
        Q::InvitationAccept { .. } | Q::InvitationDecline { .. } => Row::OwnInvitation,
        Q::Status { team: None } | Q::DaemonInfo { .. } => Row::Anyone,
        Q::DaemonReload { .. } | Q::DaemonStop { .. } | Q::GithubAppSet { .. } => Row::Operator,
        Q::Status { team: Some(_) } => Row::Team(Need::Read),
        Q::TeamRename { .. } | Q::TeamDelete { .. } => Row::Team(Need::Own),
        // Removing someone else; leaving (removing oneself) needs only membership, see roles.rs.
        Q::TeamAddMember { .. } | Q::TeamRemoveMember { .. } => Row::Membership(Need::Own),
        Q::TeamMembers { .. } | Q::TeamInvitations { .. } => Row::Membership(Need::Read),
        Q::Integrations { .. }
        | Q::TrackedRepos { .. }
        | Q::SyncStatus { .. }
        | Q::Members { .. }
        | Q::PullRequests { .. }
        | Q::Metrics { .. }
        | Q::Dora { .. }
        | Q::DeliveryConfig { .. }
        | Q::Agreements { .. }
        | Q::Alerts { .. }
        | Q::Adherence { .. }
        | Q::SlackChannels { .. }
        | Q::Reviewers { .. }
        | Q::PullRequestTimeline { .. } => Row::Team(Need::Read),
        Q::GithubConnect { .. }
        | Q::GithubDisconnect { .. }
        | Q::ReposAvailable { .. }
        | Q::ReposTrack { .. }
        | Q::ReposUntrack { .. }
        | Q::SyncStart { .. }
        | Q::DeliveryConfigSet { .. }
        | Q::AgreementsSet { .. }
        | Q::SlackConnect { .. }
        | Q::SlackChannelSet { .. }
        | Q::SlackDisconnect { .. }
        | Q::WebhookRotateSecret { .. } => Row::Team(Need::Manage),
        Q::GithubConnectStatus { .. }
        | Q::GithubConnectChooseOrg { .. }
        | Q::GithubConnectConfirmLogin { .. }
        | Q::GithubConnectCancel { .. }
        | Q::SlackConnectStatus { .. } => Row::OwnFlow,
    }
}

/// What a probe aims at.
#[derive(Debug, Clone)]
pub struct Target {
    pub team: TeamRef,
    pub flow: FlowId,
    /// `owner/repo`.
    pub repo: String,
    /// A name for `team_create`.
    pub name: String,
    /// Who `team_add_member` adds (as owner) and who `team_remove_member` removes.
    pub add: u32,
    pub remove: u32,
}

/// One request per RPC method, aimed at `t`.
pub fn probes(t: &Target) -> Vec<TidemarkRequest> {
    use TidemarkRequest as Q;
    let team = || t.team.clone();
    vec![
        Q::Hello {
            client_protocol: PROTOCOL_VERSION,
        },
        Q::Whoami {},
        Q::TeamCreate {
            name: t.name.clone(),
        },
        Q::TeamList {},
        Q::TeamRename {
            team: team(),
            new_name: "renamed by a probe".into(),
        },
        Q::TeamDelete { team: team() },
        Q::TeamAddMember {
            team: team(),
            user: UserRef::Uid(t.add),
            role: WireRole::Owner,
        },
        Q::TeamRemoveMember {
            team: team(),
            user: UserRef::Uid(t.remove),
        },
        Q::TeamMembers { team: team() },
        Q::TeamInvitations { team: team() },
        Q::Invitations {},
        Q::InvitationAccept { team: team() },
        Q::InvitationDecline { team: team() },
        Q::Integrations { team: team() },
        Q::TrackedRepos { team: team() },
        Q::Status { team: None },
        Q::Status { team: Some(team()) },
        Q::GithubConnect {
            request: ConnectRequest {
                team: team(),
                method: ConnectMethod::Web,
                org: None,
                replace: true,
                org_hook: false,
            },
        },
        Q::GithubConnectStatus {
            flow: t.flow,
            wait_ms: 0,
        },
        Q::GithubConnectChooseOrg {
            flow: t.flow,
            org: "alpha-org".into(),
        },
        Q::GithubConnectConfirmLogin {
            flow: t.flow,
            github_login: "alpha-dev".into(),
        },
        Q::GithubConnectCancel { flow: t.flow },
        Q::GithubDisconnect {
            team: team(),
            purge: true,
        },
        Q::ReposAvailable { team: team() },
        Q::ReposTrack {
            team: team(),
            full_names: vec![t.repo.clone()],
        },
        Q::ReposUntrack {
            team: team(),
            full_names: vec![t.repo.clone()],
        },
        Q::SyncStart { team: team() },
        Q::SyncStatus {
            team: team(),
            wait_ms: 0,
        },
        Q::Members { team: team() },
        Q::PullRequests {
            query: PrQuery {
                team: team(),
                repo: None,
                state: None,
                limit: 0,
            },
        },
        Q::Metrics {
            query: MetricsQuery {
                team: team(),
                since: None,
                by: MetricsGrouping::Member,
                include_bots: true,
            },
        },
        Q::Dora {
            query: tidemark_protocol::delivery::DoraQuery {
                team: team(),
                since: None,
                until: None,
                by: tidemark_protocol::delivery::DoraGrouping::Week,
                config: None,
                explain: true,
            },
        },
        Q::DeliveryConfig { team: team() },
        Q::DeliveryConfigSet {
            team: team(),
            config: tidemark_protocol::delivery::DeliveryConfig {
                incident_label: "sev1".into(),
                ..Default::default()
            },
        },
        Q::Agreements { team: team() },
        Q::AgreementsSet {
            team: team(),
            agreements: tidemark_protocol::agreements::Agreements {
                max_size: Some(400),
                ..Default::default()
            },
        },
        Q::Alerts {
            query: tidemark_protocol::agreements::AlertsQuery {
                team: team(),
                include_resolved: true,
                since: None,
                limit: 100,
            },
        },
        Q::Adherence {
            team: team(),
            since: None,
        },
        Q::SlackConnect { team: team() },
        Q::SlackConnectStatus {
            flow: t.flow,
            wait_ms: 0,
        },
        Q::SlackChannels { team: team() },
        Q::SlackChannelSet {
            team: team(),
            channel: "#eng".into(),
        },
        Q::SlackDisconnect { team: team() },
        Q::Reviewers {
            team: team(),
            since: None,
        },
        Q::PullRequestTimeline {
            team: team(),
            repo: t.repo.clone(),
            number: 1,
        },
        Q::WebhookRotateSecret { team: team() },
        Q::DaemonInfo {},
        Q::DaemonReload {},
        Q::DaemonStop { restart: false },
        Q::GithubAppSet {
            request: tidemark_protocol::GitHubAppRequest {
                client_id: "Ov23liProbe".into(),
                client_secret: None,
                clear_secret: false,
            },
        },
    ]
}

/// The method names of the `Tidemark` trait, read from its source.
pub fn protocol_methods() -> BTreeSet<String> {
    let source = include_str!("../../../../protocol/src/lib.rs");
    let names: BTreeSet<String> = source
        .split("async fn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .map(|name| format!("Tidemark.{}", name.trim()))
        .collect();
    assert!(names.len() > 20, "could not read the trait: {names:?}");
    names
}

/// A reply as text, with the caller's own words (the target it named) replaced, so that the
/// answers for B and for a forged target can be compared.
pub(super) fn normalized(resp: &TidemarkResponse, t: &Target) -> String {
    format!("{resp:?}")
        .replace(&t.team.to_string(), "<TEAM>")
        .replace(&format!("connect flow {}", t.flow), "connect flow <FLOW>")
        .replace(&t.repo, "<REPO>")
}

/// Everything stored for team B, and what the global space says about it and its owner.
async fn snapshot_b(fx: &Fixture) -> Vec<String> {
    let store = &fx.shared.store;
    let mut out: Vec<String> = store
        .raw()
        .scan_prefix(crate::store::keys::team_prefix(fx.b))
        .map(|kv| format!("{:?}", kv.unwrap()))
        .collect();
    out.push(format!("{:?}", store.team_by_name("bravo").unwrap()));
    out.push(format!("{:?}", store.teams_of_user(BOB).unwrap()));
    out.push(format!("{:?}", store.user(BOB).unwrap()));
    let sync = crate::sync::status(&fx.shared.syncs, fx.b, std::time::Duration::ZERO).await;
    out.push(format!("{sync:?}"));
    assert!(out.len() > 10, "team B has data to leak: {out:?}");
    out
}

#[tokio::test]
async fn users_of_team_a_learn_and_change_nothing_of_team_b() {
    let fx = Fixture::new();
    // Bob has a connect flow in progress for team B.
    let started = fx
        .call(
            BOB,
            TidemarkRequest::GithubConnect {
                request: ConnectRequest {
                    team: TeamRef::Id(fx.b),
                    method: ConnectMethod::Web,
                    org: None,
                    replace: true,
                    org_hook: false,
                },
            },
        )
        .await;
    let TidemarkResponse::GithubConnect(Ok(started)) = started else {
        panic!("bob could not start a flow: {started:?}")
    };
    let bob_flow = started.flow;
    let before = snapshot_b(&fx).await;

    let b_target = |team: TeamRef| Target {
        team,
        flow: bob_flow,
        repo: "bravo-org/bravo-repo".into(),
        name: "bravo".into(),
        add: ALICE,
        remove: BOB,
    };
    let forged = |team: TeamRef, n: u64| Target {
        team,
        flow: bob_flow + 1000 + n,
        repo: "ghost-org/ghost-repo".into(),
        name: format!("ghost {n}"),
        add: ALICE,
        remove: 65_000,
    };
    let pairs = [
        (
            b_target(TeamRef::Id(fx.b)),
            forged(TeamRef::Id(fx.b + 1000), 1),
        ),
        (b_target(TeamRef::Id(fx.b)), forged(TeamRef::Id(0), 2)),
        (
            b_target(TeamRef::Name("bravo".into())),
            forged(TeamRef::Name("ghost".into()), 3),
        ),
        (
            b_target(TeamRef::Name("BRAVO".into())),
            forged(TeamRef::Name("GHOST".into()), 4),
        ),
    ];

    let mut probed = BTreeSet::new();
    let mut calls = 0;
    for caller in [ALICE, ADMIN, MEMBER, OUTSIDER] {
        for (b, f) in &pairs {
            for (qb, qf) in probes(b).into_iter().zip(probes(f)) {
                let method = qb.name().to_string();
                probed.insert(method.clone());
                let is_create = matches!(qb, TidemarkRequest::TeamCreate { .. });
                let rb = fx.call(caller, qb).await;
                let rf = fx.call(caller, qf).await;
                calls += 2;
                if is_create {
                    // Names are unique only among one user's teams: creating B's name makes
                    // the caller a team of their own, exactly as an unused name does (so it
                    // tells nothing of B), and never touches B.
                    for (r, name) in [(&rb, &b.name), (&rf, &f.name)] {
                        let TidemarkResponse::TeamCreate(Ok(t)) = r else {
                            panic!("uid {caller}: creating '{name}': {r:?}")
                        };
                        assert_eq!(&t.name, name);
                        assert_ne!(t.id, fx.b, "uid {caller}: got team B itself");
                        // Gone again, so the probes after this one meet the same teams.
                        let team = TeamRef::Id(t.id);
                        let deleted = fx.call(caller, TidemarkRequest::TeamDelete { team }).await;
                        assert!(error_of(&deleted).is_none(), "{deleted:?}");
                    }
                    continue;
                }
                let (nb, nf) = (normalized(&rb, b), normalized(&rf, f));
                assert_eq!(
                    nb, nf,
                    "uid {caller}, {method}: team B's answer differs from a forged target's"
                );
                assert!(
                    !nb.to_lowercase().contains("bravo"),
                    "uid {caller}, {method}: the reply shows team B's data: {nb}"
                );
            }
        }
    }

    // Team A's own calls that name B's things inside A: answered as for forged things.
    for (b_repo, ghost) in [("bravo-org/bravo-repo", "ghost-org/ghost-repo")] {
        let inside_a = |repo: &str, remove: u32| {
            let t = Target {
                team: TeamRef::Id(fx.a),
                flow: 0,
                repo: repo.into(),
                name: String::new(),
                add: ALICE,
                remove,
            };
            probes(&t)
                .into_iter()
                .filter(|q| {
                    matches!(
                        q,
                        TidemarkRequest::ReposTrack { .. }
                            | TidemarkRequest::ReposUntrack { .. }
                            | TidemarkRequest::TeamRemoveMember { .. }
                    )
                })
                .collect::<Vec<_>>()
        };
        for (qb, qf) in inside_a(b_repo, BOB)
            .into_iter()
            .zip(inside_a(ghost, 65_000))
        {
            let rb = format!("{:?}", fx.call(ALICE, qb).await)
                .replace(b_repo, "<REPO>")
                .replace("uid 60002", "<UID>");
            let rf = format!("{:?}", fx.call(ALICE, qf).await)
                .replace(ghost, "<REPO>")
                .replace("uid 65000", "<UID>");
            assert_eq!(rb, rf);
            assert!(!rb.contains("bravo"), "{rb}");
        }
    }

    assert_eq!(
        snapshot_b(&fx).await,
        before,
        "team B's records changed after {calls} calls by others"
    );
    let still = fx
        .call(
            BOB,
            TidemarkRequest::GithubConnectStatus {
                flow: bob_flow,
                wait_ms: 0,
            },
        )
        .await;
    assert!(
        matches!(
            still,
            TidemarkResponse::GithubConnectStatus(Ok(ConnectState::Waiting))
        ),
        "bob's flow was touched: {still:?}"
    );
    assert_eq!(
        probed,
        protocol_methods(),
        "every RPC method of protocol/src/lib.rs needs a probe in matrix::probes"
    );
}

#[test]
fn every_method_has_a_row() {
    // `row` is exhaustive by construction; this checks `probes` reaches every method and that
    // each of its requests has a row (a panic-free call per request).
    let t = Target {
        team: TeamRef::Id(1),
        flow: 1,
        repo: "o/r".into(),
        name: "n".into(),
        add: 1,
        remove: 1,
    };
    let names: BTreeSet<String> = probes(&t)
        .iter()
        .map(|q| {
            let _ = row(q);
            q.name().to_string()
        })
        .collect();
    assert_eq!(names, protocol_methods());
}
