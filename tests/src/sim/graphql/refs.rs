//! Git references and releases: `Ref` (a branch or a tag) with its `target` (`GitObject`: a
//! `Commit`, or for an annotated tag its `Tag` object), `Repository.refs`, and `Release` with
//! `Repository.releases`.
//!
//! Refs order alphabetically unless asked for `TAG_COMMIT_DATE` (the date of the commit a tag
//! names, as GitHub orders them); branches are the default branch and open pull requests'
//! heads. `Release.databaseId` is a 32-bit `Int`; release ids are still below 2^31.

use super::Env;
use super::accounts::User;
use super::commits::{Commit, GitActor};
use super::paging::{self, Key, PageArgs, connection};
use super::repository::{OrderDirection, Repository};
use super::schema::{DateTime, GitObjectId, Uri, int32_id, not_found};
use crate::sim::json::node_id;
use crate::sim::world::{Release as WorldRelease, Tag as WorldTag, World};
use async_graphql::{Enum, ID, InputObject, Interface, Object, Result};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RefOrderField {
    TagCommitDate,
    Alphabetical,
}

#[derive(InputObject, Clone, Copy)]
pub struct RefOrder {
    pub field: RefOrderField,
    pub direction: OrderDirection,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReleaseOrderField {
    CreatedAt,
    Name,
}

#[derive(InputObject, Clone, Copy)]
pub struct ReleaseOrder {
    pub field: ReleaseOrderField,
    pub direction: OrderDirection,
}

/// A Git object a ref can name.
#[derive(Interface, Clone)]
#[graphql(
    field(name = "id", ty = "ID"),
    field(name = "oid", ty = "GitObjectId"),
    field(name = "abbreviated_oid", ty = "String")
)]
pub enum GitObject {
    Commit(Commit),
    Tag(Tag),
}

/// What a ref is: a branch with its head, or a tag.
#[derive(Clone)]
enum RefKind {
    Branch(String),
    Tag(WorldTag),
}

/// A Git reference: `refs/heads/NAME` or `refs/tags/NAME`.
#[derive(Clone)]
pub struct Ref {
    env: Arc<Env>,
    repo_id: u64,
    name: String,
    kind: RefKind,
}

impl Ref {
    /// The repository's default branch at its head.
    pub fn default_branch(env: &Arc<Env>, repo_id: u64) -> Ref {
        let name = env.repos[&repo_id].default_branch.clone();
        let head = env.with_world(|w| w.history(repo_id).map(|h| h.head().to_string()));
        Ref {
            env: env.clone(),
            repo_id,
            name,
            kind: RefKind::Branch(head.unwrap_or_default()),
        }
    }

    fn ref_prefix(&self) -> &'static str {
        match self.kind {
            RefKind::Branch(_) => "refs/heads/",
            RefKind::Tag(_) => "refs/tags/",
        }
    }
}

