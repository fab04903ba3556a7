//! Role × method in one team: what an owner, an admin, a member, an outsider and an operator
//! may do to team A, each call on a fresh fixture (so a delete or a disconnect does not change
//! what the next call sees). Expectations come from `matrix::row`, the policy table.
//! Then the membership rules: leaving, the last owner, unknown users, operators (invitations
//! themselves: `invitations.rs`).

use super::matrix::{Row, Target, probes, row};
use super::*;
use crate::auth::allows;
use tarpc::RequestName;
use tidemark_protocol::{MemberAdded, RpcError, TeamRef, UserRef};

fn a_target(fx: &Fixture) -> Target {
    Target {
        team: TeamRef::Id(fx.a),
        // Nobody's flow: the flow methods are checked in matrix.rs.
        flow: 999_999,
        repo: "alpha-org/alpha-repo".into(),
        name: "a new team".into(),
        add: OTHER,
        remove: OTHER,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Past authorization (the call may still fail later, e.g. GitHub being unreachable).
    Served,
    Denied,
    NotFound,
}

fn outcome(resp: &TidemarkResponse, team: &TeamRef) -> Outcome {
    match error_of(resp) {
        Some(RpcError::PermissionDenied(_)) => Outcome::Denied,
        Some(RpcError::NotFound(what)) if *what == team.to_string() => Outcome::NotFound,
        _ => Outcome::Served,
    }
}

#[tokio::test]
async fn each_role_may_do_exactly_what_its_row_says() {
    let callers = [
        ("owner", ALICE, Some(Role::Owner)),
        ("admin", ADMIN, Some(Role::Admin)),
        ("member", MEMBER, Some(Role::Member)),
        ("outsider", OUTSIDER, None),
        ("operator", OPERATOR, None),
    ];
    let count = probes(&a_target(&Fixture::new())).len();
    let mut table = String::new();
    let mut failures = Vec::new();
    for i in 0..count {
        let mut line = String::new();
        for (who, uid, role) in callers {
            let fx = Fixture::new();
            let t = a_target(&fx);
            let req = probes(&t).swap_remove(i);
            if line.is_empty() {
                line = format!("{:<28}", req.name().trim_start_matches("Tidemark."));
            }
            let expected = match (row(&req), role) {
                (Row::Anyone, _) => Outcome::Served,
                (Row::OwnFlow, _) => Outcome::Served, // see matrix.rs
                // Nobody here is invited to team A: to each it is a team that does not exist
                // (invitations.rs tests the invited user).
                (Row::OwnInvitation, _) => Outcome::NotFound,
                (Row::Team(need) | Row::Membership(need), Some(role)) => {
                    if allows(role, need) {
                        Outcome::Served
                    } else {
                        Outcome::Denied
                    }
                }
                (Row::Membership(_), None) if uid == OPERATOR => Outcome::Served,
                (Row::Operator, _) if uid == OPERATOR => Outcome::Served,
                (Row::Operator, _) => Outcome::Denied,
                (Row::Team(_) | Row::Membership(_), None) => Outcome::NotFound,
            };
            let resp = fx.call(uid, req).await;
            let got = outcome(&resp, &t.team);
            line.push_str(&format!(" {who}={got:?}"));
            if got != expected {
                failures.push(format!("{line}: {who} expected {expected:?}, got {resp:?}"));
            }
        }
        table.push_str(&line);
        table.push('\n');
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn list_names(fx: &Fixture, uid: u32) -> Vec<String> {
    match fx.call(uid, TidemarkRequest::TeamList {}).await {
        TidemarkResponse::TeamList(Ok(teams)) => teams.into_iter().map(|t| t.name).collect(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn membership_rules() {
    let fx = Fixture::new();
    let a = || TeamRef::Id(fx.a);
    let remove = |uid: u32| TidemarkRequest::TeamRemoveMember {
        team: a(),
        user: UserRef::Uid(uid),
    };
    let add = |user: UserRef, role| TidemarkRequest::TeamAddMember {
        team: a(),
        user,
        role,
    };
    let last_owner = |resp: &TidemarkResponse| matches!(error_of(resp), Some(RpcError::InvalidArgument { reason, .. }) if reason.contains("last owner"));

    // Each sees only their own teams.
    assert_eq!(list_names(&fx, ALICE).await, ["alpha"]);
    assert_eq!(list_names(&fx, BOB).await, ["bravo"]);
    assert!(list_names(&fx, OUTSIDER).await.is_empty());
    assert!(list_names(&fx, OPERATOR).await.is_empty());

    // The last owner can neither leave nor be demoted.
    assert!(last_owner(&fx.call(ALICE, remove(ALICE)).await));
    assert!(last_owner(
        &fx.call(
            ALICE,
            add(UserRef::Uid(ALICE), tidemark_protocol::Role::Admin)
        )
        .await
    ));

    // A member may leave; then the team is gone for them.
    let left = fx.call(MEMBER, remove(MEMBER)).await;
    assert!(error_of(&left).is_none(), "{left:?}");
    assert!(list_names(&fx, MEMBER).await.is_empty());
    let status = fx
        .call(MEMBER, TidemarkRequest::Status { team: Some(a()) })
        .await;
    assert_eq!(
        error_of(&status),
        Some(&RpcError::NotFound(a().to_string()))
    );

    // Unknown login names are refused plainly; uids are taken as given.
    let unknown = fx
        .call(
            ALICE,
            add(
                UserRef::Name("no-such-user-tm".into()),
                tidemark_protocol::Role::Member,
            ),
        )
        .await;
    assert!(
        matches!(error_of(&unknown), Some(RpcError::InvalidArgument { reason, .. }) if reason.contains("no user named 'no-such-user-tm'")),
        "{unknown:?}"
    );
    let root = fx
        .call(
            ALICE,
            add(
                UserRef::Name("root".into()),
                tidemark_protocol::Role::Member,
            ),
        )
        .await;
    assert!(
        matches!(&root, TidemarkResponse::TeamAddMember(Ok(MemberAdded::Invited(i))) if i.user.uid == 0 && i.user.name == "root"),
        "{root:?}"
    );
    assert_eq!(
        fx.accept(0, a()).await.role,
        Some(tidemark_protocol::Role::Member)
    );

    // An operator in no team can recover it: make someone owner, in the open (they still
    // accept it: nobody is made a member by someone else).
    let recovered = fx
        .call(
            OPERATOR,
            add(UserRef::Uid(OUTSIDER), tidemark_protocol::Role::Owner),
        )
        .await;
    assert!(
        matches!(&recovered, TidemarkResponse::TeamAddMember(Ok(MemberAdded::Invited(i))) if i.role == tidemark_protocol::Role::Owner),
        "{recovered:?}"
    );
    assert!(list_names(&fx, OUTSIDER).await.is_empty());
    assert_eq!(
        fx.accept(OUTSIDER, a()).await.role,
        Some(tidemark_protocol::Role::Owner)
    );
    assert_eq!(list_names(&fx, OUTSIDER).await, ["alpha"]);
    assert!(
        list_names(&fx, OPERATOR).await.is_empty(),
        "the operator did not join"
    );
    let members = fx
        .call(OPERATOR, TidemarkRequest::TeamMembers { team: a() })
        .await;
    let TidemarkResponse::TeamMembers(Ok(members)) = members else {
        panic!("{members:?}")
    };
    let roles: Vec<(u32, &str)> = members
        .iter()
        .map(|m| (m.user.uid, m.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            // No passwd entries: named by number (adding a user records their current name).
            (ALICE, "owner"),
            (OUTSIDER, "owner"),
            (ADMIN, "admin"),
            (0, "member"),
            (OTHER, "member"),
        ],
        "owners first, then by name"
    );
    // With two owners, one may step down.
    let demoted = fx
        .call(
            OUTSIDER,
            add(UserRef::Uid(ALICE), tidemark_protocol::Role::Member),
        )
        .await;
    assert!(error_of(&demoted).is_none(), "{demoted:?}");
    // ...but an operator reads no team data without joining.
    let read = fx
        .call(OPERATOR, TidemarkRequest::Members { team: a() })
        .await;
    assert_eq!(error_of(&read), Some(&RpcError::NotFound(a().to_string())));
}

/// Team names are unique among one user's teams only: Bob may name a team like Alice's (and
/// learns nothing of hers by it); a user in two teams of one name must name them by id.
#[tokio::test]
async fn names_are_per_user_and_an_ambiguous_name_asks_for_the_id() {
    let fx = Fixture::new();
    let create = |name: &str| TidemarkRequest::TeamCreate { name: name.into() };
    // Bob's own "ALPHA", beside Alice's "alpha".
    let TidemarkResponse::TeamCreate(Ok(bobs)) = fx.call(BOB, create("ALPHA")).await else {
        panic!("bob could not name a team like a team he cannot see")
    };
    assert_ne!(bobs.id, fx.a);
    // His own names stay unique for him.
    let again = fx.call(BOB, create("Alpha")).await;
    assert!(
        matches!(error_of(&again), Some(RpcError::AlreadyExists(_))),
        "{again:?}"
    );
    // By name, each sees their own.
    let status = |team: TeamRef| TidemarkRequest::Status { team: Some(team) };
    let name = || TeamRef::Name("alpha".into());
    let TidemarkResponse::Status(Ok(mine)) = fx.call(BOB, status(name())).await else {
        panic!("bob's own alpha")
    };
    assert_eq!(mine[0].team.id, bobs.id);
    let TidemarkResponse::Status(Ok(hers)) = fx.call(ALICE, status(name())).await else {
        panic!("alice's alpha")
    };
    assert_eq!(hers[0].team.id, fx.a);
    // Alice adds Bob to hers: now "alpha" names two of his teams.
    let added = fx
        .call(
            ALICE,
            TidemarkRequest::TeamAddMember {
                team: TeamRef::Id(fx.a),
                user: UserRef::Uid(BOB),
                role: tidemark_protocol::Role::Member,
            },
        )
        .await;
    assert!(error_of(&added).is_none(), "{added:?}");
    // Until he accepts, "alpha" is only his own.
    let TidemarkResponse::Status(Ok(still)) = fx.call(BOB, status(name())).await else {
        panic!("bob's own alpha, before accepting")
    };
    assert_eq!(still[0].team.id, bobs.id);
    fx.accept(BOB, TeamRef::Id(fx.a)).await;
    let both = fx.call(BOB, status(name())).await;
    match error_of(&both) {
        Some(RpcError::InvalidArgument { reason, .. }) => {
            assert!(reason.contains(&format!("#{}", fx.a)), "{reason}");
            assert!(reason.contains(&format!("#{}", bobs.id)), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let by_id = fx.call(BOB, status(TeamRef::Id(fx.a))).await;
    assert!(error_of(&by_id).is_none(), "{by_id:?}");
    // Renaming his into a name he already has is refused; into Alice's other names is not.
    let rename = |team, new_name: &str| TidemarkRequest::TeamRename {
        team,
        new_name: new_name.into(),
    };
    let clash = fx.call(BOB, rename(TeamRef::Id(bobs.id), "bravo")).await;
    assert!(
        matches!(error_of(&clash), Some(RpcError::AlreadyExists(_))),
        "{clash:?}"
    );
    let fine = fx.call(BOB, rename(TeamRef::Id(bobs.id), "charlie")).await;
    assert!(error_of(&fine).is_none(), "{fine:?}");
}
