//! `store-churn DIR`: open the tidemark store in DIR and change it forever with multi-record
//! steps (teams with everything under them, cascading deletes, renames), printing one line per
//! completed step. A second thread flushes continuously, so the on-disk state is close to the
//! in-memory one at any instant: a SIGKILL can land between any two commits. Used by
//! `tests/e2e/store_crash.rs`, which kills it and checks the store's invariants.

use std::path::PathBuf;
use std::sync::Arc;
use tidemark_daemon::crypto::{Keyring, Secret};
use tidemark_daemon::store::{
    Commit, MemberInput, NewCredential, NewGitHubIntegration, PrReview, PrState, Provider,
    PullRequest, ReviewState, Role, Store, TeamId,
};

/// At most this many teams are kept; older ones are deleted first.
const MAX_TEAMS: usize = 4;
const REPOS: u64 = 20;

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: store-churn DIR"))?
        .into();
    let store = Arc::new(Store::open(&dir)?);
    let keys = Keyring::from_secrets(&[Keyring::generate_key()], "churn")?;
    {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            loop {
                if store.flush().is_err() {
                    return;
                }
            }
        });
    }
    store.upsert_user(1000, "owner")?;
    store.upsert_user(1001, "dev")?;
    let run = std::process::id();
    let mut step = 0u64;
    let mut done = |what: String| {
        step += 1;
        println!("{step} {what}");
    };
    for i in 0u64.. {
        while store.teams()?.len() >= MAX_TEAMS {
            let oldest = store
                .teams()?
                .into_iter()
                .min_by_key(|t| t.id)
                .expect("teams");
            let removed = store.delete_team(oldest.id)?;
            done(format!("delete_team {} ({removed} records)", oldest.id));
        }
        let team = store
            .create_team(&format!("churn {run}-{i}"), Some(1000))?
            .id;
        store.set_membership(team, 1001, Role::Member)?;
        done(format!("create_team {team}"));
        populate(&store, &keys, team, &mut done)?;
        match i % 4 {
            0 => {
                store.delete_credential(team, Provider::Github)?;
                done(format!("delete_credential {team}"));
            }
            1 => {
                store.rename_team(team, &format!("Renamed {run}-{i}"), None)?;
                done(format!("rename_team {team}"));
            }
            2 => {
                store.delete_team(team)?;
                done(format!("delete_team {team}"));
            }
            _ => {
                // Rewrite a PR: reviews and commits replaced in one step.
                put_pr(&store, team, 1, 1, 100)?;
                done(format!("rewrite_pr {team}"));
            }
        }
    }
    Ok(())
}

/// Credential, integration, tracked repos, members, pull requests with reviews and commits.
fn populate(
    store: &Store,
    keys: &Keyring,
    team: TeamId,
    done: &mut dyn FnMut(String),
) -> anyhow::Result<()> {
    store.create_credential(
        keys,
        team,
        NewCredential {
            provider: Provider::Github,
            access_token: Secret::new(format!("gho_churn_{team}")),
            refresh_token: Some(Secret::new("ghr_churn")),
            token_expires_at: None,
            scopes: vec!["repo".into(), "read:org".into()],
            connected_by: Some(1000),
        },
    )?;
    done(format!("create_credential {team}"));
    store.create_github_integration(
        keys,
        team,
        NewGitHubIntegration {
            organization_slug: "acme".into(),
            organization_id: 1,
            webhook_secret: Secret::new("whsec_churn"),
        },
    )?;
    done(format!("create_github_integration {team}"));
    for repo in 1..=REPOS {
        store.track_repo(team, repo, &format!("acme/repo-{repo}"))?;
    }
    done(format!("track_repos {team}"));
    for person in 1..=5u64 {
        store.upsert_member(
            team,
            MemberInput {
                github_id: Some(person),
                github_username: Some(format!("dev{person}")),
                email: Some(format!("dev{person}@acme.test")),
                display_name: None,
                is_bot: false,
            },
        )?;
    }
    done(format!("upsert_members {team}"));
    for repo in 1..=3 {
        for number in 1..=3 {
            put_pr(store, team, repo, number, 3)?;
        }
        done(format!("put_pull_requests {team} repo {repo}"));
    }
    store.put_review(review(team, 1, 1, 99, 5_000))?;
    done(format!("put_review {team}"));
    Ok(())
}

fn put_pr(store: &Store, team: TeamId, repo: u64, number: u64, n: u64) -> anyhow::Result<()> {
    let pr = PullRequest {
        team_id: team,
        repo_id: repo,
        number,
        github_id: repo * 1_000 + number,
        title: format!("change {number}"),
        state: PrState::Merged,
        is_draft: false,
        author_github_id: Some(1),
        author_login: Some("dev1".into()),
        author_member_id: None,
        created_at: 1_000,
        ready_at: None,
        updated_at: 2_000,
        merged_at: Some(9_000),
        closed_at: Some(9_000),
        additions: 10,
        deletions: 1,
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
    };
    let reviews = (0..n)
        .map(|k| review(team, repo, number, n * 10 + k, 2_000 + k as i64))
        .collect();
    let commits = (0..n)
        .map(|k| Commit {
            team_id: team,
            repo_id: repo,
            pr_number: number,
            sha: format!("{n:04x}{k:036x}"),
            author_github_id: Some(1),
            author_email: Some("dev1@acme.test".into()),
            author_member_id: None,
            authored_at: Some(500 + k as i64),
            committed_at: None,
        })
        .collect();
    store.put_pull_request(pr, reviews, commits)?;
    Ok(())
}

fn review(team: TeamId, repo: u64, number: u64, id: u64, at: i64) -> PrReview {
    PrReview {
        team_id: team,
        repo_id: repo,
        pr_number: number,
        review_id: id,
        reviewer_github_id: Some(2),
        reviewer_login: Some("dev2".into()),
        reviewer_member_id: None,
        reviewer_is_bot: false,
        state: ReviewState::Approved,
        submitted_at: Some(at),
    }
}
