//! A deterministic organization from a seed: people (some with a public email), bots, repositories
//! (some archived, some private) and a year of pull requests in every state, with reviews and
//! commits shaped like a real team's.

use super::world::{
    Account, Commit, Org, OrgRole, Pull, Repo, Review, ReviewState, TimelineEvent, TimelineKind,
    World, sha_for,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

/// What to generate.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    pub seed: u64,
    pub org: String,
    pub members: usize,
    pub repos: usize,
    pub prs_per_repo: usize,
    /// The end of the generated year (Unix seconds); activity lies before it.
    pub now: i64,
    /// A team that deploys (`generate_delivery.rs`): deployments, workflow runs, releases,
    /// incidents, a revert, a hotfix, squash merges. Off by default, so existing tests and
    /// benchmarks keep their figures.
    pub delivery: bool,
}

impl Default for OrgSpec {
    fn default() -> Self {
        OrgSpec {
            seed: 1,
            org: "acme".into(),
            members: 12,
            repos: 6,
            prs_per_repo: 40,
            now: start_of_today(),
            delivery: false,
        }
    }
}

/// Midnight UTC today: generated history is stable within a day for a given seed.
pub fn start_of_today() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - now.rem_euclid(DAY)
}

const FIRST: &[&str] = &[
    "ada",
    "grace",
    "linus",
    "margaret",
    "ken",
    "barbara",
    "dennis",
    "frances",
    "alan",
    "radia",
    "edsger",
    "sophie",
    "tim",
    "hedy",
    "john",
    "katherine",
    "donald",
    "annie",
    "guido",
    "joan",
];
const LAST: &[&str] = &[
    "lovelace", "hopper", "torvalds", "hamilton", "thompson", "liskov", "ritchie", "allen",
    "turing", "perlman", "dijkstra", "wilson", "berners", "lamarr", "mccarthy", "johnson", "knuth",
    "easley", "rossum", "clarke",
];
const REPOS: &[&str] = &[
    "api",
    "web",
    "infra",
    "mobile",
    "docs",
    "billing",
    "search",
    "auth",
    "data-pipeline",
    "design-system",
    "cli",
    "notifications",
];
const BOTS: &[&str] = &["dependabot[bot]", "renovate[bot]", "github-actions[bot]"];
const TITLES: &[&str] = &[
    "Fix flaky retry in",
    "Add metrics to",
    "Refactor",
    "Speed up",
    "Document",
    "Handle errors in",
    "Bump dependencies of",
    "Remove dead code from",
    "Cache results of",
    "Validate input to",
];
const AREAS: &[&str] = &[
    "the login flow",
    "the sync worker",
    "billing export",
    "the search index",
    "rate limiting",
    "the settings page",
    "webhook handling",
    "the CLI parser",
    "the scheduler",
    "error pages",
];

