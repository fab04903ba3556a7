//! In-process authorization tests: the real service impl, driven through tarpc's generated
//! `Serve` with fabricated callers (our own `Caller`, any uid), over a store in a temp dir.
//! `matrix.rs`: every method as a user of team A against team B's ids and forged ids;
//! `roles.rs`: role × method in one team; `invitations.rs`: nobody joins without accepting;
//! `status.rs`: what the status and pull requests say.
//! The real-socket, real-uid test is
//! `tests/tests/e2e/other_users.rs`.

mod connections;
mod invitations;
mod matrix;
mod roles;
mod status;

use super::{Service, Shared};
use crate::auth::Caller;
use crate::store::{MemberInput, Role, TeamId};
use std::sync::Arc;
use tarpc::server::Serve;
use tidemark_protocol::{TidemarkRequest, TidemarkResponse};

pub use crate::context::testing::{ADMIN, ALICE, BOB, MEMBER, OPERATOR, OTHER, OUTSIDER};

pub struct Fixture {
    pub shared: Arc<Shared>,
    pub a: TeamId,
    pub b: TeamId,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// Team A (alice owner, an admin, two members) and team B (bob owner), both connected to
    /// GitHub with a repo, a member and a pull request.
    pub fn new() -> Fixture {
        let t = crate::context::testing::TwoTeams::new();
        Fixture {
            shared: Arc::new(Shared::new(t.ctx)),
            a: t.a,
            b: t.b,
            _dir: t.dir,
        }
    }

    pub fn service(&self, uid: u32) -> Service {
        Service {
            shared: self.shared.clone(),
            caller: Arc::new(Caller::new(uid, None)),
        }
    }

    /// One call, as `uid`, through the generated dispatcher (exactly what the socket does).
    pub async fn call(&self, uid: u32, req: TidemarkRequest) -> TidemarkResponse {
        use tidemark_protocol::Tidemark;
        let serve = self.service(uid).serve();
        let ctx = tarpc::context::current();
        tokio::time::timeout(std::time::Duration::from_secs(20), serve.serve(ctx, req))
            .await
            .expect("a call took more than 20 s")
            .expect("the dispatcher failed")
    }
}

impl Fixture {
    /// `uid` accepts their invitation to `team`; answers the team as they now see it.
    pub async fn accept(
        &self,
        uid: u32,
        team: tidemark_protocol::TeamRef,
    ) -> tidemark_protocol::TeamInfo {
        match self
            .call(uid, TidemarkRequest::InvitationAccept { team })
            .await
        {
            TidemarkResponse::InvitationAccept(Ok(team)) => team,
            other => panic!("uid {uid} could not accept: {other:?}"),
        }
    }
}

/// The error of a reply, if it is one.
pub fn error_of(resp: &TidemarkResponse) -> Option<&tidemark_protocol::RpcError> {
    use TidemarkResponse as R;
    match resp {
        R::Hello(r) => r.as_ref().err(),
        R::Whoami(r) => r.as_ref().err(),
        R::TeamCreate(r) => r.as_ref().err(),
        R::TeamList(r) => r.as_ref().err(),
        R::TeamRename(r) => r.as_ref().err(),
        R::TeamDelete(r) => r.as_ref().err(),
        R::TeamAddMember(r) => r.as_ref().err(),
        R::TeamRemoveMember(r) => r.as_ref().err(),
        R::TeamMembers(r) => r.as_ref().err(),
        R::TeamInvitations(r) => r.as_ref().err(),
        R::Invitations(r) => r.as_ref().err(),
        R::InvitationAccept(r) => r.as_ref().err(),
        R::InvitationDecline(r) => r.as_ref().err(),
        R::Integrations(r) => r.as_ref().err(),
        R::TrackedRepos(r) => r.as_ref().err(),
        R::Status(r) => r.as_ref().err(),
        R::GithubConnect(r) => r.as_ref().err(),
        R::GithubConnectStatus(r) => r.as_ref().err(),
        R::GithubConnectChooseOrg(r) => r.as_ref().err(),
        R::GithubConnectConfirmLogin(r) => r.as_ref().err(),
        R::GithubConnectCancel(r) => r.as_ref().err(),
        R::GithubDisconnect(r) => r.as_ref().err(),
        R::ReposAvailable(r) => r.as_ref().err(),
        R::ReposTrack(r) => r.as_ref().err(),
        R::ReposUntrack(r) => r.as_ref().err(),
        R::SyncStart(r) => r.as_ref().err(),
        R::SyncStatus(r) => r.as_ref().err(),
        R::Members(r) => r.as_ref().err(),
        R::PullRequests(r) => r.as_ref().err(),
        R::Metrics(r) => r.as_ref().err(),
        R::Dora(r) => r.as_ref().err(),
        R::DeliveryConfig(r) => r.as_ref().err(),
        R::DeliveryConfigSet(r) => r.as_ref().err(),
        R::Agreements(r) => r.as_ref().err(),
        R::AgreementsSet(r) => r.as_ref().err(),
        R::Alerts(r) => r.as_ref().err(),
        R::Adherence(r) => r.as_ref().err(),
        R::SlackConnect(r) => r.as_ref().err(),
        R::SlackConnectStatus(r) => r.as_ref().err(),
        R::SlackChannels(r) => r.as_ref().err(),
        R::SlackChannelSet(r) => r.as_ref().err(),
        R::SlackDisconnect(r) => r.as_ref().err(),
        R::Reviewers(r) => r.as_ref().err(),
        R::PullRequestTimeline(r) => r.as_ref().err(),
        R::WebhookRotateSecret(r) => r.as_ref().err(),
        R::DaemonInfo(r) => r.as_ref().err(),
        R::DaemonReload(r) => r.as_ref().err(),
        R::DaemonStop(r) => r.as_ref().err(),
        R::GithubAppSet(r) => r.as_ref().err(),
    }
}
