//! The query root and the non-pull-request types of GitHub's schema: scalars, accounts (the
//! `Actor` and `Node` interfaces), the organization, repositories and `rateLimit`. Names and
//! types follow GitHub's public schema; `pulls.rs` has the pull request side.

use super::Env;
use super::paging::{self, Key, PageArgs, connection};
use super::pulls::{PullRequest, PullRequestConnection, PullRequestReview, PullRequestState};
use crate::sim::clock;
use crate::sim::json::{node_id, parse_node_id};
use crate::sim::world::{Account, OrgRole, Repo};
use async_graphql::{
    Context, Enum, ErrorExtensions, ID, InputObject, InputValueError, InputValueResult, Interface,
    Object, Result, Scalar, ScalarType, SimpleObject, Value,
};
use std::sync::Arc;

pub fn env<'a>(ctx: &Context<'a>) -> &'a Arc<Env> {
    ctx.data_unchecked::<Arc<Env>>()
}

/// GitHub's "Could not resolve to …" error.
pub fn not_found(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("type", "NOT_FOUND"))
}

/// A nullable field that failed: null in `data` and the error in `errors`, as GraphQL says.
/// (An `Err` from a resolver would make async-graphql drop the field from its parent instead.)
pub fn null_with<T>(ctx: &Context<'_>, err: async_graphql::Error) -> Option<T> {
    ctx.add_error(ctx.set_error_path(err.into_server_error(ctx.item.pos)));
    None
}

/// A GitHub scalar that travels as a string.
macro_rules! string_scalar {
    ($t:ident, $name:tt) => {
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $t(pub String);

        #[Scalar(name = $name)]
        impl ScalarType for $t {
            fn parse(value: Value) -> InputValueResult<Self> {
                match value {
                    Value::String(s) => Ok($t(s)),
                    other => Err(InputValueError::expected_type(other)),
                }
            }

            fn to_value(&self) -> Value {
                Value::String(self.0.clone())
            }
        }
    };
}
string_scalar!(Uri, "URI");
string_scalar!(GitObjectId, "GitObjectID");
string_scalar!(GitTimestamp, "GitTimestamp");