/// Build the world for `spec`.
pub fn generate(spec: &OrgSpec) -> World {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut w = World::new();
    let year_ago = spec.now - 365 * DAY;
    let org_id = w.next_id(crate::sim::world::IdKind::Account);
    w.org = Some(Org {
        id: org_id,
        login: spec.org.clone(),
        name: format!("{} Inc.", capitalize(&spec.org)),
        created_at: year_ago - 400 * DAY,
    });

    // People: the first is the org admin who connects tidemark (the OAuth viewer).
    let mut people = Vec::new();
    for i in 0..spec.members.max(1) {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i * 7 + spec.seed as usize) % LAST.len()];
        let suffix = if i >= FIRST.len() {
            format!("{}", i / FIRST.len())
        } else {
            String::new()
        };
        let login = format!("{first}-{last}{suffix}");
        let email = (i % 3 != 2).then(|| format!("{first}.{last}{suffix}@{}.example", spec.org));
        let name = format!("{} {}", capitalize(first), capitalize(last));
        let id = w.add_account(
            &login,
            &name,
            email,
            year_ago - rng.random_range(30..900) * DAY,
        );
        let role = if i == 0 {
            OrgRole::Admin
        } else {
            OrgRole::Member
        };
        w.members.insert(id, role);
        people.push(id);
    }
    w.viewer_id = people[0];
    let bots: Vec<u64> = BOTS
        .iter()
        .map(|login| w.add_account(login, login, None, year_ago - 1_000 * DAY))
        .collect();

    for r in 0..spec.repos {
        let name = if r < REPOS.len() {
            REPOS[r].to_string()
        } else {
            format!("{}-{}", REPOS[r % REPOS.len()], r / REPOS.len())
        };
        let id = w.next_id(crate::sim::world::IdKind::Repo);
        let created = year_ago - rng.random_range(10..700) * DAY;
        w.repos.insert(
            id,
            Repo {
                id,
                name: name.clone(),
                description: format!("The {name} service"),
                private: r % 2 == 1,
                // One in five is archived: its history stays, nothing new happens there.
                archived: r % 5 == 4,
                default_branch: "main".into(),
                created_at: created,
                updated_at: created,
                pushed_at: created,
                next_number: 1,
            },
        );
        for n in 0..spec.prs_per_repo {
            let giant = (r == 0 || r == 2) && n == 7;
            let pull = gen_pull(&mut w, &mut rng, id, &people, &bots, spec.now, giant);
            let repo = w.repos.get_mut(&id).expect("repo just inserted");
            repo.updated_at = repo.updated_at.max(pull.updated_at);
            repo.pushed_at = repo
                .pushed_at
                .max(pull.commits.last().map_or(0, |c| c.committed_at));
            w.pulls.insert((id, pull.number), pull);
        }
    }
    if spec.delivery {
        super::generate_delivery::before_histories(&mut w, spec.seed, spec.now);
    }
    // Drawn from nothing random: the org's figures stay what they were before histories.
    w.build_histories();
    if spec.delivery {
        super::generate_delivery::after_histories(&mut w, spec.seed, spec.now);
    }
    w
}

/// The shape a generated pull request's life takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Merged,
    Open,
    Draft,
    DraftThenReady,
    ClosedUnmerged,
    Reopened,
}

