//! The receiver's index of hook ids, repositories and organizations to teams, with each team's
//! secrets as keyed HMAC states. It is rebuilt when `Connector::hooks_generation` moves
//! (rotation, connect, disconnect, a hook created) and at most every `REFRESH` otherwise
//! (untracking a repository, deleting a team and a rotation's grace ending move no
//! generation), one rebuild at a time and off the runtime's workers. A delivery the index does
//! not know is answered from it as it is: a miss rebuilds nothing and decrypts nothing
//! (issue 15: each miss used to rebuild it, decrypting every team's secret under a lock).

use super::parse::{unverified_organization_id, unverified_repository_id};
use super::verify::{KeyedMac, keyed};
use crate::context::Context;
use crate::store::{Provider, TeamId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest an index is used without a rebuild.
const REFRESH: Duration = Duration::from_secs(5);

/// Who a delivery is for, and the keyed HMACs of that team's secrets (the current one, and the
/// previous one during a rotation's grace period).
#[derive(Clone)]
pub struct Owner {
    pub team: TeamId,
    /// None for the team's organization hook.
    pub repo: Option<u64>,
    pub macs: Arc<[KeyedMac]>,
}

/// What the headers say about a delivery's owner.
pub enum Lookup {
    Found(Owner),
    /// No team (or more than one) has what the headers name: refused before the body.
    Unknown,
    /// The headers name nothing we can look up: only the body can say.
    FromBody,
}

/// What `X-GitHub-Hook-Installation-Target-Type` and `-ID` name: where the hook was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Repository(u64),
    Organization(u64),
    /// A kind of hook tidemark never creates (an app's, a business's, a listing's).
    Other,
}

impl Target {
    /// From the two headers' values; None when either is missing.
    pub fn from_headers(kind: &str, id: &str) -> Option<Target> {
        if kind.is_empty() || id.is_empty() {
            return None;
        }
        let Ok(id) = id.parse::<u64>() else {
            return Some(Target::Other);
        };
        Some(match kind {
            "repository" => Target::Repository(id),
            "organization" => Target::Organization(id),
            _ => Target::Other,
        })
    }
}

#[derive(Default)]
pub struct HookIndex {
    built: Option<Instant>,
    /// `Connector::hooks_generation` when built.
    generation: u64,
    /// Hook id → (team, repository; None for the team's organization hook).
    hooks: HashMap<u64, (TeamId, Option<u64>)>,
    repos: HashMap<u64, Vec<TeamId>>,
    /// Organization id → the teams connected to it.
    orgs: HashMap<u64, Vec<TeamId>>,
    macs: HashMap<TeamId, Arc<[KeyedMac]>>,
}

impl HookIndex {
    fn fresh(&self, generation: u64) -> bool {
        self.generation == generation && self.built.is_some_and(|t| t.elapsed() < REFRESH)
    }

    fn owner(&self, team: TeamId, repo: Option<u64>) -> Option<Owner> {
        // A team whose secret does not decrypt has no entry: its deliveries are refused.
        let macs = self.macs.get(&team)?.clone();
        Some(Owner { team, repo, macs })
    }

    /// The team that has it: the one the hook's URL names, if it is among them (several teams
    /// may track one repository, each with a hook of its own); else the only one.
    fn pick(teams: Option<&Vec<TeamId>>, named: Option<TeamId>) -> Option<TeamId> {
        let teams = teams?;
        match named {
            Some(t) => teams.contains(&t).then_some(t),
            None => (teams.len() == 1).then(|| teams[0]),
        }
    }

    /// By hook id; else (GitHub pings a new hook before we have stored its id) by the
    /// repository or organization the hook was created on: the team the hook's URL names
    /// (`named`, from its path), or without one the only team that has it. A hook id stored
    /// for another team than the URL names is refused.
    pub fn by_headers(
        &self,
        hook_id: Option<u64>,
        target: Option<Target>,
        named: Option<TeamId>,
    ) -> Lookup {
        if let Some(&(team, repo)) = hook_id.and_then(|h| self.hooks.get(&h)) {
            if named.is_some_and(|n| n != team) {
                return Lookup::Unknown;
            }
            return self
                .owner(team, repo)
                .map_or(Lookup::Unknown, Lookup::Found);
        }
        let found = match target {
            None => return Lookup::FromBody,
            Some(Target::Other) => None,
            Some(Target::Repository(repo)) => {
                Self::pick(self.repos.get(&repo), named).and_then(|t| self.owner(t, Some(repo)))
            }
            Some(Target::Organization(org)) => {
                Self::pick(self.orgs.get(&org), named).and_then(|t| self.owner(t, None))
            }
        };
        found.map_or(Lookup::Unknown, Lookup::Found)
    }