/// An ISO 8601 time (`2011-01-26T19:01:12Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub i64);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => clock::parse_iso(s)
                .map(DateTime)
                .ok_or_else(|| InputValueError::custom(format!("{s:?} is not an ISO 8601 time"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(clock::iso(self.0))
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CommentAuthorAssociation {
    Collaborator,
    Contributor,
    FirstTimer,
    FirstTimeContributor,
    Mannequin,
    Member,
    None,
    Owner,
}

impl CommentAuthorAssociation {
    pub(crate) fn of(env: &Env, account_id: u64) -> CommentAuthorAssociation {
        match env.members.get(&account_id) {
            Some(OrgRole::Admin) => CommentAuthorAssociation::Owner,
            Some(OrgRole::Member) => CommentAuthorAssociation::Member,
            None if env.accounts.get(&account_id).is_some_and(|a| a.is_bot) => {
                CommentAuthorAssociation::None
            }
            None => CommentAuthorAssociation::Contributor,
        }
    }
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Lookup a given repository by the owner and repository name.
    async fn repository(
        &self,
        ctx: &Context<'_>,
        owner: String,
        name: String,
        #[graphql(name = "followRenames", default = true)] _follow_renames: bool,
    ) -> Option<Repository> {
        let env = env(ctx);
        let found = env
            .repos
            .values()
            .find(|r| r.name.eq_ignore_ascii_case(&name) && env.can_see(r))
            .filter(|_| env.org.login.eq_ignore_ascii_case(&owner))
            .map(|r| r.id);
        match found {
            Some(id) => Some(Repository::new(env, id)),
            None => null_with(
                ctx,
                not_found(format!(
                    "Could not resolve to a Repository with the name '{owner}/{name}'."
                )),
            ),
        }
    }

    /// Lookup an organization by login.
    async fn organization(&self, ctx: &Context<'_>, login: String) -> Option<Organization> {
        let env = env(ctx);
        if env.org.login.eq_ignore_ascii_case(&login) {
            Some(Organization(env.clone()))
        } else {
            null_with(
                ctx,
                not_found(format!(
                    "Could not resolve to an Organization with the login of '{login}'."
                )),
            )
        }
    }

    /// The currently authenticated user.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<User> {
        let env = env(ctx);
        env.accounts
            .contains_key(&env.caller.user_id)
            .then(|| User::new(env, env.caller.user_id))
            .ok_or_else(|| async_graphql::Error::new("The viewer no longer exists."))
    }

    /// Fetches an object given its ID.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Option<Node> {
        match resolve_node(env(ctx), &id) {
            Some(n) => Some(n),
            None => null_with(
                ctx,
                not_found(format!(
                    "Could not resolve to a node with the global id of '{}'",
                    id.as_str()
                )),
            ),
        }
    }

    /// Lookup nodes by a list of IDs (an unknown one is null, with an error naming its index).
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(async_graphql::Error::new(
                "You may not request more than 100 nodes at once.",
            ));
        }
        let env = env(ctx);
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let node = resolve_node(env, id);
            if node.is_none() {
                let msg = format!(
                    "Could not resolve to a node with the global id of '{}'",
                    id.as_str()
                );
                let mut err = ctx.set_error_path(not_found(msg).into_server_error(ctx.item.pos));
                err.path.push(async_graphql::PathSegment::Index(i));
                ctx.add_error(err);
            }
            out.push(node);
        }
        Ok(out)
    }

    /// The client's rate limit information, reflecting this query's cost.
    async fn rate_limit(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "dryRun", default = false)] _dry_run: bool,
    ) -> RateLimit {
        let c = env(ctx).charge;
        RateLimit {
            cost: c.cost,
            limit: c.budget.limit,
            node_count: c.node_count,
            remaining: c.budget.remaining(),
            used: c.budget.used,
            reset_at: DateTime(c.budget.reset),
        }
    }
}

fn resolve_node(env: &Arc<Env>, id: &ID) -> Option<Node> {
    let (kind, db_id) = parse_node_id(id.as_str())?;
    match kind.as_str() {
        "Repository" => env
            .repo(db_id)
            .map(|_| Node::Repository(Repository::new(env, db_id))),
        "PullRequest" => env
            .pull_by_id(db_id)
            .map(|p| Node::PullRequest(PullRequest::new(env, p))),
        "PullRequestReview" => PullRequestReview::by_id(env, db_id).map(Node::PullRequestReview),
        "User" | "Bot" => match Actor::new(env, db_id)? {
            Actor::User(u) if kind == "User" => Some(Node::User(u)),
            Actor::Bot(b) if kind == "Bot" => Some(Node::Bot(b)),
            _ => None,
        },
        "Organization" if db_id == env.org.id => Some(Node::Organization(Organization(env.clone()))),
        _ => None,
    }
}

#[derive(SimpleObject)]
pub struct RateLimit {
    /// The point cost for the current query counting against the rate limit.
    cost: u64,
    limit: u64,
    /// The maximum number of nodes this query may return.
    node_count: u64,
    remaining: u64,
    used: u64,
    reset_at: DateTime,
}

/// An object with an ID.
#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Repository(Repository),
    PullRequest(PullRequest),
    PullRequestReview(PullRequestReview),
    User(User),
    Bot(Bot),
    Organization(Organization),
}

/// Represents an object which can take actions on GitHub (a user or a bot).
#[derive(Interface, Clone)]
#[graphql(
    field(name = "login", ty = "String"),
    field(name = "avatar_url", ty = "Uri", arg(name = "size", ty = "Option<i32>")),
    field(name = "url", ty = "Uri"),
    field(name = "resource_path", ty = "Uri")
)]
pub enum Actor {
    User(User),
    Bot(Bot),
}

