//! `Repository.deployments` and `Deployment` with its statuses, in GitHub's GraphQL shape.
//!
//! A deployment's `state` is derived as GitHub shows it: its latest status's, except that a
//! successful deployment is `ACTIVE` only while no later deployment to the same environment
//! has succeeded (then `INACTIVE`), and one without any status is `PENDING`. `databaseId` is a
//! 32-bit `Int`, and deployment ids are past 2^31: the field answers null with GitHub's error
//! (clients key deployments by node `id`). Statuses list newest first, as GitHub lists them.

use super::Env;
use super::accounts::Actor;
use super::commits::Commit;
use super::paging::{self, Key, PageArgs, connection};
use super::repository::{OrderDirection, Repository};
use super::schema::{DateTime, Uri, int32_id, not_found};
use crate::sim::json::node_id;
use crate::sim::world::{DeployState, Deployment as WorldDeployment, World};
use async_graphql::{Enum, ID, InputObject, Object, Result};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeploymentState {
    Abandoned,
    Active,
    Destroyed,
    Error,
    Failure,
    Inactive,
    Pending,
    Success,
    Queued,
    InProgress,
    Waiting,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeploymentStatusState {
    Pending,
    Success,
    Failure,
    Inactive,
    Error,
    Queued,
    InProgress,
    Waiting,
}

impl From<DeployState> for DeploymentStatusState {
    fn from(s: DeployState) -> Self {
        match s {
            DeployState::Pending => DeploymentStatusState::Pending,
            DeployState::Queued => DeploymentStatusState::Queued,
            DeployState::InProgress => DeploymentStatusState::InProgress,
            DeployState::Success => DeploymentStatusState::Success,
            DeployState::Failure => DeploymentStatusState::Failure,
            DeployState::Error => DeploymentStatusState::Error,
            DeployState::Inactive => DeploymentStatusState::Inactive,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeploymentOrderField {
    CreatedAt,
}

#[derive(InputObject, Clone, Copy)]
pub struct DeploymentOrder {
    pub field: DeploymentOrderField,
    pub direction: OrderDirection,
}

connection!(DeploymentConnection, DeploymentEdge, Deployment);
connection!(
    DeploymentStatusConnection,
    DeploymentStatusEdge,
    DeploymentStatus
);

/// The state GitHub shows for `d` in `w` (see the module's comment).
pub fn state_of(w: &World, d: &WorldDeployment) -> DeploymentState {
    let Some(latest) = d.statuses.last() else {
        return DeploymentState::Pending;
    };
    match latest.state {
        DeployState::Success => {
            let superseded = w.repo_deployments(d.repo_id).any(|o| {
                (o.created_at, o.id) > (d.created_at, d.id)
                    && o.environment() == d.environment()
                    && o.statuses
                        .last()
                        .is_some_and(|s| s.state == DeployState::Success)
            });
            if superseded {
                DeploymentState::Inactive
            } else {
                DeploymentState::Active
            }
        }
        DeployState::Pending => DeploymentState::Pending,
        DeployState::Queued => DeploymentState::Queued,
        DeployState::InProgress => DeploymentState::InProgress,
        DeployState::Failure => DeploymentState::Failure,
        DeployState::Error => DeploymentState::Error,
        DeployState::Inactive => DeploymentState::Inactive,
    }
}

/// One page of a repository's deployments (oldest first unless `orderBy` says otherwise).
pub fn deployments(
    env: &Arc<Env>,
    repo_id: u64,
    environments: Option<Vec<String>>,
    order_by: Option<DeploymentOrder>,
    args: &PageArgs,
) -> Result<DeploymentConnection> {
    let desc = order_by.is_some_and(|o| o.direction == OrderDirection::Desc);
    let page = env.with_world(|w| {
        let mut items: Vec<(Key, Arc<Snapshot>)> = w
            .repo_deployments(repo_id)
            .filter(|d| {
                environments
                    .as_ref()
                    .is_none_or(|e| e.iter().any(|e| e == d.environment()))
            })
            .map(|d| {
                let snap = Snapshot {
                    d: d.clone(),
                    state: state_of(w, d),
                };
                ((d.created_at, d.id), Arc::new(snap))
            })
            .collect();
        items.sort_by_key(|(k, _)| *k);
        if desc {
            items.reverse();
        }
        paging::page(items, args, desc)
    })?;
    Ok(DeploymentConnection(page.map(|s| Deployment {
        env: env.clone(),
        s,
    })))
}

/// A deployment as it was when its page was cut, with its derived state.
pub struct Snapshot {
    d: WorldDeployment,
    state: DeploymentState,
}

#[derive(Clone)]
pub struct Deployment {
    env: Arc<Env>,
    s: Arc<Snapshot>,
}

impl Deployment {
    /// `node(id:)`: a deployment of a repository the caller can see.
    pub fn by_id(env: &Arc<Env>, id: u64) -> Option<Deployment> {
        let s = env.with_world(|w| {
            let d = w.deployments.get(&id)?;
            Some(Snapshot {
                d: d.clone(),
                state: state_of(w, d),
            })
        })?;
        env.repo(s.d.repo_id)?;
        Some(Deployment {
            env: env.clone(),
            s: Arc::new(s),
        })
    }

    fn d(&self) -> &WorldDeployment {
        &self.s.d
    }
}

#[Object]
impl Deployment {
    pub async fn id(&self) -> ID {
        ID(node_id("Deployment", self.d().id))
    }

    async fn database_id(&self) -> Result<Option<i32>> {
        int32_id(self.d().id)
    }

    async fn commit_oid(&self) -> &str {
        &self.d().sha
    }

    async fn commit(&self) -> Option<Commit> {
        Commit::in_repo(&self.env, self.d().repo_id, &self.d().sha)
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.d().created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.d().updated_at)
    }

    async fn creator(&self) -> Result<Actor> {
        Actor::new(&self.env, self.d().creator_id)
            .ok_or_else(|| not_found("The creator is gone.".into()))
    }

    async fn description(&self) -> Option<&str> {
        Some(self.d().description.as_str()).filter(|d| !d.is_empty())
    }

    /// The latest environment to which this deployment was made.
    async fn environment(&self) -> Option<&str> {
        Some(self.d().environment())
    }

    async fn latest_environment(&self) -> Option<&str> {
        Some(self.d().environment())
    }

    async fn original_environment(&self) -> Option<&str> {
        Some(&self.d().original_environment)
    }

    async fn payload(&self) -> Option<&str> {
        Some("{}")
    }

    async fn state(&self) -> Option<DeploymentState> {
        Some(self.s.state)
    }

    async fn task(&self) -> Option<&str> {
        Some(&self.d().task)
    }

    async fn repository(&self) -> Result<Repository> {
        self.env
            .repo(self.d().repo_id)
            .map(|_| Repository::new(&self.env, self.d().repo_id))
            .ok_or_else(|| not_found("The repository is gone.".into()))
    }

    async fn latest_status(&self) -> Option<DeploymentStatus> {
        let i = self.d().statuses.len().checked_sub(1)?;
        Some(DeploymentStatus {
            env: self.env.clone(),
            s: self.s.clone(),
            i,
        })
    }

    /// The statuses, newest first.
    async fn statuses(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<DeploymentStatusConnection>> {
        let items = (0..self.d().statuses.len())
            .rev()
            .map(|i| {
                let st = &self.d().statuses[i];
                (
                    (st.created_at, st.id),
                    DeploymentStatus {
                        env: self.env.clone(),
                        s: self.s.clone(),
                        i,
                    },
                )
            })
            .collect();
        let page = paging::page(items, &PageArgs::new(first, after, last, before), true)?;
        Ok(Some(DeploymentStatusConnection(page)))
    }
}

/// A status; `i` indexes its deployment's statuses (oldest first).
#[derive(Clone)]
pub struct DeploymentStatus {
    env: Arc<Env>,
    s: Arc<Snapshot>,
    i: usize,
}

#[Object]
impl DeploymentStatus {
    async fn id(&self) -> ID {
        ID(node_id("DeploymentStatus", self.s.d.statuses[self.i].id))
    }

    async fn state(&self) -> DeploymentStatusState {
        self.s.d.statuses[self.i].state.into()
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.s.d.statuses[self.i].created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.s.d.statuses[self.i].created_at)
    }

    async fn environment(&self) -> Option<&str> {
        Some(&self.s.d.statuses[self.i].environment)
    }

    async fn description(&self) -> Option<&str> {
        Some(self.s.d.statuses[self.i].description.as_str()).filter(|d| !d.is_empty())
    }

    async fn log_url(&self) -> Option<Uri> {
        None
    }

    async fn environment_url(&self) -> Option<Uri> {
        None
    }

    async fn creator(&self) -> Result<Actor> {
        Actor::new(&self.env, self.s.d.statuses[self.i].creator_id)
            .ok_or_else(|| not_found("The creator is gone.".into()))
    }

    async fn deployment(&self) -> Deployment {
        Deployment {
            env: self.env.clone(),
            s: self.s.clone(),
        }
    }
}