#[Object]
impl Ref {
    async fn id(&self) -> ID {
        use base64::Engine;
        let raw = format!("Ref:{}:{}{}", self.repo_id, self.ref_prefix(), self.name);
        ID(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    async fn name(&self) -> &str {
        &self.name
    }

    async fn prefix(&self) -> &'static str {
        self.ref_prefix()
    }

    async fn repository(&self) -> Repository {
        Repository::new(&self.env, self.repo_id)
    }

    /// The object the ref points to (null when it is not known).
    async fn target(&self) -> Option<GitObject> {
        match &self.kind {
            RefKind::Branch(sha) => Commit::in_repo(&self.env, self.repo_id, sha).map(Into::into),
            RefKind::Tag(t) if t.annotated.is_some() => Some(GitObject::Tag(Tag {
                env: self.env.clone(),
                t: t.clone(),
            })),
            RefKind::Tag(t) => {
                Commit::in_repo(&self.env, self.repo_id, &t.commit_sha).map(Into::into)
            }
        }
    }
}

connection!(RefConnection, RefEdge, Ref);

/// The date a tag's commit was committed (what `TAG_COMMIT_DATE` orders by).
fn commit_date(w: &World, repo_id: u64, sha: &str) -> i64 {
    if let Some(c) = w.history(repo_id).and_then(|h| h.get(sha)) {
        return c.commit.committed_at;
    }
    w.repo_pulls(repo_id)
        .flat_map(|p| &p.commits)
        .find(|c| c.sha == sha)
        .map_or(0, |c| c.committed_at)
}

/// One page of `refs(refPrefix: ...)`.
pub fn refs(
    env: &Arc<Env>,
    repo_id: u64,
    prefix: &str,
    query: Option<String>,
    order_by: Option<RefOrder>,
    direction: Option<OrderDirection>,
    args: &PageArgs,
) -> Result<RefConnection> {
    let by_date = order_by.is_some_and(|o| o.field == RefOrderField::TagCommitDate);
    let desc = order_by.map(|o| o.direction).or(direction) == Some(OrderDirection::Desc);
    let page = env.with_world(|w| {
        let mut items: Vec<((), String, RefKind, i64)> = Vec::new();
        match prefix {
            "refs/tags/" => {
                for t in w.tags.range((repo_id, String::new())..).map(|(_, t)| t) {
                    if t.repo_id != repo_id {
                        break;
                    }
                    let date = commit_date(w, repo_id, &t.commit_sha);
                    items.push(((), t.name.clone(), RefKind::Tag(t.clone()), date));
                }
            }
            "refs/heads/" => {
                let repo = &env.repos[&repo_id];
                let head = w.history(repo_id).map(|h| h.head().to_string());
                items.push((
                    (),
                    repo.default_branch.clone(),
                    RefKind::Branch(head.unwrap_or_default()),
                    0,
                ));
                for p in w.repo_pulls(repo_id).filter(|p| p.open) {
                    items.push(((), p.head_ref.clone(), RefKind::Branch(p.head_sha()), 0));
                }
            }
            _ => {}
        }
        if let Some(q) = &query {
            items.retain(|(_, name, _, _)| name.contains(q.as_str()));
        }
        // Keys: the commit date (alphabetical order: 0) and the rank in that order; a cursor
        // keeps its place among refs added after it only by date.
        items.sort_by(|a, b| (by_date.then_some(a.3), &a.1).cmp(&(by_date.then_some(b.3), &b.1)));
        let mut keyed: Vec<(Key, (String, RefKind))> = items
            .into_iter()
            .enumerate()
            .map(|(i, (_, name, kind, date))| {
                ((if by_date { date } else { 0 }, i as u64), (name, kind))
            })
            .collect();
        if desc {
            keyed.reverse();
        }
        paging::page(keyed, args, desc)
    })?;
    Ok(RefConnection(page.map(|(name, kind)| Ref {
        env: env.clone(),
        repo_id,
        name,
        kind,
    })))
}

/// An annotated tag's object.
#[derive(Clone)]
pub struct Tag {
    env: Arc<Env>,
    t: WorldTag,
}

impl Tag {
    fn sha(&self) -> &str {
        self.t.annotated.as_ref().map_or("", |a| a.sha.as_str())
    }
}

#[Object]
impl Tag {
    pub async fn id(&self) -> ID {
        ID(node_id(
            "Tag",
            u64::from_str_radix(self.sha().get(..12).unwrap_or("0"), 16).unwrap_or(0),
        ))
    }

    pub async fn oid(&self) -> GitObjectId {
        GitObjectId(self.sha().to_string())
    }

    pub async fn abbreviated_oid(&self) -> String {
        self.sha().chars().take(7).collect()
    }

    async fn name(&self) -> &str {
        &self.t.name
    }

    async fn message(&self) -> Option<&str> {
        self.t.annotated.as_ref().map(|a| a.message.as_str())
    }

    async fn tagger(&self) -> Option<GitActor> {
        let a = self.t.annotated.as_ref()?;
        GitActor::account(&self.env, a.tagger_id, a.tagged_at)
    }

    async fn target(&self) -> Result<GitObject> {
        Commit::in_repo(&self.env, self.t.repo_id, &self.t.commit_sha)
            .map(Into::into)
            .ok_or_else(|| not_found("The tagged commit is gone.".into()))
    }