    /// For a delivery without the target headers: the repository the body names (its id only;
    /// nothing else is read), or for a body with no repository its organization. The signature
    /// is still checked with that team's secret.
    pub fn by_body(&self, body: &[u8], named: Option<TeamId>) -> Option<Owner> {
        if let Some(repo) = unverified_repository_id(body) {
            return Self::pick(self.repos.get(&repo), named)
                .and_then(|t| self.owner(t, Some(repo)));
        }
        let org = unverified_organization_id(body)?;
        Self::pick(self.orgs.get(&org), named).and_then(|t| self.owner(t, None))
    }
}

/// The current index, and the one rebuild at a time.
#[derive(Default)]
pub struct Hooks {
    current: Mutex<Arc<HookIndex>>,
    rebuilding: tokio::sync::Mutex<()>,
}

impl Hooks {
    fn current(&self) -> Arc<HookIndex> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The index, rebuilt first if the hooks' generation moved or it is older than `REFRESH`.
    /// Deliveries that arrive during a rebuild wait for it rather than starting another.
    pub async fn get(&self, ctx: &Arc<Context>) -> Arc<HookIndex> {
        let idx = self.current();
        if idx.fresh(ctx.bus.hooks_generation()) {
            return idx;
        }
        let _one = self.rebuilding.lock().await;
        let idx = self.current();
        if idx.fresh(ctx.bus.hooks_generation()) {
            return idx;
        }
        let s = ctx.clone();
        match tokio::task::spawn_blocking(move || build(&s)).await {
            Ok(built) => {
                let built = Arc::new(built);
                *self
                    .current
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = built.clone();
                built
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook hook index not rebuilt");
                idx
            }
        }
    }
}