impl Actor {
    /// The account as GraphQL shows it (None for a deleted account: GitHub's ghost is null).
    pub fn new(env: &Arc<Env>, id: u64) -> Option<Actor> {
        let a = env.accounts.get(&id)?;
        Some(if a.is_bot {
            Actor::Bot(Bot(User::new(env, id)))
        } else {
            Actor::User(User::new(env, id))
        })
    }
}

/// A user (or, wrapped in `Bot`, a bot): the account id indexes the request's snapshot.
#[derive(Clone)]
pub struct User {
    env: Arc<Env>,
    id: u64,
}

impl User {
    /// Only for ids in `env.accounts`.
    pub fn new(env: &Arc<Env>, id: u64) -> User {
        User {
            env: env.clone(),
            id,
        }
    }

    fn a(&self) -> &Account {
        &self.env.accounts[&self.id]
    }

    fn avatar(&self, size: Option<i32>) -> Uri {
        let s = size.map(|s| format!("&s={s}")).unwrap_or_default();
        Uri(format!("{}/avatars/u/{}?v=4{s}", self.env.web(), self.id))
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ID(node_id("User", self.id))
    }

    async fn database_id(&self) -> u64 {
        self.id
    }

    pub async fn login(&self) -> String {
        self.a().login.clone()
    }

    async fn name(&self) -> Option<&str> {
        Some(self.a().name.as_str()).filter(|n| !n.is_empty())
    }

    /// The user's publicly visible profile email ("" when they show none).
    async fn email(&self) -> &str {
        self.a().email.as_deref().unwrap_or("")
    }

    pub async fn avatar_url(&self, size: Option<i32>) -> Uri {
        self.avatar(size)
    }

    pub async fn url(&self) -> Uri {
        Uri(format!("{}/{}", self.env.web(), self.a().login))
    }

    pub async fn resource_path(&self) -> Uri {
        Uri(format!("/{}", self.a().login))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.a().created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.a().created_at)
    }

    async fn is_viewer(&self) -> bool {
        self.id == self.env.caller.user_id
    }
}

/// A GitHub App's bot. GraphQL shows its login without REST's `[bot]` suffix.
#[derive(Clone)]
pub struct Bot(User);

impl Bot {
    fn bare_login(&self) -> &str {
        let l = &self.0.a().login;
        l.strip_suffix("[bot]").unwrap_or(l)
    }
}

#[Object]
impl Bot {
    pub async fn id(&self) -> ID {
        ID(node_id("Bot", self.0.id))
    }

    async fn database_id(&self) -> u64 {
        self.0.id
    }

    pub async fn login(&self) -> String {
        self.bare_login().to_string()
    }

    pub async fn avatar_url(&self, size: Option<i32>) -> Uri {
        self.0.avatar(size)
    }

    pub async fn url(&self) -> Uri {
        Uri(format!("{}/apps/{}", self.0.env.web(), self.bare_login()))
    }

