//! Issues and labels: `Repository.issues` (issues only: GitHub's GraphQL keeps pull requests
//! apart, unlike REST), `Issue`, and the `labels` of issues and pull requests.
//!
//! Filters as GitHub applies them: `labels` (and `filterBy.labels`) keep an issue carrying any
//! of the names; `states`; `filterBy.since` keeps issues updated at or after it. Ids are past
//! 2^31, so `databaseId` errors and `fullDatabaseId` is the one to read.

use super::Env;
use super::accounts::Actor;
use super::paging::{self, Key, PageArgs, connection};
use super::repository::{IssueOrder, IssueOrderField, OrderDirection, Repository};
use super::schema::{BigInt, DateTime, Uri, int32_id, not_found};
use crate::sim::json::node_id;
use crate::sim::world::{Issue as WorldIssue, Label as WorldLabel};
use async_graphql::{Enum, ID, InputObject, Object, Result};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IssueState {
    Open,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum IssueStateReason {
    Reopened,
    NotPlanned,
    Completed,
}

/// `filterBy` of `issues` (the filters the simulator applies; the others are accepted).
#[derive(InputObject, Clone, Default)]
pub struct IssueFilters {
    pub assignee: Option<String>,
    pub created_by: Option<String>,
    pub labels: Option<Vec<String>>,
    pub mentioned: Option<String>,
    pub milestone: Option<String>,
    pub milestone_number: Option<String>,
    pub since: Option<DateTime>,
    pub states: Option<Vec<IssueState>>,
    #[graphql(default = false)]
    pub viewer_subscribed: bool,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LabelOrderField {
    Name,
    CreatedAt,
}

#[derive(InputObject, Clone, Copy)]
pub struct LabelOrder {
    pub field: LabelOrderField,
    pub direction: OrderDirection,
}

connection!(IssueConnection, IssueEdge, Issue);
connection!(LabelConnection, LabelEdge, Label);

/// One page of a repository's issues (oldest created first unless `orderBy` says otherwise).
pub fn issues(
    env: &Arc<Env>,
    repo_id: u64,
    labels: Option<Vec<String>>,
    states: Option<Vec<IssueState>>,
    filter: Option<IssueFilters>,
    order_by: Option<IssueOrder>,
    args: &PageArgs,
) -> Result<IssueConnection> {
    let (field, dir) = order_by.map_or((IssueOrderField::CreatedAt, OrderDirection::Asc), |o| {
        (o.field, o.direction)
    });
    let desc = dir == OrderDirection::Desc;
    let filter = filter.unwrap_or_default();
    let creator = filter.created_by.as_ref().map(|login| {
        env.accounts
            .values()
            .find(|a| a.login.eq_ignore_ascii_case(login))
            .map_or(0, |a| a.id)
    });
    let any_of = |wanted: &Option<Vec<String>>, i: &WorldIssue| {
        wanted.as_ref().is_none_or(|names| {
            names
                .iter()
                .any(|n| i.labels.iter().any(|l| l.eq_ignore_ascii_case(n)))
        })
    };
    let state_ok = |wanted: &Option<Vec<IssueState>>, i: &WorldIssue| {
        let s = if i.open {
            IssueState::Open
        } else {
            IssueState::Closed
        };
        wanted.as_ref().is_none_or(|w| w.contains(&s))
    };
    let page = env.with_world(|w| {
        let mut items: Vec<(Key, Arc<WorldIssue>)> = w
            .issues
            .range((repo_id, 0)..=(repo_id, u64::MAX))
            .map(|(_, i)| i)
            .filter(|i| any_of(&labels, i) && any_of(&filter.labels, i))
            .filter(|i| state_ok(&states, i) && state_ok(&filter.states, i))
            .filter(|i| filter.since.is_none_or(|s| i.updated_at >= s.0))
            .filter(|i| creator.is_none_or(|c| c == i.user_id))
            .map(|i| {
                let v = match field {
                    IssueOrderField::CreatedAt => i.created_at,
                    IssueOrderField::UpdatedAt => i.updated_at,
                    IssueOrderField::Comments => 0,
                };
                ((v, i.number), Arc::new(i.clone()))
            })
            .collect();
        items.sort_by_key(|(k, _)| *k);
        if desc {
            items.reverse();
        }
        paging::page(items, args, desc)
    })?;
    Ok(IssueConnection(page.map(|i| Issue {
        env: env.clone(),
        i,
    })))
}

/// The labels named, in the order they were added, as a connection.
pub fn labels_of(
    env: &Arc<Env>,
    repo_id: u64,
    names: &[String],
    args: &PageArgs,
) -> Result<LabelConnection> {
    let items = env.with_world(|w| {
        names
            .iter()
            .enumerate()
            .filter_map(|(n, name)| {
                let l = w.labels.get(&(repo_id, name.to_lowercase()))?;
                Some(((n as i64, l.id), Label(Arc::new(l.clone()), env.clone())))
            })
            .collect()
    });
    Ok(LabelConnection(paging::page(items, args, false)?))
}

#[derive(Clone)]
pub struct Issue {
    env: Arc<Env>,
    i: Arc<WorldIssue>,
}

impl Issue {
    /// `node(id:)`: an issue of a repository the caller can see.
    pub fn by_id(env: &Arc<Env>, id: u64) -> Option<Issue> {
        let i = env.with_world(|w| w.issues.values().find(|i| i.id == id).cloned())?;
        env.repo(i.repo_id)?;
        Some(Issue {
            env: env.clone(),
            i: Arc::new(i),
        })
    }

    /// `Repository.issue(number:)`: the issue of that number (a pull request's number is not
    /// an issue's, as on GitHub).
    pub fn by_number(env: &Arc<Env>, repo_id: u64, number: u64) -> Option<Issue> {
        let i = env.with_world(|w| w.issue(repo_id, number).ok().cloned())?;
        Some(Issue {
            env: env.clone(),
            i: Arc::new(i),
        })
    }

    fn path(&self) -> String {
        let repo = &self.env.repos[&self.i.repo_id];
        format!(
            "/{}/{}/issues/{}",
            self.env.org.login, repo.name, self.i.number
        )
    }
}

#[Object]
impl Issue {
    pub async fn id(&self) -> ID {
        ID(node_id("Issue", self.i.id))
    }

    #[graphql(
        deprecation = "`databaseId` will be removed because it does not support 64-bit signed integer identifiers. Use `fullDatabaseId` instead. Removal on 2024-07-01 UTC."
    )]
    async fn database_id(&self) -> Result<Option<i32>> {
        int32_id(self.i.id)
    }

    async fn full_database_id(&self) -> Option<BigInt> {
        Some(BigInt::of(self.i.id))
    }

    async fn number(&self) -> u64 {
        self.i.number
    }

    async fn title(&self) -> &str {
        &self.i.title
    }

    async fn body(&self) -> &str {
        &self.i.body
    }

    async fn state(&self) -> IssueState {
        if self.i.open {
            IssueState::Open
        } else {
            IssueState::Closed
        }
    }

    async fn state_reason(&self) -> Option<IssueStateReason> {
        match self.i.state_reason.as_deref()? {
            "completed" => Some(IssueStateReason::Completed),
            "not_planned" => Some(IssueStateReason::NotPlanned),
            "reopened" => Some(IssueStateReason::Reopened),
            _ => None,
        }
    }

    async fn closed(&self) -> bool {
        !self.i.open
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.i.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.i.updated_at)
    }

    async fn closed_at(&self) -> Option<DateTime> {
        self.i.closed_at.map(DateTime)
    }

    async fn author(&self) -> Option<Actor> {
        Actor::new(&self.env, self.i.user_id)
    }

    async fn url(&self) -> Uri {
        Uri(format!("{}{}", self.env.web(), self.path()))
    }

    async fn resource_path(&self) -> Uri {
        Uri(self.path())
    }

    async fn repository(&self) -> Result<Repository> {
        self.env
            .repo(self.i.repo_id)
            .map(|_| Repository::new(&self.env, self.i.repo_id))
            .ok_or_else(|| not_found("The repository is gone.".into()))
    }

    async fn labels(
        &self,
        order_by: Option<LabelOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<LabelConnection>> {
        let _ = order_by;
        let args = PageArgs::new(first, after, last, before);
        labels_of(&self.env, self.i.repo_id, &self.i.labels, &args).map(Some)
    }
}

/// A repository's label.
#[derive(Clone)]
pub struct Label(Arc<WorldLabel>, Arc<Env>);

#[Object]
impl Label {
    async fn id(&self) -> ID {
        ID(node_id("Label", self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn color(&self) -> &str {
        &self.0.color
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn is_default(&self) -> bool {
        false
    }

    async fn created_at(&self) -> Option<DateTime> {
        Some(DateTime(self.0.created_at))
    }

    async fn url(&self) -> Uri {
        let repo = &self.1.repos[&self.0.repo_id];
        Uri(format!(
            "{}/{}/{}/labels/{}",
            self.1.web(),
            self.1.org.login,
            repo.name,
            self.0.name
        ))
    }
}