fn build(ctx: &Context) -> HookIndex {
    let started = Instant::now();
    let mut idx = HookIndex {
        built: Some(started),
        generation: ctx.bus.hooks_generation(),
        ..HookIndex::default()
    };
    let Ok(teams) = ctx.store.teams() else {
        return idx;
    };
    for team in teams {
        let Ok(Some(g)) = ctx.store.github_integration(team.id) else {
            continue;
        };
        if ctx
            .store
            .credential(team.id, Provider::Github)
            .ok()
            .flatten()
            .is_none()
        {
            continue;
        }
        match ctx.store.webhook_secret(&ctx.keyring, &g) {
            Ok(secret) => {
                let mut macs = vec![keyed(secret.expose().as_bytes())];
                if let Ok(Some(previous)) = ctx.store.previous_webhook_secret(&ctx.keyring, team.id)
                {
                    macs.push(keyed(previous.expose().as_bytes()));
                }
                idx.macs.insert(team.id, macs.into());
            }
            Err(e) => {
                tracing::error!(team = team.id, error = %e, "webhook secret unreadable; its deliveries are refused");
                continue;
            }
        }
        for r in ctx.store.tracked_repos(team.id).unwrap_or_default() {
            if let Some(h) = r.webhook_id {
                idx.hooks.insert(h, (team.id, Some(r.github_repo_id)));
            }
            idx.repos.entry(r.github_repo_id).or_default().push(team.id);
        }
        if let Some((_, h)) = super::org_hook::live(ctx, team.id) {
            idx.hooks.insert(h, (team.id, None));
        }
        idx.orgs.entry(g.organization_id).or_default().push(team.id);
    }
    tracing::debug!(
        teams = idx.macs.len(),
        hooks = idx.hooks.len(),
        took_us = started.elapsed().as_micros() as u64,
        "webhook hook index built"
    );
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> HookIndex {
        let mut idx = HookIndex::default();
        idx.hooks.insert(77, (1, Some(500)));
        idx.hooks.insert(88, (2, None));
        idx.repos.insert(500, vec![1]);
        idx.repos.insert(600, vec![1, 2]);
        idx.orgs.insert(9, vec![2]);
        idx.macs.insert(1, vec![keyed(b"one")].into());
        idx.macs.insert(2, vec![keyed(b"two")].into());
        idx
    }

    fn found(l: Lookup) -> Option<(TeamId, Option<u64>)> {
        match l {
            Lookup::Found(o) => Some((o.team, o.repo)),
            _ => None,
        }
    }

    #[test]
    fn owners_by_hook_id_then_by_where_the_hook_was_created() {
        let idx = index();
        let repo = |id| Some(Target::Repository(id));
        assert_eq!(
            found(idx.by_headers(Some(77), None, None)),
            Some((1, Some(500)))
        );
        assert_eq!(
            found(idx.by_headers(Some(88), repo(500), None)),
            Some((2, None))
        );
        // A hook id not stored yet: where it was created, when one team has that.
        assert_eq!(
            found(idx.by_headers(Some(4242), repo(500), None)),
            Some((1, Some(500)))
        );
        assert_eq!(
            found(idx.by_headers(None, Some(Target::Organization(9)), None)),
            Some((2, None))
        );
        for unknown in [repo(600), repo(601), Some(Target::Organization(10))] {
            assert!(matches!(
                idx.by_headers(Some(4242), unknown, None),
                Lookup::Unknown
            ));
        }
        assert!(matches!(
            idx.by_headers(Some(4242), Some(Target::Other), None),
            Lookup::Unknown
        ));
        assert!(matches!(
            idx.by_headers(Some(4242), None, None),
            Lookup::FromBody
        ));
    }

    #[test]
    fn a_team_without_a_readable_secret_owns_nothing() {
        let mut idx = index();
        idx.macs.remove(&1);
        assert!(matches!(
            idx.by_headers(Some(77), None, None),
            Lookup::Unknown
        ));
        assert!(idx.by_body(br#"{"repository":{"id":500}}"#, None).is_none());
    }

    #[test]
    fn owners_by_body() {
        let idx = index();
        let o = idx.by_body(br#"{"repository":{"id":500}}"#, None).unwrap();
        assert_eq!((o.team, o.repo), (1, Some(500)));
        let o = idx.by_body(br#"{"organization":{"id":9}}"#, None).unwrap();
        assert_eq!((o.team, o.repo), (2, None));
        assert!(idx.by_body(br#"{"repository":{"id":600}}"#, None).is_none());
        assert!(idx.by_body(b"not json", None).is_none());
    }

    /// Two teams track repository 600, each with a hook of its own whose URL names its team:
    /// a ping before either hook's id is stored goes to the team its URL names, and a stored
    /// hook id under another team's URL is refused.
    #[test]
    fn a_repository_two_teams_track_goes_to_the_team_the_url_names() {
        let idx = index();
        let repo = |id| Some(Target::Repository(id));
        assert_eq!(
            found(idx.by_headers(Some(4242), repo(600), Some(2))),
            Some((2, Some(600)))
        );
        assert_eq!(
            found(idx.by_headers(Some(4242), repo(600), Some(1))),
            Some((1, Some(600)))
        );
        // Without a team in the URL, ambiguous: refused.
        assert!(matches!(
            idx.by_headers(Some(4242), repo(600), None),
            Lookup::Unknown
        ));
        // A team that does not track it, named in the URL: refused.
        assert!(matches!(
            idx.by_headers(Some(4242), repo(500), Some(2)),
            Lookup::Unknown
        ));
        // Hook 77 is team 1's: under team 2's URL it is refused.
        assert!(matches!(
            idx.by_headers(Some(77), None, Some(2)),
            Lookup::Unknown
        ));
        assert_eq!(
            found(idx.by_headers(Some(77), None, Some(1))),
            Some((1, Some(500)))
        );
        let o = idx
            .by_body(br#"{"repository":{"id":600}}"#, Some(2))
            .unwrap();
        assert_eq!((o.team, o.repo), (2, Some(600)));
        assert!(idx.by_body(br#"{"repository":{"id":600}}"#, None).is_none());
    }

    #[test]
    fn target_headers() {
        assert_eq!(
            Target::from_headers("repository", "5"),
            Some(Target::Repository(5))
        );
        assert_eq!(
            Target::from_headers("organization", "9"),
            Some(Target::Organization(9))
        );
        assert_eq!(
            Target::from_headers("integration", "9"),
            Some(Target::Other)
        );
        assert_eq!(Target::from_headers("repository", "x"), Some(Target::Other));
        assert_eq!(Target::from_headers("", "5"), None);
        assert_eq!(Target::from_headers("repository", ""), None);
    }
}