fn gen_pull(
    w: &mut World,
    rng: &mut StdRng,
    repo_id: u64,
    people: &[u64],
    bots: &[u64],
    now: i64,
    giant: bool,
) -> Pull {
    let number = {
        let repo = w.repos.get_mut(&repo_id).expect("repo exists");
        let n = repo.next_number;
        // Issues share the numbering: leave the odd gap.
        repo.next_number += if rng.random_bool(0.2) { 2 } else { 1 };
        n
    };
    let id = w.next_id(crate::sim::world::IdKind::Pull);
    let fate = match rng.random_range(0..100) {
        0..55 => Fate::Merged,
        55..68 => Fate::Open,
        68..74 => Fate::Draft,
        74..86 => Fate::DraftThenReady,
        86..94 => Fate::ClosedUnmerged,
        _ => Fate::Reopened,
    };
    let by_bot = rng.random_bool(0.08);
    let author = if by_bot {
        bots[rng.random_range(0..bots.len())]
    } else {
        people[rng.random_range(0..people.len())]
    };
    let created_at = now - rng.random_range(2 * HOUR..365 * DAY);
    let mut t = created_at;
    let mut timeline = Vec::new();

    // Commits: most before the PR is opened, a few pushed during review.
    let big = giant || rng.random_bool(0.05);
    let n_commits = if giant {
        rng.random_range(251..300)
    } else if big {
        rng.random_range(11..40)
    } else {
        rng.random_range(1..6)
    };
    let first_commit_at = created_at - rng.random_range(10 * 60..3 * DAY);
    let author_acc = w.account(author).clone();
    let mut commits = Vec::with_capacity(n_commits);
    for i in 0..n_commits {
        let at = first_commit_at + (created_at - first_commit_at) * i as i64 / n_commits as i64;
        commits.push(gen_commit(rng, &author_acc, &format!("{id}-{i}"), at));
    }

    // Draft phase. Never in the future: a PR not ready by the end of the year is still a draft.
    let ready = t + rng.random_range(HOUR..4 * DAY);
    let fate = if fate == Fate::DraftThenReady && ready >= now - 60 {
        Fate::Draft
    } else {
        fate
    };
    let mut draft = matches!(fate, Fate::Draft | Fate::DraftThenReady);
    if fate == Fate::DraftThenReady {
        t = ready;
        timeline.push(TimelineEvent {
            kind: TimelineKind::ReadyForReview,
            at: t,
            actor_id: author,
        });
        draft = false;
    }
    let ready_at = t;

    // Reviews, after the PR is ready (a draft gets the odd comment only).
    let mut reviews = Vec::new();
    let n_reviews = if fate == Fate::Draft {
        rng.random_range(0..2)
    } else if big || rng.random_bool(0.05) {
        rng.random_range(11..18)
    } else {
        rng.random_range(0..5)
    };
    let mut rt = ready_at + pickup_delay(rng);
    for _ in 0..n_reviews {
        if rt >= now {
            break;
        }
        let roll = rng.random_range(0..100);
        let (user, state) = if roll < 6 {
            // The author answering in a review thread.
            (author, ReviewState::Commented)
        } else if roll < 12 {
            (
                bots[rng.random_range(0..bots.len())],
                ReviewState::Commented,
            )
        } else {
            let mut reviewer = people[rng.random_range(0..people.len())];
            if reviewer == author {
                reviewer = people
                    [(people.iter().position(|p| *p == author).unwrap_or(0) + 1) % people.len()];
            }
            let state = match rng.random_range(0..10) {
                0..5 => ReviewState::Approved,
                5..7 => ReviewState::ChangesRequested,
                _ => ReviewState::Commented,
            };
            (reviewer, state)
        };
        let state = if fate == Fate::Draft {
            ReviewState::Commented
        } else {
            state
        };
        let reviewer_is_author = user == author;
        let review_id = w.next_id(crate::sim::world::IdKind::Review);
        let commit_id = commits
            .last()
            .map(|c: &Commit| c.sha.clone())
            .unwrap_or_default();
        let mut review = Review {
            id: review_id,
            user_id: user,
            state,
            body: if state == ReviewState::Approved {
                String::new()
            } else {
                "See comments".into()
            },
            submitted_at: rt,
            commit_id,
        };
        // Now and then an approval goes stale and is dismissed.
        if state == ReviewState::Approved && !reviewer_is_author && rng.random_bool(0.08) {
            review.state = ReviewState::Dismissed;
        }
        reviews.push(review);
        if state == ReviewState::ChangesRequested && !giant {
            // The author pushes a fix.
            let at = rt + rng.random_range(20 * 60..DAY);
            if at < now {
                let i = commits.len();
                commits.push(gen_commit(rng, &author_acc, &format!("{id}-{i}"), at));
            }
        }
        rt += rng.random_range(5 * 60..2 * DAY);
    }
    let last_activity = reviews
        .iter()
        .map(|r| r.submitted_at)
        .chain(commits.iter().map(|c| c.committed_at))
        .max()
        .unwrap_or(created_at)
        .max(ready_at);
    t = last_activity;

    let (mut open, mut closed_at, mut merged_at, mut merged_by) = (true, None, None, None);
    let merger = |rng: &mut StdRng| loop {
        let p = people[rng.random_range(0..people.len())];
        if p != author || people.len() == 1 {
            break p;
        }
    };
    // What would happen after the end of the generated year has not happened yet: such a pull
    // request is still open (or still closed). No time is clamped, so none pile up on one second.
    let past = |at: i64| at < now - 60;
    match fate {
        Fate::Merged | Fate::DraftThenReady => {
            let at = t + rng.random_range(10 * 60..2 * DAY);
            if past(at) {
                open = false;
                closed_at = Some(at);
                merged_at = Some(at);
                let by = merger(rng);
                merged_by = Some(by);
                timeline.push(TimelineEvent {
                    kind: TimelineKind::Merged,
                    at,
                    actor_id: by,
                });
            }
        }
        Fate::ClosedUnmerged => {
            let at = t + rng.random_range(HOUR..10 * DAY);
            if past(at) {
                open = false;
                closed_at = Some(at);
                timeline.push(TimelineEvent {
                    kind: TimelineKind::Closed,
                    at,
                    actor_id: author,
                });
            }
        }
        Fate::Reopened => {
            let closed = t + rng.random_range(HOUR..3 * DAY);
            let reopened = closed + rng.random_range(HOUR..2 * DAY);
            if past(closed) {
                timeline.push(TimelineEvent {
                    kind: TimelineKind::Closed,
                    at: closed,
                    actor_id: author,
                });
                open = false;
                closed_at = Some(closed);
            }
            if past(closed) && past(reopened) {
                timeline.push(TimelineEvent {
                    kind: TimelineKind::Reopened,
                    at: reopened,
                    actor_id: author,
                });
                open = true;
                closed_at = None;
                let at = reopened + rng.random_range(HOUR..2 * DAY);
                if rng.random_bool(0.5) && past(at) {
                    open = false;
                    closed_at = Some(at);
                    merged_at = Some(at);
                    let by = merger(rng);
                    merged_by = Some(by);
                    timeline.push(TimelineEvent {
                        kind: TimelineKind::Merged,
                        at,
                        actor_id: by,
                    });
                }
            }
        }
        Fate::Open | Fate::Draft => {}
    }
    let updated_at = timeline
        .iter()
        .map(|e| e.at)
        .chain(std::iter::once(last_activity))
        .max()
        .unwrap_or(created_at);
    let changed_files = (commits.len() as u64).clamp(1, 60) + rng.random_range(0..4);
    Pull {
        id,
        repo_id,
        number,
        title: format!(
            "{} {}",
            TITLES[rng.random_range(0..TITLES.len())],
            AREAS[rng.random_range(0..AREAS.len())]
        ),
        body: "Generated by the simulator.".into(),
        user_id: author,
        open,
        draft: draft && open,
        created_at,
        updated_at,
        closed_at,
        merged_at,
        merged_by,
        merge_commit_sha: merged_at.map(|_| sha_for(&format!("merge-{id}"))),
        head_ref: format!(
            "{}/change-{number}",
            author_acc.login.trim_end_matches("[bot]")
        ),
        base_ref: "main".into(),
        changed_files,
        reviews,
        commits,
        timeline,
        labels: Vec::new(),
        merge_method: merged_at.map(|_| super::world::MergeMethod::Merge),
    }
}

