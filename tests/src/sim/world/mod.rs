//! The simulated GitHub's state: one organization with its people, repositories, pull requests,
//! reviews, commits and webhooks. Every mutation returns the webhook events GitHub would send for
//! it (see `webhooks.rs`).
//!
//! Times are Unix seconds (UTC). Ids come from one counter per kind, like GitHub's.
//!
//! Here: the [`World`] and its lookups. The data it holds is in `model.rs`, the mutations the
//! control API offers in `mutations.rs`; both are re-exported, so every type stays
//! `sim::world::X`.

mod delivery;
mod delivery_mutations;
pub mod git;
mod issue_mutations;
mod model;
mod mutations;

pub use delivery::{
    DeployState, Deployment, DeploymentStatus, Issue, Label, MergeMethod, Release, Tag, TagObject,
    WorkflowRun,
};
pub use delivery_mutations::{NewDeployment, NewRelease, NewRun};
pub use issue_mutations::NewIssue;

pub use model::{
    Account, Commit, Delivery, Event, Hook, ORG_LEVEL, Org, OrgRole, Pull, Repo, Review,
    ReviewState, TimelineEvent, TimelineKind, Token, new_commit, sha_for,
};
pub use mutations::NewPull;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorldError {
    NotFound(String),
    Invalid(String),
}

impl std::fmt::Display for WorldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorldError::NotFound(what) => write!(f, "not found: {what}"),
            WorldError::Invalid(why) => write!(f, "invalid: {why}"),
        }
    }
}

impl std::error::Error for WorldError {}

pub type WorldResult<T> = Result<T, WorldError>;

#[derive(Debug, Clone, Default)]
pub struct World {
    pub org: Option<Org>,
    /// Every account by id (people and bots).
    pub accounts: BTreeMap<u64, Account>,
    /// Org membership: account id → role.
    pub members: BTreeMap<u64, OrgRole>,
    /// The account OAuth grants are issued for (the person at the browser).
    pub viewer_id: u64,
    pub repos: BTreeMap<u64, Repo>,
    /// Repositories as they were when deleted, so `repository.deleted` can still describe them.
    pub deleted_repos: BTreeMap<u64, Repo>,
    /// Pull requests by (repo id, number).
    pub pulls: BTreeMap<(u64, u64), Pull>,
    pub hooks: BTreeMap<u64, Hook>,
    /// Organization webhooks by id (`org_hooks.rs`); their `repo_id` is [`ORG_LEVEL`]. They
    /// get the org's `organization` events, which repository hooks never do.
    pub org_hooks: BTreeMap<u64, Hook>,
    /// Repository admins besides the org's owners (who administer every repository):
    /// (repository id, account id). Only admins may manage a repository's hooks.
    pub repo_admins: BTreeSet<(u64, u64)>,
    /// The org has OAuth App access restrictions on (and has not approved the app): OAuth
    /// tokens get GitHub's 403 on its REST resources.
    pub oauth_restricted: bool,
    pub deliveries: Vec<Delivery>,
    pub tokens: HashMap<String, Token>,
    /// Other organizations the people belong to (no repositories): they make `/user/orgs`
    /// list several, as for someone in more than one org.
    pub other_orgs: Vec<Org>,
    /// Each repository's commits and default branch (`git.rs`), by repository id; made when
    /// first needed (see `history_mut`).
    pub git: BTreeMap<u64, git::History>,
    /// Deployments by id (each names its repository), with their statuses.
    pub deployments: BTreeMap<u64, Deployment>,
    /// Actions workflow runs by id.
    pub runs: BTreeMap<u64, WorkflowRun>,
    /// Releases by id.
    pub releases: BTreeMap<u64, Release>,
    /// Tags by (repository id, name).
    pub tags: BTreeMap<(u64, String), Tag>,
    /// Issues by (repository id, number); numbers are shared with pull requests.
    pub issues: BTreeMap<(u64, u64), Issue>,
    /// Labels by (repository id, name in lower case).
    pub labels: BTreeMap<(u64, String), Label>,
    /// Bumped whenever the org may have changed (see `Shared::world_mut`): rendered JSON cached
    /// under an older generation is stale.
    pub generation: u64,
    /// The last id handed out, per kind (see [`IdKind`]).
    last_ids: [u64; IdKind::COUNT],
}

/// What an id is for. GitHub numbers each kind on its own, and the ranges matter: pull request
/// and review ids passed 2^31 in 2024 (a GraphQL `Int` cannot hold them), so the simulator hands
/// out ids where GitHub's are today, never small ones a 32-bit field would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Users, bots and organizations: up to about 2.5 × 10^8.
    Account,
    /// About 10^9.
    Repo,
    /// About 2.5–3.5 × 10^9: past 2^31.
    Pull,
    /// Past 2^31 too.
    Review,
    /// Webhooks: about 5 × 10^8.
    Hook,
    /// Webhook deliveries: past 10^10.
    Delivery,
    /// Deployments: past 2^31 (GitHub's passed it in 2024), so GraphQL's `databaseId` of one
    /// is an error, as there.
    Deployment,
    /// Deployment statuses: past 10^10.
    DeploymentStatus,
    /// Actions workflow runs: past 10^10.
    Run,
    /// Releases: about 2.4 × 10^8 (still a 32-bit `databaseId`).
    Release,
    /// Issues: past 2^31, like pull requests.
    Issue,
    /// Labels: past 2^31.
    Label,
}

impl IdKind {
    const COUNT: usize = 12;
    const ALL: [IdKind; IdKind::COUNT] = [
        IdKind::Account,
        IdKind::Repo,
        IdKind::Pull,
        IdKind::Review,
        IdKind::Hook,
        IdKind::Delivery,
        IdKind::Deployment,
        IdKind::DeploymentStatus,
        IdKind::Run,
        IdKind::Release,
        IdKind::Issue,
        IdKind::Label,
    ];

