//! `Repository` and the types around it (owner, ordering, privacy).

use super::Env;
use super::accounts::Organization;
use super::deployments::{DeploymentConnection, DeploymentOrder};
use super::issues::{IssueConnection, IssueFilters, IssueState};
use super::paging::{PageArgs, connection};
use super::pulls::{PullFilter, PullRequest, PullRequestConnection, PullRequestState};
use super::refs::{Ref, RefConnection, RefOrder, Release, ReleaseConnection, ReleaseOrder};
use super::schema::{DateTime, Uri, not_found, null_with};
use crate::sim::json::node_id;
use crate::sim::world::Repo;
use async_graphql::{Context, Enum, ID, InputObject, Interface, Object, Result};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderDirection {
    Asc,
    Desc,
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
    pub field: RepositoryOrderField,
    pub direction: OrderDirection,
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

    async fn database_id(&self) -> Result<Option<i32>> {
        super::schema::int32_id(self.id)
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
        Some(Ref::default_branch(&self.env, self.id))
    }

    /// Deployments, oldest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn deployments(
        &self,
        environments: Option<Vec<String>>,
        order_by: Option<DeploymentOrder>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<DeploymentConnection> {
        let args = PageArgs::new(first, after, last, before);
        super::deployments::deployments(&self.env, self.id, environments, order_by, &args)
    }

    /// Releases, newest first unless `orderBy` says otherwise.
    async fn releases(
        &self,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
        order_by: Option<ReleaseOrder>,
    ) -> Result<ReleaseConnection> {
        let args = PageArgs::new(first, after, last, before);
        super::refs::releases(&self.env, self.id, order_by, &args)
    }

    /// The newest published release that is not a prerelease.
    async fn latest_release(&self) -> Result<Option<Release>> {
        let args = PageArgs::new(Some(100), None, None, None);
        let all = super::refs::releases(&self.env, self.id, None, &args)?;
        Ok(all.latest())
    }

    /// Refs under `refPrefix` (`refs/heads/` or `refs/tags/`).
    #[allow(clippy::too_many_arguments)]
    async fn refs(
        &self,
        query: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
        ref_prefix: String,
        direction: Option<OrderDirection>,
        order_by: Option<RefOrder>,
    ) -> Result<Option<RefConnection>> {
        let args = PageArgs::new(first, after, last, before);
        super::refs::refs(
            &self.env,
            self.id,
            &ref_prefix,
            query,
            order_by,
            direction,
            &args,
        )
        .map(Some)
    }

    /// Issues (never pull requests), oldest first unless `orderBy` says otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn issues(
        &self,
        order_by: Option<IssueOrder>,
        labels: Option<Vec<String>>,
        states: Option<Vec<IssueState>>,
        filter_by: Option<IssueFilters>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<IssueConnection> {
        let args = PageArgs::new(first, after, last, before);
        super::issues::issues(
            &self.env, self.id, labels, states, filter_by, order_by, &args,
        )
    }

    /// Returns a single issue from the current repository by number.
    async fn issue(&self, ctx: &Context<'_>, number: i32) -> Option<super::issues::Issue> {
        let n = u64::try_from(number).unwrap_or(0);
        match super::issues::Issue::by_number(&self.env, self.id, n) {
            Some(i) => Some(i),
            None => null_with(
                ctx,
                not_found(format!(
                    "Could not resolve to an Issue with the number of {number}."
                )),
            ),
        }
    }

    /// Returns a single pull request from the current repository by number.
    async fn pull_request(&self, ctx: &Context<'_>, number: i32) -> Option<PullRequest> {
        let n = u64::try_from(number).unwrap_or(0);
        let pull = self.env.with_world(|w| w.pull(self.id, n).ok().cloned());
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
        let filter = PullFilter {
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
