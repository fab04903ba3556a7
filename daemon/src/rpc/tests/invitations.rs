//! Nobody becomes a member of a team without accepting: an invited user sees and does nothing
//! of the team until they accept, gets exactly the invited role, and nobody else can answer for
//! them; declined and withdrawn invitations leave nothing. The look-alike attack (a team named
//! like the victim's, the victim added as its owner) changes nothing the victim sees.

use super::matrix::{Target, normalized, probes};
use super::*;
use tidemark_protocol::{
    Invitation, MemberAdded, Role as WireRole, RpcError, TeamInfo, TeamRef, UserRef,
};

fn add(team: TeamRef, uid: u32, role: WireRole) -> TidemarkRequest {
    TidemarkRequest::TeamAddMember {
        team,
        user: UserRef::Uid(uid),
        role,
    }
}

/// `by` adds `uid` to `team`, which must send an invitation; answers it.
async fn invite(fx: &Fixture, by: u32, team: TeamRef, uid: u32, role: WireRole) -> Invitation {
    match fx.call(by, add(team, uid, role)).await {
        TidemarkResponse::TeamAddMember(Ok(MemberAdded::Invited(i))) => i,
        other => panic!("uid {by} adding uid {uid}: expected an invitation, got {other:?}"),
    }
}

async fn teams_of(fx: &Fixture, uid: u32) -> Vec<TeamInfo> {
    match fx.call(uid, TidemarkRequest::TeamList {}).await {
        TidemarkResponse::TeamList(Ok(teams)) => teams,
        other => panic!("{other:?}"),
    }
}

async fn invitations_of(fx: &Fixture, uid: u32) -> Vec<Invitation> {
    match fx.call(uid, TidemarkRequest::Invitations {}).await {
        TidemarkResponse::Invitations(Ok(all)) => all,
        other => panic!("{other:?}"),
    }
}

async fn pending_in(fx: &Fixture, uid: u32, team: TeamRef) -> Vec<Invitation> {
    match fx
        .call(uid, TidemarkRequest::TeamInvitations { team })
        .await
    {
        TidemarkResponse::TeamInvitations(Ok(all)) => all,
        other => panic!("{other:?}"),
    }
}

/// Team A's records, raw.
fn team_records(fx: &Fixture, team: TeamId) -> Vec<String> {
    fx.shared
        .store
        .raw()
        .scan_prefix(crate::store::keys::team_prefix(team))
        .map(|kv| format!("{:?}", kv.unwrap()))
        .collect()
}

