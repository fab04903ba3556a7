//! Commits: `PullRequestCommit` (a commit in a pull request), `Commit` and `GitActor`.

use super::Env;
use super::accounts::User;
use super::pulls::PullRequest;
use super::schema::{DateTime, GitObjectId, GitTimestamp, Uri};
use crate::sim::json::node_id;
use crate::sim::world::{Commit as WorldCommit, Pull};
use async_graphql::{ID, Object};
use std::borrow::Cow;
use std::sync::Arc;

/// A commit as part of a pull request; `i` indexes the pull request's commits.
#[derive(Clone)]
pub struct PullRequestCommit {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: usize,
}

impl PullRequestCommit {
    pub(super) fn new(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> PullRequestCommit {
        PullRequestCommit {
            env: env.clone(),
            p: p.clone(),
            i,
        }
    }
}

#[Object]
impl PullRequestCommit {
    pub async fn id(&self) -> ID {
        // GitHub's legacy form: "0NN:PullRequestCommit{pr id}:{sha}".
        use base64::Engine;
        let raw = format!(
            "017:PullRequestCommit{}:{}",
            self.p.id, self.p.commits[self.i].sha
        );
        ID(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    async fn commit(&self) -> Commit {
        Commit::of(&self.env, &self.p, self.i)
    }

    async fn url(&self) -> Uri {
        let pr = PullRequest::new(&self.env, self.p.clone());
        Uri(format!(
            "{}/commits/{}",
            pr.html_url(),
            self.p.commits[self.i].sha
        ))
    }

    async fn pull_request(&self) -> PullRequest {
        PullRequest::new(&self.env, self.p.clone())
    }
}

/// A Git commit: one of the pull request's (`Some(i)`) or its merge commit (`None`).
#[derive(Clone)]
pub struct Commit {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: Option<usize>,
}

impl Commit {
    pub(super) fn of(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> Commit {
        Commit {
            env: env.clone(),
            p: p.clone(),
            i: Some(i),
        }
    }

    pub(super) fn merge(env: &Arc<Env>, p: &Arc<Pull>) -> Commit {
        Commit {
            env: env.clone(),
            p: p.clone(),
            i: None,
        }
    }

    /// The commit's data (a merge commit is made up from the merge).
    fn c(&self) -> Cow<'_, WorldCommit> {
        match self.i {
            Some(i) => Cow::Borrowed(&self.p.commits[i]),
            None => {
                let p = &self.p;
                let by = p.merged_by.and_then(|id| self.env.accounts.get(&id));
                let at = p.merged_at.unwrap_or(p.updated_at);
                Cow::Owned(WorldCommit {
                    sha: p.merge_commit_sha.clone().unwrap_or_default(),
                    message: format!(
                        "Merge pull request #{} from {}\n\n{}",
                        p.number, p.head_ref, p.title
                    ),
                    author_name: by.map(|a| a.name.clone()).unwrap_or_default(),
                    author_email: by
                        .and_then(|a| a.email.clone())
                        .unwrap_or_else(|| "noreply@github.com".into()),
                    author_user_id: by.map(|a| a.id),
                    authored_at: at,
                    committed_at: at,
                    additions: p.additions(),
                    deletions: p.deletions(),
                })
            }
        }
    }

    fn sha(&self) -> &str {
        match self.i {
            Some(i) => &self.p.commits[i].sha,
            None => self.p.merge_commit_sha.as_deref().unwrap_or(""),
        }
    }
}

#[Object]
impl Commit {
    pub async fn id(&self) -> ID {
        let sha = self.sha();
        ID(node_id(
            "Commit",
            u64::from_str_radix(sha.get(..12).unwrap_or("0"), 16).unwrap_or(0),
        ))
    }

    async fn oid(&self) -> GitObjectId {
        GitObjectId(self.sha().to_string())
    }

    async fn abbreviated_oid(&self) -> String {
        self.sha().chars().take(7).collect()
    }

    async fn message(&self) -> String {
        self.c().message.clone()
    }

    async fn message_headline(&self) -> String {
        self.c().message.lines().next().unwrap_or("").to_string()
    }

    async fn authored_date(&self) -> DateTime {
        DateTime(self.c().authored_at)
    }

    async fn committed_date(&self) -> DateTime {
        DateTime(self.c().committed_at)
    }

    async fn additions(&self) -> u64 {
        self.c().additions
    }

    async fn deletions(&self) -> u64 {
        self.c().deletions
    }

    /// Authorship details of the commit.
    async fn author(&self) -> Option<GitActor> {
        let c = self.c();
        Some(GitActor::new(&self.env, &c, c.authored_at))
    }

    async fn committer(&self) -> Option<GitActor> {
        let c = self.c();
        Some(GitActor::new(&self.env, &c, c.committed_at))
    }

    async fn url(&self) -> Uri {
        let nwo = PullRequest::new(&self.env, self.p.clone())
            .repo()
            .map(|r| r.nwo())
            .unwrap_or_default();
        Uri(format!("{}/{nwo}/commit/{}", self.env.web(), self.sha()))
    }
}

/// A person in Git (name and email), and the GitHub user GitHub linked to the email, if any.
pub struct GitActor {
    env: Arc<Env>,
    name: String,
    email: String,
    date: i64,
    user_id: Option<u64>,
}

impl GitActor {
    fn new(env: &Arc<Env>, c: &WorldCommit, date: i64) -> GitActor {
        GitActor {
            env: env.clone(),
            name: c.author_name.clone(),
            email: c.author_email.clone(),
            date,
            user_id: c.author_user_id,
        }
    }
}

#[Object]
impl GitActor {
    async fn name(&self) -> &str {
        &self.name
    }

    async fn email(&self) -> &str {
        &self.email
    }

    async fn date(&self) -> GitTimestamp {
        GitTimestamp(crate::sim::clock::iso(self.date))
    }

    /// The GitHub user corresponding to the email field (null when GitHub could not link it).
    async fn user(&self) -> Option<User> {
        let id = self.user_id?;
        let a = self.env.accounts.get(&id)?;
        (!a.is_bot).then(|| User::new(&self.env, id))
    }
}