    pub async fn resource_path(&self) -> Uri {
        Uri(format!("/apps/{}", self.bare_login()))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.a().created_at)
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrganizationMemberRole {
    Admin,
    Member,
}

/// The organization (the simulator has one).
#[derive(Clone)]
pub struct Organization(Arc<Env>);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ID(node_id("Organization", self.0.org.id))
    }

    async fn database_id(&self) -> u64 {
        self.0.org.id
    }

    pub async fn login(&self) -> &str {
        &self.0.org.login
    }

    async fn name(&self) -> &str {
        &self.0.org.name
    }

    pub async fn url(&self) -> Uri {
        Uri(format!("{}/{}", self.0.web(), self.0.org.login))
    }

    pub async fn resource_path(&self) -> Uri {
        Uri(format!("/{}", self.0.org.login))
    }

    pub async fn avatar_url(&self, size: Option<i32>) -> Uri {
        let s = size.map(|s| format!("&s={s}")).unwrap_or_default();
        Uri(format!("{}/avatars/o/{}?v=4{s}", self.0.web(), self.0.org.id))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.org.created_at)
    }

    /// A list of users who are members of this organization (in login order).
    async fn members_with_role(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<OrganizationMemberConnection> {
        let env = &self.0;
        let mut members: Vec<(&Account, OrgRole)> = env
            .members
            .iter()
            .filter_map(|(id, role)| Some((env.accounts.get(id)?, *role)))
            .collect();
        members.sort_by_key(|(a, _)| a.login.to_ascii_lowercase());
        let items = members
            .iter()
            .enumerate()
            .map(|(i, (a, role))| ((i as i64, a.id), (User::new(env, a.id), *role)))
            .collect();
        let page = paging::page(items, &PageArgs::new(first, after, last, before), false)?;
        Ok(OrganizationMemberConnection(page))
    }

    /// The organization's repositories the caller may see.
    #[allow(clippy::too_many_arguments)]
    async fn repositories(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        privacy: Option<RepositoryPrivacy>,
        is_archived: Option<bool>,
        order_by: Option<RepositoryOrder>,
    ) -> Result<RepositoryConnection> {
        let env = &self.0;
        let mut repos: Vec<&Repo> = env
            .repos
            .values()
            .filter(|r| env.can_see(r))
            .filter(|r| match privacy {
                Some(RepositoryPrivacy::Public) => !r.private,
                Some(RepositoryPrivacy::Private) => r.private,
                None => true,
            })
            .filter(|r| is_archived.is_none_or(|a| a == r.archived))
            .collect();
        let order = order_by.unwrap_or(RepositoryOrder {
            field: RepositoryOrderField::CreatedAt,
            direction: OrderDirection::Asc,
        });
        let mut keyed: Vec<(Key, &Repo)> = match order.field {
            RepositoryOrderField::Name => {
                repos.sort_by_key(|r| r.name.to_ascii_lowercase());
                repos.iter().enumerate().map(|(i, r)| ((i as i64, r.id), *r)).collect()
            }
            field => repos
                .iter()
                .map(|r| {
                    let v = match field {
                        RepositoryOrderField::UpdatedAt => r.updated_at,
                        RepositoryOrderField::PushedAt => r.pushed_at,
                        RepositoryOrderField::Stargazers => 0,
                        _ => r.created_at,
                    };
                    ((v, r.id), *r)
                })
                .collect(),
        };
        keyed.sort_by_key(|(k, _)| *k);
        let desc = order.direction == OrderDirection::Desc;
        if desc {
            keyed.reverse();
        }
        let items = keyed
            .into_iter()
            .map(|(k, r)| (k, Repository::new(env, r.id)))
            .collect();
        let page = paging::page(items, &PageArgs::new(first, after, last, before), desc)?;
        Ok(RepositoryConnection(page))
    }
}

pub struct OrganizationMemberConnection(paging::Page<(User, OrgRole)>);

#[Object]
impl OrganizationMemberConnection {
    async fn total_count(&self) -> usize {
        self.0.total
    }

    async fn page_info(&self) -> &paging::PageInfo {
        &self.0.info
    }

    async fn nodes(&self) -> Vec<User> {
        self.0.nodes.iter().map(|(u, _)| u.clone()).collect()
    }

