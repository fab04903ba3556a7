//! Accounts and the organization: the `Actor` interface (`User`, `Bot`), and `Organization`
//! with its members and repositories.

use super::Env;
use super::paging::{self, Key, PageArgs};
use super::repository::{
    OrderDirection, Repository, RepositoryConnection, RepositoryOrder, RepositoryOrderField,
    RepositoryPrivacy,
};
use super::schema::{DateTime, Uri};
use crate::sim::json::node_id;
use crate::sim::world::{Account, OrgRole, Repo};
use async_graphql::{Enum, ID, Interface, Object, Result, SimpleObject};
use std::sync::Arc;

/// Represents an object which can take actions on GitHub (a user or a bot).
// Clippy takes the repeated `ty = "Uri"` of different fields for duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface, Clone)]
#[graphql(
    field(name = "login", ty = "String"),
    field(
        name = "avatar_url",
        ty = "Uri",
        arg(name = "size", ty = "Option<i32>")
    ),
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

    async fn database_id(&self) -> Result<Option<i32>> {
        super::schema::int32_id(self.id)
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

    async fn database_id(&self) -> Result<Option<i32>> {
        super::schema::int32_id(self.0.id)
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
pub struct Organization(pub Arc<Env>);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        ID(node_id("Organization", self.0.org.id))
    }

    async fn database_id(&self) -> Result<Option<i32>> {
        super::schema::int32_id(self.0.org.id)
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
        Uri(format!(
            "{}/avatars/o/{}?v=4{s}",
            self.0.web(),
            self.0.org.id
        ))
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
                repos
                    .iter()
                    .enumerate()
                    .map(|(i, r)| ((i as i64, r.id), *r))
                    .collect()
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
