//! Simulated activity for demos: a team at work, one change every few seconds (open, push,
//! review, mark ready, merge, close), each sending its webhooks like any control-API change.

use super::Shared;
use super::clock::now;
use super::world::{NewPull, ReviewState, World, WorldError, WorldResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Stops the activity when dropped.
pub struct Activity {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Make one change every `every`, from a thread of its own.
pub fn start(shared: Arc<Shared>, every: Duration, seed: u64) -> Activity {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("sim-activity".into())
        .spawn(move || {
            let mut rng = StdRng::seed_from_u64(seed);
            // A stream of its own, so the pull requests' activity stays what it was.
            let mut deploys = StdRng::seed_from_u64(seed ^ 0xde11_7e27);
            while !flag.load(Ordering::SeqCst) {
                std::thread::park_timeout(every);
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let events = {
                    let mut w = shared.world_mut();
                    let mut events = step(&mut w, &mut rng, now());
                    if let Ok(ev) = &mut events {
                        ev.extend(deploy_step(&mut w, &mut deploys, now()));
                    }
                    events
                };
                if let Ok(events) = events {
                    shared.emit(events);
                }
            }
        })
        .expect("spawn the activity thread");
    Activity {
        stop,
        thread: Some(thread),
    }
}

/// One plausible change to the org, chosen at random.
pub fn step(w: &mut World, rng: &mut StdRng, at: i64) -> WorldResult<Vec<super::world::Event>> {
    let people: Vec<String> = w
        .members
        .keys()
        .map(|id| w.account(*id).login.clone())
        .collect();
    let repos: Vec<u64> = w
        .repos
        .values()
        .filter(|r| !r.archived)
        .map(|r| r.id)
        .collect();
    if people.len() < 2 || repos.is_empty() {
        return Err(WorldError::Invalid(
            "the org is too small for activity".into(),
        ));
    }
    let repo = repos[rng.random_range(0..repos.len())];
    let open: Vec<(u64, bool, String)> = w
        .repo_pulls(repo)
        .filter(|p| p.open)
        .map(|p| (p.number, p.draft, w.account(p.user_id).login.clone()))
        .collect();
    let pick = |rng: &mut StdRng, not: &str| loop {
        let p = &people[rng.random_range(0..people.len())];
        if p != not {
            break p.clone();
        }
    };
    if open.is_empty() || rng.random_range(0..10) < 3 {
        let spec = NewPull {
            author: people[rng.random_range(0..people.len())].clone(),
            title: format!("Live change #{}", rng.random_range(100..999)),
            body: "Opened by the simulator's activity.".into(),
            draft: rng.random_bool(0.2),
            commits: rng.random_range(1..5),
        };
        return w.open_pull(repo, spec, at).map(|(_, ev)| ev);
    }
    let (number, draft, author) = open[rng.random_range(0..open.len())].clone();
    if draft {
        return w.set_draft(repo, number, false, at);
    }
    match rng.random_range(0..10) {
        0..4 => {
            let state = match rng.random_range(0..3) {
                0 => ReviewState::ChangesRequested,
                1 => ReviewState::Commented,
                _ => ReviewState::Approved,
            };
            let reviewer = pick(rng, &author);
            w.submit_review(repo, number, &reviewer, state, "", at)
                .map(|(_, ev)| ev)
        }
        4..6 => w.push_commits(repo, number, rng.random_range(1..3), None, at),
        6..9 => {
            let by = pick(rng, &author);
            w.merge_pull(repo, number, &by, at)
        }
        _ => w.close_pull(repo, number, at),
    }
}

/// For an org that deploys (one generated with `delivery`): now and then a production
/// deployment of a repository that deploys, at its default branch's head, that succeeds (or,
/// one time in five, fails).
pub fn deploy_step(w: &mut World, rng: &mut StdRng, at: i64) -> Vec<super::world::Event> {
    use super::world::{DeployState, NewDeployment};
    let Some(repo) = w.deployments.values().next().map(|d| d.repo_id) else {
        return Vec::new();
    };
    if rng.random_range(0..6) != 0 {
        return Vec::new();
    }
    let spec = NewDeployment {
        environment: "production".into(),
        ..NewDeployment::default()
    };
    let Ok((id, mut events)) = w.create_deployment(repo, spec, at) else {
        return Vec::new();
    };
    let state = if rng.random_range(0..5) == 0 {
        DeployState::Failure
    } else {
        DeployState::Success
    };
    if let Ok((_, ev)) = w.add_deployment_status(repo, id, state, None, "", None, at) {
        events.extend(ev);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{OrgSpec, generate};

    #[test]
    fn activity_changes_the_org_with_events_and_keeps_it_consistent() {
        let mut w = generate(&OrgSpec {
            repos: 2,
            prs_per_repo: 5,
            now: 1_760_000_000,
            ..OrgSpec::default()
        });
        let before = w.pulls.clone();
        let mut rng = StdRng::seed_from_u64(3);
        let mut events = 0;
        for i in 0..200 {
            if let Ok(ev) = step(&mut w, &mut rng, 1_760_000_000 + i * 60) {
                events += ev.len();
            }
        }
        assert!(events > 100, "{events} events");
        assert_ne!(w.pulls, before);
        for p in w.pulls.values() {
            assert_eq!(p.open, p.closed_at.is_none());
            assert!(!(p.draft && p.merged()));
        }
    }
}
