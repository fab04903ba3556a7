//! Pull requests with their reviews and commits. Derived metrics are recomputed on every write.

use super::keys::{Key, Kind, TeamId};
use super::pr_metrics as metrics;
use super::records::{Commit, PrReview, PullRequest};
use super::{Result, Store, StoreError};

use super::sync_pages::{commit_prefix, pr_key, review_prefix};

impl Store {
    /// Write a pull request together with its reviews and commits (all of them: what is not in
    /// the lists is removed), recomputing its metrics, in one atomic step.
    pub fn put_pull_request(
        &self,
        mut pr: PullRequest,
        reviews: Vec<PrReview>,
        commits: Vec<Commit>,
    ) -> Result<PullRequest> {
        let (team, repo, number) = (pr.team_id, pr.repo_id, pr.number);
        let belongs = reviews
            .iter()
            .all(|r| (r.team_id, r.repo_id, r.pr_number) == (team, repo, number))
            && commits
                .iter()
                .all(|c| (c.team_id, c.repo_id, c.pr_number) == (team, repo, number));
        if !belongs {
            return Err(StoreError::Rejected {
                field: "pull request",
                reason: "reviews and commits must belong to the pull request they are stored with"
                    .into(),
            });
        }
        let mut w = self.writer();
        if self.tracked_repo(team, repo)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "tracked repository {repo} of team #{team}"
            )));
        }
        for key in self.scan_keys(review_prefix(team, repo, number))? {
            w.remove(key);
        }
        for key in self.scan_keys(commit_prefix(team, repo, number))? {
            w.remove(key);
        }
        metrics::compute(&mut pr, &reviews, &commits);
        for r in &reviews {
            w.put(review_prefix(team, repo, number).u64(r.review_id), r);
        }
        for c in &commits {
            w.put(commit_prefix(team, repo, number).bytes(c.sha.as_bytes()), c);
        }
        w.put(pr_key(team, repo, number), &pr);
        w.commit()?;
        Ok(pr)
    }

    /// Add or update one review (a webhook's view), recomputing the PR's metrics.
    pub fn put_review(&self, review: PrReview) -> Result<PullRequest> {
        let (team, repo, number) = (review.team_id, review.repo_id, review.pr_number);
        let mut w = self.writer();
        let mut pr = self.pull_request(team, repo, number)?.ok_or_else(|| {
            StoreError::NotFound(format!("pull request #{number} of repository {repo}"))
        })?;
        let mut reviews = self.reviews(team, repo, number)?;
        reviews.retain(|r| r.review_id != review.review_id);
        reviews.push(review.clone());
        let commits = self.commits(team, repo, number)?;
        metrics::compute(&mut pr, &reviews, &commits);
        w.put(
            review_prefix(team, repo, number).u64(review.review_id),
            &review,
        );
        w.put(pr_key(team, repo, number), &pr);
        w.commit()?;
        Ok(pr)
    }

    pub fn pull_request(
        &self,
        team: TeamId,
        repo: u64,
        number: u64,
    ) -> Result<Option<PullRequest>> {
        self.get(Kind::PullRequest, pr_key(team, repo, number))
    }

    /// All of a team's pull requests, or one repository's.
    pub fn pull_requests(&self, team: TeamId, repo: Option<u64>) -> Result<Vec<PullRequest>> {
        let prefix = match repo {
            Some(repo) => Key::new(team, Kind::PullRequest).u64(repo),
            None => Key::new(team, Kind::PullRequest),
        };
        self.scan(Kind::PullRequest, prefix)
    }

    pub fn count_pull_requests(&self, team: TeamId) -> Result<u64> {
        self.count(Key::new(team, Kind::PullRequest))
    }

    pub fn count_repo_pull_requests(&self, team: TeamId, repo: u64) -> Result<u64> {
        self.count(Key::new(team, Kind::PullRequest).u64(repo))
    }

    pub fn reviews(&self, team: TeamId, repo: u64, number: u64) -> Result<Vec<PrReview>> {
        self.scan(Kind::Review, review_prefix(team, repo, number))
    }

    pub fn commits(&self, team: TeamId, repo: u64, number: u64) -> Result<Vec<Commit>> {
        self.scan(Kind::Commit, commit_prefix(team, repo, number))
    }
}
