//! Stored data for the benchmarks: many pull requests written straight into a store (the
//! daemon stopped), each with two reviews and three commits.

use anyhow::Result;
use tidemark_daemon::store::{Commit, PrReview, PrState, PullRequest, ReviewState, Store};

use crate::harness::Sandbox;

/// Write `prs` pull requests of one repository (id 1296269) into the sandbox's store.
pub fn seed_pull_requests(sandbox: &Sandbox, team: u64, prs: u64) -> Result<()> {
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir()))?;
    let repo = 1_296_269;
    let base = 1_700_000_000;
    for n in 1..=prs {
        let created = base + n as i64 * 600;
        let pr = PullRequest {
            team_id: team,
            repo_id: repo,
            number: n,
            github_id: 10_000_000 + n,
            title: format!("Improve the widget pipeline, part {n}"),
            state: if n % 5 == 0 {
                PrState::Open
            } else {
                PrState::Merged
            },
            is_draft: false,
            author_github_id: Some(n % 40),
            author_login: Some(format!("dev{}", n % 40)),
            author_member_id: None,
            created_at: created,
            ready_at: None,
            updated_at: created + 7_200,
            merged_at: (n % 5 != 0).then_some(created + 86_400),
            closed_at: (n % 5 != 0).then_some(created + 86_400),
            additions: n % 700,
            deletions: n % 300,
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
        let reviews = (0..2)
            .map(|i| PrReview {
                team_id: team,
                repo_id: repo,
                pr_number: n,
                review_id: n * 10 + i,
                reviewer_github_id: Some((n + i + 1) % 40 + 100),
                reviewer_login: Some(format!("rev{i}")),
                reviewer_member_id: None,
                reviewer_is_bot: false,
                state: ReviewState::Approved,
                submitted_at: Some(created + 3_600 * (i as i64 + 1)),
            })
            .collect();
        let commits = (0..3)
            .map(|i| Commit {
                team_id: team,
                repo_id: repo,
                pr_number: n,
                sha: format!("{:040x}", n * 10 + i),
                author_github_id: Some(n % 40),
                author_email: Some(format!("dev{}@example.com", n % 40)),
                author_member_id: None,
                authored_at: Some(created - 3_600),
                committed_at: Some(created - 3_600),
            })
            .collect();
        store.put_pull_request(pr, reviews, commits)?;
    }
    store.flush()?;
    Ok(())
}