    /// Where this kind's ids start (the first one handed out is one more).
    pub const fn base(self) -> u64 {
        match self {
            IdKind::Account => 180_000_000,
            IdKind::Repo => 1_020_000_000,
            IdKind::Pull => 2_900_000_000,
            IdKind::Review => 3_100_000_000,
            IdKind::Hook => 530_000_000,
            IdKind::Delivery => 21_000_000_000,
            IdKind::Deployment => 2_600_000_000,
            IdKind::DeploymentStatus => 24_000_000_000,
            IdKind::Run => 16_000_000_000,
            IdKind::Release => 240_000_000,
            IdKind::Issue => 3_400_000_000,
            IdKind::Label => 8_100_000_000,
        }
    }
}

impl World {
    pub fn new() -> World {
        World {
            last_ids: IdKind::ALL.map(IdKind::base),
            ..World::default()
        }
    }

    /// A fresh id of `kind`, in GitHub's range for it (unique across kinds too: the ranges
    /// never meet at the sizes a simulated org reaches).
    pub fn next_id(&mut self, kind: IdKind) -> u64 {
        let last = &mut self.last_ids[kind as usize];
        *last += 1;
        *last
    }

    pub fn org(&self) -> &Org {
        self.org
            .as_ref()
            .expect("the simulator always has an organization")
    }

    pub fn account(&self, id: u64) -> &Account {
        &self.accounts[&id]
    }

    pub fn account_by_login(&self, login: &str) -> WorldResult<&Account> {
        self.accounts
            .values()
            .find(|a| a.login.eq_ignore_ascii_case(login))
            .ok_or_else(|| WorldError::NotFound(format!("user {login}")))
    }

    pub fn repo_by_name(&self, owner: &str, name: &str) -> WorldResult<&Repo> {
        if !owner.eq_ignore_ascii_case(&self.org().login) {
            return Err(WorldError::NotFound(format!("repository {owner}/{name}")));
        }
        self.repos
            .values()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| WorldError::NotFound(format!("repository {owner}/{name}")))
    }

    pub fn full_name(&self, repo: &Repo) -> String {
        format!("{}/{}", self.org().login, repo.name)
    }

    pub fn pull(&self, repo_id: u64, number: u64) -> WorldResult<&Pull> {
        self.pulls
            .get(&(repo_id, number))
            .ok_or_else(|| WorldError::NotFound(format!("pull request #{number}")))
    }

    /// Pull requests of one repository, in number order.
    pub fn repo_pulls(&self, repo_id: u64) -> impl DoubleEndedIterator<Item = &Pull> {
        self.pulls
            .range((repo_id, 0)..=(repo_id, u64::MAX))
            .map(|(_, p)| p)
    }

    pub fn hooks_of(&self, repo_id: u64) -> impl Iterator<Item = &Hook> {
        self.hooks.values().filter(move |h| h.repo_id == repo_id)
    }

    /// An owner of the org (role `admin`, as GitHub calls owners).
    pub fn is_owner(&self, account: u64) -> bool {
        self.members.get(&account) == Some(&OrgRole::Admin)
    }

    /// May `account` administer the repository (and so manage its hooks)?
    pub fn is_repo_admin(&self, account: u64, repo_id: u64) -> bool {
        self.is_owner(account) || self.repo_admins.contains(&(repo_id, account))
    }

    /// A repository's history, if anything has made it yet (see `history_mut`).
    pub fn history(&self, repo_id: u64) -> Option<&git::History> {
        self.git.get(&repo_id)
    }

    /// An issue of a repository.
    pub fn issue(&self, repo_id: u64, number: u64) -> WorldResult<&Issue> {
        self.issues
            .get(&(repo_id, number))
            .ok_or_else(|| WorldError::NotFound(format!("issue #{number}")))
    }

    /// Deployments of one repository, oldest first.
    pub fn repo_deployments(&self, repo_id: u64) -> impl DoubleEndedIterator<Item = &Deployment> {
        self.deployments
            .values()
            .filter(move |d| d.repo_id == repo_id)
    }

    /// Drop a deleted repository's delivery data.
    pub(crate) fn forget_delivery_data(&mut self, repo_id: u64) {
        self.git.remove(&repo_id);
        self.deployments.retain(|_, d| d.repo_id != repo_id);
        self.runs.retain(|_, r| r.repo_id != repo_id);
        self.releases.retain(|_, r| r.repo_id != repo_id);
        self.tags.retain(|(r, _), _| *r != repo_id);
        self.issues.retain(|(r, _), _| *r != repo_id);
        self.labels.retain(|(r, _), _| *r != repo_id);
    }

    /// Put every merged pull request on its repository's default branch, in merge order (for
    /// a generated org, whose pull requests were made without a history).
    pub fn build_histories(&mut self) {
        let mut merged: Vec<(i64, u64, u64)> = self
            .pulls
            .values()
            .filter_map(|p| Some((p.merged_at?, p.repo_id, p.number)))
            .collect();
        merged.sort();
        for repo_id in self.repos.keys().copied().collect::<Vec<_>>() {
            let _ = self.history_mut(repo_id);
        }
        for (_, repo_id, number) in merged {
            let _ = self.record_merge(repo_id, number);
        }
    }

    /// A repository hook or an organization hook.
    pub fn any_hook(&self, id: u64) -> Option<&Hook> {
        self.hooks.get(&id).or_else(|| self.org_hooks.get(&id))
    }
}
