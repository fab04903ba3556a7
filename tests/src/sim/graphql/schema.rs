//! The query root (`repository`, `organization`, `viewer`, `node`, `nodes`, `rateLimit`), the
//! `Node` interface, GitHub's scalars and shared enums. Names and types follow GitHub's public
//! schema; the other modules hold the object types.

use super::Env;
use super::accounts::{Actor, Bot, Organization, User};
use super::pulls::{PullRequest, PullRequestReview};
use super::repository::Repository;
use crate::sim::clock;
use crate::sim::json::parse_node_id;
use crate::sim::world::OrgRole;
use async_graphql::{
    Context, Enum, ErrorExtensions, ID, InputValueError, InputValueResult, Interface, Object,
    Result, Scalar, ScalarType, SimpleObject, Value,
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
// GitHub's 64-bit ids (`fullDatabaseId`): a string on the wire.
string_scalar!(BigInt, "BigInt");

impl BigInt {
    pub fn of(id: u64) -> BigInt {
        BigInt(id.to_string())
    }
}

/// A `databaseId`: GraphQL's `Int` is 32-bit. GitHub answers an id that does not fit with null
/// and an error at that field (the data beside it still comes back), which is what made its
/// pull request and review `databaseId`s unusable once they passed 2^31.
pub fn int32_id(id: u64) -> async_graphql::Result<Option<i32>> {
    i32::try_from(id).map(Some).map_err(|_| {
        async_graphql::Error::new(format!(
            "Int cannot represent non 32-bit signed integer value: {id}"
        ))
    })
}

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

/// The query root of GitHub's GraphQL schema (`__typename` "Query", as there).
#[Object(name = "Query")]
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
        "Deployment" => super::deployments::Deployment::by_id(env, db_id).map(Node::Deployment),
        "Release" => super::refs::Release::by_id(env, db_id).map(Node::Release),
        "Issue" => super::issues::Issue::by_id(env, db_id).map(Node::Issue),
        "Organization" if db_id == env.org.id => {
            Some(Node::Organization(Organization(env.clone())))
        }
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
    Deployment(super::deployments::Deployment),
    Release(super::refs::Release),
    Issue(super::issues::Issue),
}
