//! The flow after GitHub's token, without GitHub: a flow is put in the registry as `start` would,
//! and GitHub's answer (the token, its user and organizations) handed to `approve::on_user`.
//! Real GitHub round trips are `tests/tests/e2e/connect_github.rs`.

use super::approve::{hold, on_user};
use super::*;
use crate::context::testing::{ALICE, BOB, TwoTeams};

/// A connector over a context with two seeded teams.
struct Fixture {
    conn: Arc<Connector>,
    _teams: TwoTeams,
}

impl Fixture {
    fn new() -> Fixture {
        let teams = TwoTeams::new();
        Fixture {
            conn: Arc::new(Connector::new(teams.ctx.clone())),
            _teams: teams,
        }
    }
}

const TOKEN: &str = "gho_CONFIRMTESTTOKEN00000000000000000000";

fn tokens() -> TokenSet {
    TokenSet {
        access_token: Secret::new(TOKEN.to_string()),
        refresh_token: None,
        expires_at: None,
        scopes: vec!["read:org".into(), "repo".into(), "read:user".into()],
    }
}

fn org(login: &str, id: u64) -> Org {
    Org {
        login: login.into(),
        id,
        description: None,
    }
}

/// A new team of alice's with no GitHub connection, and a flow of `method` for it that waits
/// for GitHub.
fn new_flow(fx: &Fixture, method: ConnectMethod) -> (TeamId, FlowId) {
    let team = fx
        .conn
        .ctx
        .store
        .create_team("charlie", Some(ALICE))
        .unwrap()
        .id;
    let c = &fx.conn;
    let id = c.next_flow.fetch_add(1, Ordering::Relaxed);
    let (state, _) = watch::channel(ConnectState::Waiting);
    c.flows().insert(
        id,
        Flow {
            team,
            uid: ALICE,
            method,
            org: None,
            replace: false,
            state,
            web: None,
            approved: None,
            task: None,
            deadline: Instant::now() + WEB_FLOW_TTL,
            ended_at: None,
        },
    );
    (team, id)
}

fn stored(fx: &Fixture, team: TeamId) -> bool {
    let store = &fx.conn.ctx.store;
    store.credential(team, Provider::Github).unwrap().is_some()
        || store.github_integration(team).unwrap().is_some()
}

async fn state(fx: &Fixture, flow: FlowId) -> ConnectState {
    status(&fx.conn, flow, ALICE, Duration::ZERO).await.unwrap()
}

fn holds_token(fx: &Fixture, flow: FlowId) -> bool {
    fx.conn.flows()[&flow].approved.is_some()
}

fn refused(result: Result<ConnectState, ConnectError>, field_is: &str) -> String {
    match result {
        Err(ConnectError::Invalid { field, reason }) if field == field_is => reason,
        other => panic!("refused on {field_is}: {other:?}"),
    }
}

#[tokio::test]
async fn a_web_flow_stores_nothing_until_the_login_is_confirmed() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    on_user(
        &fx.conn,
        flow,
        tokens(),
        "mallory".into(),
        vec![org("acme", 7)],
    )
    .await;
    assert_eq!(
        state(&fx, flow).await,
        ConnectState::ConfirmLogin {
            github_login: "mallory".into()
        }
    );
    assert!(!stored(&fx, team), "stored before the login was confirmed");
    assert!(holds_token(&fx, flow));
    assert!(!format!("{:?}", state(&fx, flow).await).contains(TOKEN));

    // Picking the organization does not skip the question.
    let skip = choose_org(&fx.conn, flow, ALICE, "acme").await;
    assert!(refused(skip, "flow").contains("not waiting for an organization choice"));
    // Another login than GitHub's: refused, naming both; the flow still waits.
    let wrong = confirm_login(&fx.conn, flow, ALICE, "alice-gh").await;
    let reason = refused(wrong, "github_login");
    assert!(
        reason.contains("@mallory") && reason.contains("@alice-gh"),
        "{reason}"
    );
    assert!(reason.contains("nothing was stored"), "{reason}");
    let junk = confirm_login(&fx.conn, flow, ALICE, &"x".repeat(5_000)).await;
    assert!(!refused(junk, "github_login").contains("xxxx"));
    // Someone else's confirmation of the right login: not their flow.
    let theirs = confirm_login(&fx.conn, flow, BOB, "mallory").await;
    assert!(
        matches!(theirs, Err(ConnectError::NotFound(_))),
        "{theirs:?}"
    );
    assert!(!stored(&fx, team));
    assert!(matches!(
        state(&fx, flow).await,
        ConnectState::ConfirmLogin { .. }
    ));

    // The user refuses: the flow ends, the token goes, nothing is stored.
    cancel(&fx.conn, flow, ALICE).unwrap();
    assert_eq!(
        state(&fx, flow).await,
        ConnectState::Failed {
            reason: "cancelled".into()
        }
    );
    assert!(!holds_token(&fx, flow));
    let late = confirm_login(&fx.conn, flow, ALICE, "mallory").await;
    assert_eq!(refused(late, "flow"), "this flow has ended: cancelled");
    assert!(!stored(&fx, team));
}

