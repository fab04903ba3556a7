//! What `status` and `pull_requests` tell a team's member: the organization's members now,
//! the webhook backlog with its oldest delivery's age, and who merged a pull request.

use super::*;
use crate::store::InboxEntry;
use tidemark_protocol::{PrQuery, TeamRef, TeamStatus};

async fn status(fx: &Fixture) -> TeamStatus {
    let req = TidemarkRequest::Status {
        team: Some(TeamRef::Id(fx.a)),
    };
    match fx.call(ALICE, req).await {
        TidemarkResponse::Status(Ok(mut list)) => list.remove(0),
        other => panic!("{other:?}"),
    }
}

/// "12 members" meant every person record; the header says GitHub org members, so the count
/// leaves out those who left and authors known only by a commit email.
#[tokio::test]
async fn the_member_count_is_the_organizations_members_now() {
    let fx = Fixture::new();
    let store = &fx.shared.store;
    assert_eq!(status(&fx).await.member_count, 1);
    let leaver = store
        .upsert_member(
            fx.a,
            MemberInput {
                github_id: Some(77),
                github_username: Some("alpha-leaver".into()),
                ..MemberInput::default()
            },
        )
        .unwrap();
    store
        .upsert_member(
            fx.a,
            MemberInput {
                email: Some("someone@alpha.example".into()),
                ..MemberInput::default()
            },
        )
        .unwrap();
    assert_eq!(status(&fx).await.member_count, 2);
    store
        .mark_member_left(fx.a, leaver.id, 1_700_000_000)
        .unwrap();
    assert_eq!(status(&fx).await.member_count, 1);
}

#[tokio::test]
async fn the_webhook_backlog_comes_with_its_oldest_deliverys_time() {
    let fx = Fixture::new();
    let before = status(&fx).await;
    assert_eq!(
        (before.webhooks_pending, before.webhooks_oldest_pending_at),
        (0, None)
    );
    let delivery = |seq: u64, received_at: i64| InboxEntry {
        team_id: fx.a,
        seq,
        guid: format!("guid-{seq}"),
        event: "pull_request".into(),
        hook_id: None,
        repo_id: Some(1_000),
        received_at,
        body: b"{}".to_vec(),
    };
    fx.shared
        .store
        .inbox_add(&[delivery(1, 1_700_000_100), delivery(2, 1_700_000_500)])
        .unwrap();
    let after = status(&fx).await;
    assert_eq!(
        (after.webhooks_pending, after.webhooks_oldest_pending_at),
        (2, Some(1_700_000_100))
    );
}

/// GitHub's `mergedBy`, not the author, as stored by the sync.
#[tokio::test]
async fn a_pull_request_says_who_merged_it() {
    let fx = Fixture::new();
    let req = TidemarkRequest::PullRequests {
        query: PrQuery {
            team: TeamRef::Id(fx.a),
            repo: None,
            state: None,
            limit: 0,
        },
    };
    let prs = match fx.call(MEMBER, req).await {
        TidemarkResponse::PullRequests(Ok(prs)) => prs,
        other => panic!("{other:?}"),
    };
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].author.as_deref(), Some("alpha-dev"));
    assert_eq!(prs[0].merged_by.as_deref(), Some("alpha-merger"));
}