#[tokio::test]
async fn an_invited_user_sees_and_does_nothing_of_the_team_until_accepting() {
    let fx = Fixture::new();
    let a = || TeamRef::Id(fx.a);
    let sent = invite(&fx, ALICE, a(), OUTSIDER, WireRole::Admin).await;
    assert_eq!(
        (sent.team_id, sent.team_name.as_str(), sent.role),
        (fx.a, "alpha", WireRole::Admin)
    );
    assert_eq!((sent.user.uid, sent.invited_by.uid), (OUTSIDER, ALICE));
    assert!(sent.expires_at > sent.created_at);

    // Not in their list or their status.
    assert!(teams_of(&fx, OUTSIDER).await.is_empty());
    let all = fx
        .call(OUTSIDER, TidemarkRequest::Status { team: None })
        .await;
    assert!(
        matches!(&all, TidemarkResponse::Status(Ok(s)) if s.is_empty()),
        "{all:?}"
    );
    // Every method that names the team answers as for a team that does not exist (but the
    // two that answer the invitation, below).
    let target = |team: TeamRef, name: &str| Target {
        team,
        flow: 999_999,
        repo: "alpha-org/alpha-repo".into(),
        name: name.into(),
        add: OUTSIDER,
        remove: ALICE,
    };
    let (on_a, forged) = (target(a(), "x"), target(TeamRef::Id(fx.a + 1000), "y"));
    let before = team_records(&fx, fx.a);
    for (qa, qf) in probes(&on_a).into_iter().zip(probes(&forged)) {
        if matches!(
            qa,
            TidemarkRequest::TeamCreate { .. }
                | TidemarkRequest::InvitationAccept { .. }
                | TidemarkRequest::InvitationDecline { .. }
        ) {
            continue;
        }
        let method = format!("{qa:?}");
        let (ra, rf) = (fx.call(OUTSIDER, qa).await, fx.call(OUTSIDER, qf).await);
        assert_eq!(
            normalized(&ra, &on_a).replace("alpha-org/alpha-repo", "<REPO>"),
            normalized(&rf, &forged),
            "invited, not yet a member: {method}"
        );
    }
    assert_eq!(
        team_records(&fx, fx.a),
        before,
        "the invitee changed team A"
    );

    // They see the invitation itself; the team's members see it too.
    assert_eq!(
        invitations_of(&fx, OUTSIDER).await,
        std::slice::from_ref(&sent)
    );
    assert_eq!(
        pending_in(&fx, ALICE, a()).await,
        std::slice::from_ref(&sent)
    );
    assert_eq!(
        pending_in(&fx, MEMBER, a()).await,
        std::slice::from_ref(&sent)
    );
    assert!(invitations_of(&fx, ALICE).await.is_empty());

    // Accepting gives exactly the invited role, and the invitation is gone.
    let joined = fx.accept(OUTSIDER, a()).await;
    assert_eq!((joined.id, joined.role), (fx.a, Some(WireRole::Admin)));
    let listed = teams_of(&fx, OUTSIDER).await;
    assert_eq!(listed, [joined]);
    assert_eq!(
        fx.shared
            .store
            .membership(fx.a, OUTSIDER)
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    assert!(invitations_of(&fx, OUTSIDER).await.is_empty());
    assert!(pending_in(&fx, ALICE, a()).await.is_empty());
    let status = fx
        .call(OUTSIDER, TidemarkRequest::Status { team: Some(a()) })
        .await;
    assert!(error_of(&status).is_none(), "{status:?}");
    let rename = fx
        .call(
            OUTSIDER,
            TidemarkRequest::TeamRename {
                team: a(),
                new_name: "mine".into(),
            },
        )
        .await;
    assert!(
        matches!(error_of(&rename), Some(RpcError::PermissionDenied(_))),
        "an admin, not an owner: {rename:?}"
    );
    // Answered once: a second accept finds nothing.
    let again = fx
        .call(OUTSIDER, TidemarkRequest::InvitationAccept { team: a() })
        .await;
    assert_eq!(error_of(&again), Some(&RpcError::NotFound(a().to_string())));
}

#[tokio::test]
async fn each_role_is_given_exactly_as_invited() {
    let fx = Fixture::new();
    for (uid, role) in [
        (OUTSIDER, WireRole::Owner),
        (BOB, WireRole::Member),
        (60_010, WireRole::Admin),
    ] {
        invite(&fx, ALICE, TeamRef::Name("alpha".into()), uid, role).await;
        let joined = fx.accept(uid, TeamRef::Name("ALPHA".into())).await;
        assert_eq!(joined.role, Some(role));
        let stored = fx.shared.store.membership(fx.a, uid).unwrap().unwrap();
        assert_eq!(crate::wire::role(stored.role), role);
    }
    // Sent again before an answer: one invitation, the latest role.
    invite(&fx, ALICE, TeamRef::Id(fx.a), 60_011, WireRole::Owner).await;
    let resent = invite(&fx, ALICE, TeamRef::Id(fx.a), 60_011, WireRole::Member).await;
    assert_eq!(invitations_of(&fx, 60_011).await, [resent]);
    assert_eq!(
        fx.accept(60_011, TeamRef::Id(fx.a)).await.role,
        Some(WireRole::Member)
    );
}

#[tokio::test]
async fn declined_and_withdrawn_invitations_leave_nothing() {
    let fx = Fixture::new();
    let a = || TeamRef::Id(fx.a);
    // The invitee is known to the store from here on; what follows must leave team A as is.
    invite(&fx, ALICE, a(), OUTSIDER, WireRole::Owner).await;
    let decline = fx
        .call(OUTSIDER, TidemarkRequest::InvitationDecline { team: a() })
        .await;
    assert!(error_of(&decline).is_none(), "{decline:?}");
    let before = team_records(&fx, fx.a);
    assert!(invitations_of(&fx, OUTSIDER).await.is_empty());
    assert!(pending_in(&fx, ALICE, a()).await.is_empty());
    let late = fx
        .call(OUTSIDER, TidemarkRequest::InvitationAccept { team: a() })
        .await;
    assert_eq!(error_of(&late), Some(&RpcError::NotFound(a().to_string())));
    assert!(teams_of(&fx, OUTSIDER).await.is_empty());

    // Withdrawn by an owner (an admin may not).
    invite(&fx, ALICE, a(), OUTSIDER, WireRole::Member).await;
    let remove = || TidemarkRequest::TeamRemoveMember {
        team: a(),
        user: UserRef::Uid(OUTSIDER),
    };
    let denied = fx.call(ADMIN, remove()).await;
    assert!(
        matches!(error_of(&denied), Some(RpcError::PermissionDenied(_))),
        "{denied:?}"
    );
    let withdrawn = fx.call(ALICE, remove()).await;
    assert!(error_of(&withdrawn).is_none(), "{withdrawn:?}");
    assert_eq!(team_records(&fx, fx.a), before);
    assert!(invitations_of(&fx, OUTSIDER).await.is_empty());
    let late = fx
        .call(OUTSIDER, TidemarkRequest::InvitationAccept { team: a() })
        .await;
    assert_eq!(error_of(&late), Some(&RpcError::NotFound(a().to_string())));
    // Nothing left to withdraw: as for anyone who is not a member.
    let gone = fx.call(ALICE, remove()).await;
    assert!(
        matches!(error_of(&gone), Some(RpcError::NotFound(what)) if what.contains("as a member of team 'alpha'")),
        "{gone:?}"
    );
}

#[tokio::test]
async fn nobody_answers_an_invitation_for_someone_else() {
    let fx = Fixture::new();
    let a = || TeamRef::Id(fx.a);
    invite(&fx, ALICE, a(), OUTSIDER, WireRole::Owner).await;
    let before = team_records(&fx, fx.a);
    let forged = TeamRef::Id(fx.a + 1000);
    // The team's owner, its members, another team's owner, an operator: none of them is
    // invited, so to each the team is one they have no invitation to.
    for uid in [ALICE, ADMIN, MEMBER, BOB, OPERATOR, 0] {
        for (on_a, on_forged) in [
            (
                TidemarkRequest::InvitationAccept { team: a() },
                TidemarkRequest::InvitationAccept {
                    team: forged.clone(),
                },
            ),
            (
                TidemarkRequest::InvitationDecline { team: a() },
                TidemarkRequest::InvitationDecline {
                    team: forged.clone(),
                },
            ),
        ] {
            let got = format!("{:?}", fx.call(uid, on_a).await).replace(&a().to_string(), "T");
            let want =
                format!("{:?}", fx.call(uid, on_forged).await).replace(&forged.to_string(), "T");
            assert_eq!(got, want, "uid {uid}");
            assert!(got.contains("NotFound"), "uid {uid}: {got}");
        }
    }
    assert_eq!(team_records(&fx, fx.a), before);
    assert_eq!(invitations_of(&fx, OUTSIDER).await.len(), 1);
    assert!(
        fx.shared
            .store
            .membership(fx.a, OUTSIDER)
            .unwrap()
            .is_none()
    );
}

/// Bob names a team of his like Alice's and adds her as its owner. Before, she would have
/// found a second "alpha" in her list; now her list, her status and her name for "alpha" are
/// unchanged until she accepts, and the invitation says whose it is.
#[tokio::test]
async fn a_look_alike_team_changes_nothing_for_its_victim_until_accepted() {
    let fx = Fixture::new();
    let alpha = || TeamRef::Name("alpha".into());
    let before = teams_of(&fx, ALICE).await;
    assert_eq!(before.len(), 1);
    let TidemarkResponse::TeamCreate(Ok(fake)) = fx
        .call(
            BOB,
            TidemarkRequest::TeamCreate {
                name: "alpha".into(),
            },
        )
        .await
    else {
        panic!("bob names a team like one he cannot see")
    };
    let sent = invite(&fx, BOB, TeamRef::Id(fake.id), ALICE, WireRole::Owner).await;
    assert_eq!(teams_of(&fx, ALICE).await, before);
    let TidemarkResponse::Status(Ok(hers)) = fx
        .call(
            ALICE,
            TidemarkRequest::Status {
                team: Some(alpha()),
            },
        )
        .await
    else {
        panic!("alice's own alpha, by name")
    };
    assert_eq!(hers[0].team.id, fx.a, "'alpha' still names her own team");
    let all = fx.call(ALICE, TidemarkRequest::Status { team: None }).await;
    assert!(
        matches!(&all, TidemarkResponse::Status(Ok(s)) if s.len() == 1 && s[0].team.id == fx.a),
        "{all:?}"
    );
    // What she is shown: another team's id, and who invites her.
    let shown = invitations_of(&fx, ALICE).await;
    assert_eq!(shown, [sent]);
    assert_eq!((shown[0].team_id, shown[0].invited_by.uid), (fake.id, BOB));
    assert_ne!(shown[0].team_id, fx.a);

    // She declines: nothing changed, nothing waits.
    let declined = fx
        .call(
            ALICE,
            TidemarkRequest::InvitationDecline {
                team: TeamRef::Id(fake.id),
            },
        )
        .await;
    assert!(error_of(&declined).is_none(), "{declined:?}");
    assert_eq!(teams_of(&fx, ALICE).await, before);
    assert!(invitations_of(&fx, ALICE).await.is_empty());
    assert!(
        fx.shared
            .store
            .membership(fake.id, ALICE)
            .unwrap()
            .is_none()
    );

    // Had she accepted, "alpha" would name two of her teams and be refused as ambiguous.
    invite(&fx, BOB, TeamRef::Id(fake.id), ALICE, WireRole::Owner).await;
    let by_name = fx
        .call(ALICE, TidemarkRequest::InvitationAccept { team: alpha() })
        .await;
    assert!(error_of(&by_name).is_none(), "{by_name:?}");
    let ambiguous = fx
        .call(
            ALICE,
            TidemarkRequest::Status {
                team: Some(alpha()),
            },
        )
        .await;
    assert!(
        matches!(error_of(&ambiguous), Some(RpcError::InvalidArgument { reason, .. }) if reason.contains(&format!("#{}", fake.id))),
        "{ambiguous:?}"
    );
}

#[tokio::test]
async fn only_the_caller_themself_and_role_changes_need_no_acceptance() {
    let fx = Fixture::new();
    let a = || TeamRef::Id(fx.a);
    // An operator recovering a team adds itself: at once, and in the open.
    let joined = fx.call(OPERATOR, add(a(), OPERATOR, WireRole::Owner)).await;
    assert!(
        matches!(&joined, TidemarkResponse::TeamAddMember(Ok(MemberAdded::Member(m))) if m.user.uid == OPERATOR && m.role == WireRole::Owner),
        "{joined:?}"
    );
    assert_eq!(teams_of(&fx, OPERATOR).await.len(), 1);
    // A member's role changes without asking them (promotion and demotion).
    for role in [WireRole::Owner, WireRole::Member] {
        let changed = fx.call(ALICE, add(a(), MEMBER, role)).await;
        assert!(
            matches!(&changed, TidemarkResponse::TeamAddMember(Ok(MemberAdded::Member(m))) if m.role == role),
            "{changed:?}"
        );
    }
    // An owner who is not an operator adds nobody at once, whoever it is.
    invite(&fx, ALICE, a(), BOB, WireRole::Member).await;
    assert!(fx.shared.store.membership(fx.a, BOB).unwrap().is_none());
}

#[tokio::test]
async fn an_expired_invitation_cannot_be_accepted() {
    let fx = Fixture::new();
    let store = &fx.shared.store;
    store.upsert_user(OUTSIDER, "outsider").unwrap();
    let old = crate::store::now() - crate::store::INVITATION_TTL_SECS - 1;
    store
        .invite_at(fx.a, OUTSIDER, Role::Owner, ALICE, old)
        .unwrap();
    assert!(invitations_of(&fx, OUTSIDER).await.is_empty());
    assert!(pending_in(&fx, ALICE, TeamRef::Id(fx.a)).await.is_empty());
    let late = fx
        .call(
            OUTSIDER,
            TidemarkRequest::InvitationAccept {
                team: TeamRef::Id(fx.a),
            },
        )
        .await;
    assert!(
        matches!(error_of(&late), Some(RpcError::NotFound(_))),
        "{late:?}"
    );
    assert!(store.membership(fx.a, OUTSIDER).unwrap().is_none());
    // Sent again, it counts from then.
    invite(&fx, ALICE, TeamRef::Id(fx.a), OUTSIDER, WireRole::Member).await;
    assert_eq!(
        fx.accept(OUTSIDER, TeamRef::Id(fx.a)).await.role,
        Some(WireRole::Member)
    );
}
