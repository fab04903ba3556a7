//! A context over a store in a temp dir, seeded with two teams, for the services' unit tests
//! (the RPC layer's fixture builds on it).

use super::{ConfigState, Context, Ctx, Runtime};
use crate::auth::Policy;
use crate::crypto::{Keyring, Secret};
use crate::settings::{Key, Origin, Raw};
use crate::store::{
    self, MemberInput, NewCredential, NewGitHubIntegration, PrState, Provider, Role, Store, TeamId,
};

/// Owner of team A ("alpha").
pub const ALICE: u32 = 60_001;
/// Owner of team B ("bravo").
pub const BOB: u32 = 60_002;
/// Admin of team A.
pub const ADMIN: u32 = 60_003;
/// Member of team A.
pub const MEMBER: u32 = 60_004;
/// In no team.
pub const OUTSIDER: u32 = 60_005;
/// Another member of team A: the one the role matrix tries to remove.
pub const OTHER: u32 = 60_006;
/// The daemon's own user in these tests (an operator, in no team).
pub const OPERATOR: u32 = 59_999;

/// Where GitHub calls go: a closed loopback port, so allowed calls fail fast and nothing leaves.
const NOWHERE: &str = "http://127.0.0.1:9";

pub struct TwoTeams {
    pub ctx: Ctx,
    pub a: TeamId,
    pub b: TeamId,
    pub dir: tempfile::TempDir,
}

/// What a team is seeded with; every string carries the team's marker, so a reply that shows
/// another team's data is easy to spot.
fn seed_team(store: &Store, keys: &Keyring, marker: &str, owner: u32, repo_id: u64) -> TeamId {
    store
        .upsert_user(owner, &format!("{marker}-owner"))
        .unwrap();
    let team = store.create_team(marker, Some(owner)).unwrap().id;
    let org = format!("{marker}-org");
    store
        .create_credential(
            keys,
            team,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new(format!("gho_{marker}TOKEN0000000000000000000000000")),
                refresh_token: Some(Secret::new(format!("ghr_{marker}REFRESH00000000000000"))),
                token_expires_at: Some(4_102_444_800),
                scopes: vec!["read:org".into(), "repo".into()],
                connected_by: Some(owner),
            },
        )
        .unwrap();
    store
        .create_github_integration(
            keys,
            team,
            NewGitHubIntegration {
                organization_slug: org.clone(),
                organization_id: repo_id + 1,
                webhook_secret: Secret::new(format!("{marker}-webhook-secret")),
            },
        )
        .unwrap();
    store
        .track_repo(team, repo_id, &format!("{org}/{marker}-repo"))
        .unwrap();
    let dev = store
        .upsert_member(
            team,
            MemberInput {
                github_id: Some(repo_id + 2),
                github_username: Some(format!("{marker}-dev")),
                email: Some(format!("dev@{marker}.example")),
                display_name: Some(format!("{marker} developer")),
                is_bot: false,
            },
        )
        .unwrap();
    store
        .put_pull_request(
            store::PullRequest {
                team_id: team,
                repo_id,
                number: 1,
                github_id: repo_id + 3,
                title: format!("{marker} pull request"),
                state: PrState::Merged,
                is_draft: false,
                author_github_id: Some(repo_id + 2),
                author_login: Some(format!("{marker}-dev")),
                author_member_id: Some(dev.id),
                created_at: 1_700_000_000,
                ready_at: Some(1_700_000_000),
                updated_at: 1_700_090_000,
                merged_at: Some(1_700_090_000),
                closed_at: Some(1_700_090_000),
                additions: 10,
                deletions: 2,
                first_commit_at: Some(1_699_990_000),
                first_review_at: None,
                cycle_time: None,
                review_time: None,
                // Not the author: the details name who merged it.
                merged_by_login: Some(format!("{marker}-merger")),
                merged_by_github_id: Some(repo_id + 4),
                merge_commit_sha: None,
                base_ref: None,
                head_ref: None,
                labels: Vec::new(),
            },
            vec![],
            vec![],
        )
        .unwrap();
    team
}

impl TwoTeams {
    /// Team A (alice owner, an admin, two members) and team B (bob owner), both connected to
    /// GitHub with a repo, a member and a pull request.
    pub fn new() -> TwoTeams {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let keyring = Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap();
        let a = seed_team(&store, &keyring, "alpha", ALICE, 1_000);
        let b = seed_team(&store, &keyring, "bravo", BOB, 2_000);
        for (uid, role) in [
            (ADMIN, Role::Admin),
            (MEMBER, Role::Member),
            (OTHER, Role::Member),
        ] {
            store.upsert_user(uid, &format!("user{uid}")).unwrap();
            store.set_membership(a, uid, role).unwrap();
        }
        // As if given in the environment; the config file (none yet) is in the temp dir.
        let mut given = crate::settings::Layer::default();
        for (key, value) in [
            (Key::GithubUrl, NOWHERE),
            (Key::GithubApiUrl, NOWHERE),
            (Key::GithubClientId, "Iv1.test"),
            (Key::GithubClientSecret, "test-client-secret"),
        ] {
            given.set(key, Raw::Text(value.into()), Origin::Env);
        }
        let settings =
            crate::settings::Settings::resolve(&given, &crate::settings::Layer::default()).unwrap();
        let runtime = Runtime::new(
            dir.path().to_path_buf(),
            dir.path().join("tidemark.sock"),
            ConfigState {
                given,
                file: Some(crate::settings::ConfigFile {
                    path: dir.path().join("daemon.toml"),
                    explicit: false,
                }),
                current: settings,
            },
        );
        let ctx = Context::new(
            store,
            keyring,
            Policy {
                daemon_uid: OPERATOR,
            },
            runtime,
        );
        TwoTeams { ctx, a, b, dir }
    }
}