    async fn edges(&self) -> Vec<OrganizationMemberEdge> {
        self.0
            .nodes
            .iter()
            .zip(&self.0.cursors)
            .map(|((u, role), c)| OrganizationMemberEdge {
                cursor: c.clone(),
                node: u.clone(),
                role: match role {
                    OrgRole::Admin => OrganizationMemberRole::Admin,
                    OrgRole::Member => OrganizationMemberRole::Member,
                },
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct OrganizationMemberEdge {
    cursor: String,
    node: User,
    /// The role this user has in the organization.
    role: OrganizationMemberRole,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RepositoryPrivacy {
    Public,
    Private,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RepositoryVisibility {
    Private,
    Public,
    Internal,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RepositoryOrderField {
    CreatedAt,
    UpdatedAt,
    PushedAt,
    Name,
    Stargazers,
}

#[derive(InputObject, Clone, Copy)]
pub struct RepositoryOrder {
    field: RepositoryOrderField,
    direction: OrderDirection,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IssueOrderField {
    CreatedAt,
    UpdatedAt,
    Comments,
}

#[derive(InputObject, Clone, Copy)]
pub struct IssueOrder {
    pub field: IssueOrderField,
    pub direction: OrderDirection,
}

connection!(RepositoryConnection, RepositoryEdge, Repository);

/// The owner of a repository (here always the organization).
#[derive(Interface, Clone)]
#[graphql(
    field(name = "id", ty = "ID"),
    field(name = "login", ty = "&str"),
    field(name = "url", ty = "Uri")
)]
pub enum RepositoryOwner {
    Organization(Organization),
}

/// A Git reference.
#[derive(SimpleObject)]
pub struct Ref {
    name: String,
    prefix: String,
}

/// A repository; the id indexes the request's snapshot.
#[derive(Clone)]
pub struct Repository {
    pub env: Arc<Env>,
    pub id: u64,
}

impl Repository {
    /// Only for ids in `env.repos`.
    pub fn new(env: &Arc<Env>, id: u64) -> Repository {
        Repository {
            env: env.clone(),
            id,
        }
    }

    pub fn r(&self) -> &Repo {
        &self.env.repos[&self.id]
    }

    pub fn nwo(&self) -> String {
        format!("{}/{}", self.env.org.login, self.r().name)
    }
}

#[Object]
impl Repository {
    pub async fn id(&self) -> ID {
        ID(node_id("Repository", self.id))
    }

    async fn database_id(&self) -> u64 {
        self.id
    }

    async fn name(&self) -> &str {
        &self.r().name
    }

    async fn name_with_owner(&self) -> String {
        self.nwo()
    }

    async fn description(&self) -> Option<&str> {
        Some(self.r().description.as_str()).filter(|d| !d.is_empty())
    }

    async fn is_private(&self) -> bool {
        self.r().private
    }

    async fn is_archived(&self) -> bool {
        self.r().archived
    }

    async fn visibility(&self) -> RepositoryVisibility {
        if self.r().private {
            RepositoryVisibility::Private
        } else {
            RepositoryVisibility::Public
        }
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.r().created_at)
    }

    async fn pushed_at(&self) -> Option<DateTime> {
        Some(DateTime(self.r().pushed_at))
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.r().updated_at)
    }

    pub async fn url(&self) -> Uri {
        Uri(format!("{}/{}", self.env.web(), self.nwo()))
    }

    pub async fn resource_path(&self) -> Uri {
        Uri(format!("/{}", self.nwo()))
    }

    async fn owner(&self) -> RepositoryOwner {
        RepositoryOwner::Organization(Organization(self.env.clone()))
    }

    async fn default_branch_ref(&self) -> Option<Ref> {
        Some(Ref {
            name: self.r().default_branch.clone(),
            prefix: "refs/heads/".into(),
        })
    }

    /// Returns a single pull request from the current repository by number.
    async fn pull_request(&self, ctx: &Context<'_>, number: i32) -> Option<PullRequest> {
        let n = u64::try_from(number).unwrap_or(0);
        let pull = self
            .env
            .with_world(|w| w.pull(self.id, n).ok().cloned());
        match pull {
            Some(p) => Some(PullRequest::new(&self.env, Arc::new(p))),
            None => null_with(
                ctx,
                not_found(format!(
                    "Could not resolve to a PullRequest with the number of {number}."
                )),
            ),
        }
    }

    /// A list of pull requests that have been opened in the repository.
    #[allow(clippy::too_many_arguments)]
    async fn pull_requests(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        states: Option<Vec<PullRequestState>>,
        head_ref_name: Option<String>,
        base_ref_name: Option<String>,
        order_by: Option<IssueOrder>,
    ) -> Result<PullRequestConnection> {
        let filter = super::pulls::PullFilter {
            states,
            head_ref_name,
            base_ref_name,
            order_by,
        };
        super::pulls::pull_requests(
            &self.env,
            self.id,
            &filter,
            &PageArgs::new(first, after, last, before),
        )
    }
}
