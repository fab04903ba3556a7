//! The simulated GitHub's state: one organization with its people, repositories, pull requests,
//! reviews, commits and webhooks. Every mutation returns the webhook events GitHub would send for
//! it (see `webhooks.rs`).
//!
//! Times are Unix seconds (UTC). Ids come from one counter per kind, like GitHub's.
//!
//! Here: the [`World`] and its lookups. The data it holds is in `model.rs`, the mutations the
//! control API offers in `mutations.rs`; both are re-exported, so every type stays
//! `sim::world::X`.

mod model;
mod mutations;

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
    /// Bumped whenever the org may have changed (see `Shared::world_mut`): rendered JSON cached
    /// under an older generation is stale.
    pub generation: u64,
    next_id: u64,
}

impl World {
    pub fn new() -> World {
        World {
            next_id: 1_000,
            ..World::default()
        }
    }

    /// A fresh id, unique across kinds (GitHub's ids are per kind, but unique is all we need).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
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

    /// A repository hook or an organization hook.
    pub fn any_hook(&self, id: u64) -> Option<&Hook> {
        self.hooks.get(&id).or_else(|| self.org_hooks.get(&id))
    }
}
