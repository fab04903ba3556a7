//! Store tests: one file per repository, plus key layout and schema. Every test opens its own
//! store in a temp dir; shared fixtures live here.

mod delivery;
mod inbox;
mod intake;
mod integrations;
mod invitations;
mod layout;
mod people;
mod pulls;
mod repos;
mod schema;
mod teams;
mod users;

use super::keys::TeamId;
use super::*;
use crate::crypto::{Keyring, Secret};
use std::path::Path;

/// A store in a temp dir with a fresh one-key keyring. Fields drop in order: the store closes
/// before its directory goes.
pub(super) struct Env {
    pub store: Store,
    pub keys: Keyring,
    /// The one key in `keys`, for building rotated keyrings.
    pub key: Secret,
    pub dir: tempfile::TempDir,
}

pub(super) fn keyring() -> Keyring {
    Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap()
}

pub(super) fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let key = Keyring::generate_key();
    Env {
        store,
        keys: Keyring::from_secrets(std::slice::from_ref(&key), "test").unwrap(),
        key,
        dir,
    }
}

/// Open a store, waiting (up to 10 s) for a store just dropped there to let go of its lock:
/// sled's flusher thread holds it a moment after the drop.
pub(super) fn try_open(path: &Path) -> Result<Store> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(path) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

pub(super) fn open(path: &Path) -> Store {
    try_open(path).unwrap()
}

/// A user and a team they own.
pub(super) fn team_owned_by(store: &Store, name: &str, uid: u32) -> TeamId {
    store.upsert_user(uid, &format!("user{uid}")).unwrap();
    store.create_team(name, Some(uid)).unwrap().id
}

pub(super) fn github_credential(env: &Env, team: TeamId, token: &str) -> IntegrationCredential {
    env.store
        .create_credential(
            &env.keys,
            team,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new(token),
                refresh_token: Some(Secret::new(format!("{token}-refresh"))),
                token_expires_at: Some(2_000_000_000),
                scopes: vec!["repo".into(), "read:org".into()],
                connected_by: None,
            },
        )
        .unwrap()
}

pub(super) fn github_integration(env: &Env, team: TeamId, webhook_secret: &str) {
    env.store
        .create_github_integration(
            &env.keys,
            team,
            NewGitHubIntegration {
                organization_slug: format!("org-of-{team}"),
                organization_id: 4242,
                webhook_secret: Secret::new(webhook_secret),
            },
        )
        .unwrap();
}

pub(super) const REPO: u64 = 501;

/// A team with one of everything: owner, github credential + integration, two tracked repos,
/// two members, a PR with a review and a commit.
pub(super) fn full_team(env: &Env, name: &str, uid: u32) -> TeamId {
    let team = team_owned_by(&env.store, name, uid);
    github_credential(env, team, &format!("gho_{name}_token"));
    github_integration(env, team, &format!("whsec_{name}"));
    env.store.track_repo(team, REPO, "acme/widgets").unwrap();
    env.store
        .track_repo(team, REPO + 1, "acme/gadgets")
        .unwrap();
    env.store
        .upsert_member(
            team,
            member_input(Some(1), "alice", Some("alice@acme.test")),
        )
        .unwrap();
    env.store
        .upsert_member(team, member_input(Some(2), "bob", Some("bob@acme.test")))
        .unwrap();
    env.store
        .put_pull_request(
            pr(team, REPO, 1),
            vec![review(team, REPO, 1, 11, 2, 2_000)],
            vec![commit(team, REPO, 1, "abc123", 500)],
        )
        .unwrap();
    team
}

pub(super) fn member_input(
    github_id: Option<u64>,
    login: &str,
    email: Option<&str>,
) -> MemberInput {
    MemberInput {
        github_id,
        github_username: Some(login.to_string()),
        email: email.map(str::to_string),
        display_name: None,
        is_bot: false,
    }
}

/// An open, non-draft PR by github user 1 created at t=1000.
pub(crate) fn pr(team: TeamId, repo: u64, number: u64) -> PullRequest {
    PullRequest {
        team_id: team,
        repo_id: repo,
        number,
        github_id: 90_000 + number,
        title: format!("PR {number}"),
        state: PrState::Open,
        is_draft: false,
        author_github_id: Some(1),
        author_login: Some("alice".into()),
        author_member_id: None,
        created_at: 1_000,
        ready_at: None,
        updated_at: 1_000,
        merged_at: None,
        closed_at: None,
        additions: 10,
        deletions: 2,
        first_commit_at: None,
        first_review_at: None,
        cycle_time: None,
        review_time: None,
        merged_by_login: None,
        merged_by_github_id: None,
        merge_commit_sha: None,
        base_ref: None,
        head_ref: None,
        labels: Vec::new(),
    }
}

pub(super) fn review(
    team: TeamId,
    repo: u64,
    number: u64,
    review_id: u64,
    reviewer: u64,
    at: i64,
) -> PrReview {
    PrReview {
        team_id: team,
        repo_id: repo,
        pr_number: number,
        review_id,
        reviewer_github_id: Some(reviewer),
        reviewer_login: Some(format!("user{reviewer}")),
        reviewer_member_id: None,
        reviewer_is_bot: false,
        state: ReviewState::Approved,
        submitted_at: Some(at),
    }
}

pub(super) fn commit(team: TeamId, repo: u64, number: u64, sha: &str, at: i64) -> Commit {
    Commit {
        team_id: team,
        repo_id: repo,
        pr_number: number,
        sha: sha.to_string(),
        author_github_id: Some(1),
        author_email: Some("alice@acme.test".into()),
        author_member_id: None,
        authored_at: Some(at),
        committed_at: Some(at + 1),
    }
}

/// Every key in the store, raw.
pub(super) fn all_keys(store: &Store) -> Vec<Vec<u8>> {
    store
        .raw()
        .iter()
        .keys()
        .map(|k| k.unwrap().to_vec())
        .collect()
}

/// Keys of one team's space.
pub(super) fn team_keys(store: &Store, team: TeamId) -> Vec<Vec<u8>> {
    all_keys(store)
        .into_iter()
        .filter(|k| k.starts_with(&keys::team_prefix(team)))
        .collect()
}

/// Global keys of one kind.
pub(super) fn global_keys(store: &Store, kind: Kind) -> Vec<Vec<u8>> {
    store
        .scan_keys(keys::Key::global(kind))
        .unwrap()
        .into_iter()
        .map(|k| k.to_vec())
        .collect()
}