/// Time to first review: skewed, mostly hours, sometimes days.
fn pickup_delay(rng: &mut StdRng) -> i64 {
    match rng.random_range(0..10) {
        0..4 => rng.random_range(10 * 60..4 * HOUR),
        4..8 => rng.random_range(4 * HOUR..DAY),
        _ => rng.random_range(DAY..5 * DAY),
    }
}

fn gen_commit(rng: &mut StdRng, author: &Account, seed: &str, at: i64) -> Commit {
    // One commit in ten carries the author's email but no linked GitHub user (a laptop's git
    // config that GitHub could not match): tidemark must link those by email.
    let unlinked = !author.is_bot && author.email.is_some() && rng.random_bool(0.1);
    Commit {
        sha: sha_for(seed),
        message: format!("{} ({seed})", TITLES[rng.random_range(0..TITLES.len())]),
        author_name: author.name.clone(),
        author_email: author
            .email
            .clone()
            .unwrap_or_else(|| format!("{}+{}@users.noreply.github.com", author.id, author.login)),
        author_user_id: (!unlinked).then_some(author.id),
        authored_at: at,
        committed_at: at + rng.random_range(0..120),
        additions: rng.random_range(1..120),
        deletions: rng.random_range(0..60),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> OrgSpec {
        OrgSpec {
            now: 1_760_000_000,
            ..OrgSpec::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_org_and_another_seed_another() {
        let a = generate(&spec());
        let b = generate(&spec());
        assert_eq!(a.pulls, b.pulls);
        assert_eq!(a.accounts, b.accounts);
        let c = generate(&OrgSpec { seed: 2, ..spec() });
        assert_ne!(a.pulls, c.pulls);
    }

    #[test]
    fn the_org_has_every_kind_of_pull_request_and_person() {
        let w = generate(&spec());
        let pulls: Vec<_> = w.pulls.values().collect();
        assert_eq!(pulls.len(), 6 * 40);
        assert!(pulls.iter().any(|p| p.merged()));
        assert!(pulls.iter().any(|p| p.open && p.draft));
        assert!(pulls.iter().any(|p| p.open && !p.draft));
        assert!(pulls.iter().any(|p| !p.open && !p.merged()));
        let ready = |p: &&&Pull| {
            p.timeline
                .iter()
                .any(|e| e.kind == TimelineKind::ReadyForReview)
        };
        assert!(pulls.iter().any(|p| ready(&p)));
        assert!(
            pulls
                .iter()
                .any(|p| p.timeline.iter().any(|e| e.kind == TimelineKind::Reopened))
        );
        assert!(pulls.iter().filter(|p| p.commits.len() > 250).count() >= 2);
        let busy = pulls
            .iter()
            .filter(|p| p.commits.len() > 10 || p.reviews.len() > 10)
            .count();
        assert!(busy * 100 / pulls.len() >= 3, "{busy} busy PRs");
        for state in [
            ReviewState::Approved,
            ReviewState::ChangesRequested,
            ReviewState::Commented,
            ReviewState::Dismissed,
        ] {
            assert!(
                pulls
                    .iter()
                    .flat_map(|p| &p.reviews)
                    .any(|r| r.state == state),
                "{state:?}"
            );
        }
        assert!(pulls.iter().any(|p| w.account(p.user_id).is_bot));
        assert!(
            pulls
                .iter()
                .flat_map(|p| &p.reviews)
                .any(|r| w.account(r.user_id).is_bot)
        );
        assert!(
            pulls
                .iter()
                .any(|p| p.reviews.iter().any(|r| r.user_id == p.user_id))
        );
        assert!(pulls.iter().flat_map(|p| &p.commits).any(|c| {
            c.author_user_id.is_none()
                && w.accounts
                    .values()
                    .any(|a| a.email.as_deref() == Some(&c.author_email))
        }));
        assert!(w.repos.values().any(|r| r.archived));
        assert!(w.repos.values().any(|r| r.private));
        assert!(w.accounts.values().any(|a| a.email.is_some() && !a.is_bot));
        assert!(w.accounts.values().any(|a| a.email.is_none() && !a.is_bot));
    }

    #[test]
    fn timestamps_are_ordered_and_within_the_year() {
        for seed in 1..6 {
            let s = OrgSpec { seed, ..spec() };
            let w = generate(&s);
            for p in w.pulls.values() {
                // Nothing in the future, and nothing merged before it was ready.
                for e in &p.timeline {
                    assert!(e.at <= s.now && e.at >= p.created_at, "{e:?} of {p:?}");
                    if let (TimelineKind::ReadyForReview, Some(m)) = (e.kind, p.merged_at) {
                        assert!(m >= e.at, "merged before ready: {p:?}");
                    }
                }
                assert!(
                    p.created_at >= s.now - 366 * DAY && p.updated_at <= s.now,
                    "{p:?}"
                );
                if let Some(m) = p.merged_at {
                    assert!(m >= p.created_at && p.closed_at == Some(m));
                }
                for r in &p.reviews {
                    assert!(r.submitted_at >= p.created_at && r.submitted_at <= p.updated_at);
                }
                assert!(p.commits.iter().all(|c| c.authored_at <= p.updated_at));
                assert_eq!(p.open, p.closed_at.is_none());
            }
        }
    }
}