#[tokio::test]
async fn a_confirmed_login_connects_the_one_visible_org() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    on_user(
        &fx.conn,
        flow,
        tokens(),
        "OctoCat".into(),
        vec![org("acme", 7)],
    )
    .await;
    // Logins compare without ASCII case, as GitHub's do.
    let done = confirm_login(&fx.conn, flow, ALICE, "octocat")
        .await
        .unwrap();
    let ConnectState::Connected {
        github_login,
        integration,
    } = done
    else {
        panic!("{done:?}")
    };
    assert_eq!(github_login, "OctoCat");
    assert_eq!(integration.github.unwrap().organization_slug, "acme");
    assert!(stored(&fx, team));
    // Confirming again changes nothing.
    let again = confirm_login(&fx.conn, flow, ALICE, "octocat").await;
    refused(again, "flow");
}

#[tokio::test]
async fn a_confirmed_login_that_sees_several_orgs_then_asks_for_one() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    let orgs = vec![org("acme", 7), org("umbrella", 8)];
    on_user(&fx.conn, flow, tokens(), "octocat".into(), orgs).await;
    let next = confirm_login(&fx.conn, flow, ALICE, "octocat")
        .await
        .unwrap();
    let ConnectState::ChooseOrg { orgs } = next else {
        panic!("{next:?}")
    };
    assert_eq!(orgs.len(), 2);
    assert!(!stored(&fx, team));
    let done = choose_org(&fx.conn, flow, ALICE, "umbrella").await.unwrap();
    assert!(matches!(done, ConnectState::Connected { .. }), "{done:?}");
    assert!(stored(&fx, team));
}

#[tokio::test]
async fn the_device_flow_does_not_ask_for_the_login() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Device);
    on_user(
        &fx.conn,
        flow,
        tokens(),
        "octocat".into(),
        vec![org("acme", 7)],
    )
    .await;
    assert!(matches!(
        state(&fx, flow).await,
        ConnectState::Connected { .. }
    ));
    assert!(stored(&fx, team));
}

#[tokio::test]
async fn failures_need_no_confirmation() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    on_user(&fx.conn, flow, tokens(), "mallory".into(), vec![]).await;
    match state(&fx, flow).await {
        ConnectState::Failed { reason } => assert!(reason.contains("no organization"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(!holds_token(&fx, flow) && !stored(&fx, team));
}

#[tokio::test]
async fn a_login_not_confirmed_in_time_expires_and_stores_nothing() {
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    on_user(
        &fx.conn,
        flow,
        tokens(),
        "mallory".into(),
        vec![org("acme", 7)],
    )
    .await;
    // As if the deadline had passed: the next call finds the flow expired.
    fx.conn.flows().get_mut(&flow).unwrap().deadline = Instant::now();
    let late = confirm_login(&fx.conn, flow, ALICE, "mallory").await;
    assert!(refused(late, "flow").contains("expired"));
    match state(&fx, flow).await {
        ConnectState::Failed { reason } => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(!holds_token(&fx, flow) && !stored(&fx, team));

    // And without any call: the deadline alone drops the token.
    let fx = Fixture::new();
    let (team, flow) = new_flow(&fx, ConnectMethod::Web);
    let mut changes = fx.conn.flows()[&flow].state.subscribe();
    let approved = Approved {
        tokens: tokens(),
        login: "mallory".into(),
        orgs: vec![org("acme", 7)],
        chosen: Some(org("acme", 7)),
    };
    let asking = ConnectState::ConfirmLogin {
        github_login: "mallory".into(),
    };
    hold(&fx.conn, flow, approved, asking, Duration::from_millis(50));
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        changes.wait_for(tidemark_protocol::ConnectState::is_final),
    )
    .await
    .expect("the flow to expire by itself")
    .unwrap()
    .clone();
    assert!(matches!(ended, ConnectState::Failed { .. }), "{ended:?}");
    assert!(!holds_token(&fx, flow) && !stored(&fx, team));
}
