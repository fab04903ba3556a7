//! Commits: `PullRequestCommit` (a commit in a pull request), `Commit` and `GitActor`.

use super::Env;
use super::accounts::User;
use super::pulls::PullRequest;
use super::repository::Repository;
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

/// A Git commit: one of the pull request's (`Some(i)`), its merge commit (`None`), or one of
/// the repository's history (`git.rs`: merge and squash commits, first commits).
#[derive(Clone)]
pub struct Commit {
    env: Arc<Env>,
    src: Src,
}

#[derive(Clone)]
enum Src {
    Pull(Arc<Pull>, Option<usize>),
    Git(u64, Arc<WorldCommit>),
}

impl Commit {
    pub(super) fn of(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> Commit {
        Commit {
            env: env.clone(),
            src: Src::Pull(p.clone(), Some(i)),
        }
    }

    /// A pull request's merge commit: the one on the default branch (a squash is its own
    /// commit), else made up from the merge.
    pub(super) fn merge(env: &Arc<Env>, p: &Arc<Pull>) -> Commit {
        let sha = p.merge_commit_sha.as_deref().unwrap_or("");
        Commit::in_repo(env, p.repo_id, sha).unwrap_or_else(|| Commit {
            env: env.clone(),
            src: Src::Pull(p.clone(), None),
        })
    }

    /// A commit of a repository by sha: its history's, else one of its pull requests'.
    pub(super) fn in_repo(env: &Arc<Env>, repo_id: u64, sha: &str) -> Option<Commit> {
        let found = env.with_world(|w| {
            if let Some(c) = w.history(repo_id).and_then(|h| h.get(sha)) {
                return Some(Src::Git(repo_id, Arc::new(c.commit.clone())));
            }
            w.repo_pulls(repo_id).find_map(|p| {
                let i = p.commits.iter().position(|c| c.sha == sha)?;
                Some(Src::Pull(Arc::new(p.clone()), Some(i)))
            })
        })?;
        Some(Commit {
            env: env.clone(),
            src: found,
        })
    }

    /// The commit's data (a merge commit is made up from the merge).
    fn c(&self) -> Cow<'_, WorldCommit> {
        match &self.src {
            Src::Pull(p, Some(i)) => Cow::Borrowed(&p.commits[*i]),
            Src::Git(_, c) => Cow::Borrowed(c),
            Src::Pull(p, None) => {
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
        match &self.src {
            Src::Pull(p, Some(i)) => &p.commits[*i].sha,
            Src::Pull(p, None) => p.merge_commit_sha.as_deref().unwrap_or(""),
            Src::Git(_, c) => &c.sha,
        }
    }

    fn repo_id(&self) -> u64 {
        match &self.src {
            Src::Pull(p, _) => p.repo_id,
            Src::Git(r, _) => *r,
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

    pub async fn oid(&self) -> GitObjectId {
        GitObjectId(self.sha().to_string())
    }

    pub async fn abbreviated_oid(&self) -> String {
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
        Uri(format!("{}{}", self.env.web(), self.resource_path()))
    }

    async fn commit_url(&self) -> Uri {
        Uri(format!("{}{}", self.env.web(), self.resource_path()))
    }

    async fn commit_resource_path(&self) -> Uri {
        Uri(self.resource_path())
    }

    async fn repository(&self) -> async_graphql::Result<Repository> {
        self.env
            .repo(self.repo_id())
            .map(|_| Repository::new(&self.env, self.repo_id()))
            .ok_or_else(|| super::schema::not_found("The repository is gone.".into()))
    }
}

impl Commit {
    fn resource_path(&self) -> String {
        let nwo = self
            .env
            .repo(self.repo_id())
            .map(|r| format!("{}/{}", self.env.org.login, r.name))
            .unwrap_or_default();
        format!("/{nwo}/commit/{}", self.sha())
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
    /// A GitHub account in Git (a tagger): its name, public email and the date.
    pub(super) fn account(env: &Arc<Env>, account_id: u64, date: i64) -> Option<GitActor> {
        let a = env.accounts.get(&account_id)?;
        Some(GitActor {
            env: env.clone(),
            name: a.name.clone(),
            email: a
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@users.noreply.github.com", a.id)),
            date,
            user_id: Some(a.id),
        })
    }

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