    async fn repository(&self) -> Repository {
        Repository::new(&self.env, self.t.repo_id)
    }
}

connection!(ReleaseConnection, ReleaseEdge, Release);

impl ReleaseConnection {
    /// Of a page newest first: the first published release that is not a prerelease.
    pub fn latest(self) -> Option<Release> {
        self.0
            .nodes
            .into_iter()
            .find(|r| !r.r.draft && !r.r.prerelease)
    }
}

/// One page of a repository's releases (drafts only for those who may push, which in the
/// simulator is every member: they are listed).
pub fn releases(
    env: &Arc<Env>,
    repo_id: u64,
    order_by: Option<ReleaseOrder>,
    args: &PageArgs,
) -> Result<ReleaseConnection> {
    let (field, dir) = order_by.map_or((ReleaseOrderField::CreatedAt, OrderDirection::Desc), |o| {
        (o.field, o.direction)
    });
    let desc = dir == OrderDirection::Desc;
    let page = env.with_world(|w| {
        let mut items: Vec<(&WorldRelease, String)> = w
            .releases
            .values()
            .filter(|r| r.repo_id == repo_id)
            .map(|r| (r, r.name.clone()))
            .collect();
        match field {
            ReleaseOrderField::CreatedAt => items.sort_by_key(|(r, _)| (r.created_at, r.id)),
            ReleaseOrderField::Name => items.sort_by(|a, b| (&a.1, a.0.id).cmp(&(&b.1, b.0.id))),
        }
        let mut keyed: Vec<(Key, Arc<WorldRelease>)> = items
            .into_iter()
            .enumerate()
            .map(|(i, (r, _))| {
                let k = match field {
                    ReleaseOrderField::CreatedAt => (r.created_at, r.id),
                    ReleaseOrderField::Name => (i as i64, r.id),
                };
                (k, Arc::new(r.clone()))
            })
            .collect();
        if desc {
            keyed.reverse();
        }
        paging::page(keyed, args, desc)
    })?;
    Ok(ReleaseConnection(page.map(|r| Release {
        env: env.clone(),
        r,
    })))
}

#[derive(Clone)]
pub struct Release {
    env: Arc<Env>,
    r: Arc<WorldRelease>,
}

impl Release {
    /// `node(id:)`: a release of a repository the caller can see.
    pub fn by_id(env: &Arc<Env>, id: u64) -> Option<Release> {
        let r = env.with_world(|w| w.releases.get(&id).cloned())?;
        env.repo(r.repo_id)?;
        Some(Release {
            env: env.clone(),
            r: Arc::new(r),
        })
    }

    fn path(&self) -> String {
        let repo = &self.env.repos[&self.r.repo_id];
        format!(
            "/{}/{}/releases/tag/{}",
            self.env.org.login, repo.name, self.r.tag_name
        )
    }

    fn world_tag(&self) -> Option<WorldTag> {
        self.env.with_world(|w| {
            w.tags
                .get(&(self.r.repo_id, self.r.tag_name.clone()))
                .cloned()
        })
    }
}

#[Object]
impl Release {
    pub async fn id(&self) -> ID {
        ID(node_id("Release", self.r.id))
    }

    async fn database_id(&self) -> Result<Option<i32>> {
        int32_id(self.r.id)
    }

    async fn tag_name(&self) -> &str {
        &self.r.tag_name
    }

    async fn name(&self) -> Option<&str> {
        Some(&self.r.name)
    }

    async fn description(&self) -> Option<&str> {
        Some(self.r.body.as_str()).filter(|b| !b.is_empty())
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.r.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.r.published_at.unwrap_or(self.r.created_at))
    }

    async fn published_at(&self) -> Option<DateTime> {
        self.r.published_at.map(DateTime)
    }

    async fn is_draft(&self) -> bool {
        self.r.draft
    }

    async fn is_prerelease(&self) -> bool {
        self.r.prerelease
    }

    /// The newest published, non-prerelease release of its repository.
    async fn is_latest(&self) -> bool {
        self.env.with_world(|w| {
            w.releases
                .values()
                .filter(|r| r.repo_id == self.r.repo_id && !r.draft && !r.prerelease)
                .max_by_key(|r| (r.created_at, r.id))
                .is_some_and(|r| r.id == self.r.id)
        })
    }

    async fn author(&self) -> Option<User> {
        let a = self.env.accounts.get(&self.r.author_id)?;
        (!a.is_bot).then(|| User::new(&self.env, a.id))
    }

    async fn tag(&self) -> Option<Ref> {
        let t = self.world_tag()?;
        Some(Ref {
            env: self.env.clone(),
            repo_id: self.r.repo_id,
            name: t.name.clone(),
            kind: RefKind::Tag(t),
        })
    }

    /// The commit the release's tag names.
    async fn tag_commit(&self) -> Option<Commit> {
        let t = self.world_tag()?;
        Commit::in_repo(&self.env, self.r.repo_id, &t.commit_sha)
    }

    async fn repository(&self) -> Repository {
        Repository::new(&self.env, self.r.repo_id)
    }

    async fn url(&self) -> Uri {
        Uri(format!("{}{}", self.env.web(), self.path()))
    }

    async fn resource_path(&self) -> Uri {
        Uri(self.path())
    }
}
