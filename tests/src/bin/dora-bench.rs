//! `dora-bench`: how long a DORA report takes over a year of a big team's delivery history,
//! and what its working agreements cost: one live check (what the daemon runs every 30 s and
//! after each webhook), a year's adherence, and a daily digest. Prints figures; asserts nothing. Seeds a store directly (no daemon, no GitHub): REPOS
//! repositories, each with PRS pull requests merged over 52 weeks and a production deployment
//! every working day (one in ten failed, then fixed), the compares between them, and an
//! incident a month.
//!
//! `cargo build --release -p tidemark-tests --bin dora-bench && target/release/dora-bench [REPOS] [PRS_PER_REPO]`
//!
//! Defaults: 200 repositories × 250 pull requests (50,000), 52 weeks.

use std::time::Instant;
use tidemark_daemon::crypto::{Keyring, Secret};
use tidemark_daemon::store::{
    Commit, Compared, Deploy, DeploySource, DeployState, IssueRecord, NewCredential,
    NewGitHubIntegration, PrState, Provider, PullRequest, Store,
};
use tidemark_protocol::TeamRef;
use tidemark_protocol::delivery::{DoraGrouping, DoraQuery};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

fn sha(repo: u64, n: u64, kind: u8) -> String {
    format!("{kind:02x}{repo:08x}{n:030x}")
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let repos: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let prs_per_repo: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(250);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("store"))?;
    let keys = Keyring::from_secrets(&[Keyring::generate_key()], "bench")?;
    let team = store.create_team("bench", None)?.id;
    store.create_credential(
        &keys,
        team,
        NewCredential {
            provider: Provider::Github,
            access_token: Secret::new("gho_bench000000000000000000000000000000".to_string()),
            refresh_token: None,
            token_expires_at: None,
            scopes: vec!["repo".into()],
            connected_by: None,
        },
    )?;
    store.create_github_integration(
        &keys,
        team,
        NewGitHubIntegration {
            organization_slug: "acme".into(),
            organization_id: 1,
            webhook_secret: Secret::new("whsec".to_string()),
        },
    )?;
    let now = tidemark_daemon::store::now();
    let start = now - 52 * WEEK;
    let seeding = Instant::now();
    let (mut n_deploys, mut n_prs) = (0u64, 0u64);
    for r in 0..repos {
        let repo = 5_000_000_000 + r;
        store.track_repo(team, repo, &format!("acme/repo-{r}"))?;
        // A deployment every working day; one in ten fails and the next day's fixes it.
        let mut deploys = Vec::new();
        let mut successes: Vec<(i64, String)> = Vec::new();
        let mut day = 0;
        while start + day * DAY < now {
            let at = start + day * DAY + 15 * 3_600;
            day += 1;
            if (day % 7) >= 5 {
                continue;
            }
            let failed = day % 10 == 3;
            let id = format!("DE_{r}_{day}");
            let s = sha(repo, day as u64, 0xd0);
            deploys.push(Deploy {
                team_id: team,
                repo_id: repo,
                source: DeploySource::Deployment,
                id,
                sha: s.clone(),
                name: "production".into(),
                branch: None,
                created_at: at - 600,
                state: if failed {
                    DeployState::Failure
                } else {
                    DeployState::Success
                },
                finished_at: Some(at),
                detail: "status".into(),
                updated_at: at,
            });
            if !failed {
                successes.push((at, s));
            }
        }
        n_deploys += deploys.len() as u64;
        store.put_deploys(team, &deploys)?;
        // Pull requests merged evenly over the year; each one's merge commit in the compare of
        // the deployment after it.
        let mut merges: Vec<Vec<String>> = vec![Vec::new(); successes.len()];
        for n in 1..=prs_per_repo {
            let merged = start + (n as i64 * 52 * WEEK) / (prs_per_repo as i64 + 1);
            let merge_sha = sha(repo, n, 0xc0);
            if let Some(k) = successes.iter().position(|(at, _)| *at >= merged) {
                merges[k].push(merge_sha.clone());
            }
            let pr = PullRequest {
                team_id: team,
                repo_id: repo,
                number: n,
                github_id: 9_000_000_000 + r * 100_000 + n,
                title: format!("Change {n}"),
                state: PrState::Merged,
                is_draft: false,
                author_github_id: Some(n % 40),
                author_login: Some(format!("dev{}", n % 40)),
                author_member_id: None,
                created_at: merged - 2 * DAY,
                ready_at: None,
                updated_at: merged,
                merged_at: Some(merged),
                closed_at: Some(merged),
                additions: n % 500,
                deletions: n % 100,
                first_commit_at: None,
                first_review_at: None,
                cycle_time: None,
                review_time: None,
                merged_by_login: None,
                merged_by_github_id: None,
                merge_commit_sha: Some(merge_sha),
                base_ref: Some("main".into()),
                head_ref: Some(format!("change-{n}")),
                labels: Vec::new(),
            };
            let commit = Commit {
                team_id: team,
                repo_id: repo,
                pr_number: n,
                sha: sha(repo, n, 0xa0),
                author_github_id: None,
                author_email: None,
                author_member_id: None,
                authored_at: Some(merged - 3 * DAY),
                committed_at: Some(merged - 3 * DAY),
            };
            store.put_pull_request(pr, vec![], vec![commit])?;
            n_prs += 1;
        }
        for k in 1..successes.len() {
            store.put_compare(&Compared {
                team_id: team,
                repo_id: repo,
                base: successes[k - 1].1.clone(),
                head: successes[k].1.clone(),
                commits: merges[k].clone(),
                truncated: false,
            })?;
        }
        let issues: Vec<IssueRecord> = (0..12)
            .map(|m| IssueRecord {
                team_id: team,
                repo_id: repo,
                number: 100_000 + m,
                title: format!("Incident {m}"),
                labels: vec!["incident".into()],
                created_at: start + m as i64 * 30 * DAY + 20 * 3_600,
                closed_at: Some(start + m as i64 * 30 * DAY + 23 * 3_600),
                updated_at: start + m as i64 * 30 * DAY + 23 * 3_600,
                body_shas: Vec::new(),
            })
            .collect();
        store.put_issues(team, &issues)?;
    }
    println!(
        "seeded {repos} repositories: {n_prs} pull requests, {n_deploys} deployments, {} incidents in {:.1}s",
        repos * 12,
        seeding.elapsed().as_secs_f64()
    );
    // The two halves of a report: reading the records, and the computation over them.
    let rules = tidemark_daemon::delivery::saved_rules(&store, team)?;
    let t = Instant::now();
    let inputs = tidemark_daemon::delivery::inputs(&store, team, &rules)?;
    let read = t.elapsed();
    let t = Instant::now();
    let window = tidemark_daemon::delivery::engine::Window {
        since: start,
        until: now,
    };
    let _ = tidemark_daemon::delivery::engine::evaluate(
        "bench",
        &rules,
        &inputs,
        window,
        DoraGrouping::Team,
    );
    println!(
        "of which: reading the records {:.0} ms, computing the report {:.0} ms",
        read.as_secs_f64() * 1000.0,
        t.elapsed().as_secs_f64() * 1000.0
    );
    for by in [DoraGrouping::Team, DoraGrouping::Repo, DoraGrouping::Week] {
        let query = DoraQuery {
            team: TeamRef::Id(team),
            since: Some(start),
            until: Some(now),
            by,
            config: None,
            explain: true,
        };
        let mut times = Vec::new();
        let mut summary = String::new();
        for _ in 0..5 {
            let t = Instant::now();
            let report = tidemark_daemon::delivery::report(&store, team, "bench", &query, now)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            summary = format!(
                "{} groups, {} deployments, {} changes, {} failures listed; {:.1} MB on the wire",
                report.groups.len(),
                report.deployments.len(),
                report.changes.len(),
                report.failures.len(),
                bincode::serialize(&report)?.len() as f64 / 1e6
            );
        }
        times.sort_by(f64::total_cmp);
        println!(
            "dora report over 52 weeks by {by:?}: median {:.0} ms, min {:.0} ms, max {:.0} ms (5 runs; {summary})",
            times[2], times[0], times[4]
        );
    }
    agreements(&store, team, now)?;
    Ok(())
}

/// Median of five runs of `f`, in milliseconds.
fn median_ms(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<(f64, f64, f64)> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[2], times[0], times[4]))
}

/// Every agreement set, with working hours in Berlin: the costliest clock.
fn agreements(store: &Store, team: u64, now: i64) -> anyhow::Result<()> {
    use tidemark_protocol::agreements::{Agreements, Span, WorkingHours};
    let a = Agreements {
        first_review_within: Some(Span::Hours(24)),
        max_size: Some(400),
        merge_within: Some(Span::Days(7)),
        min_approvals: Some(1),
        max_open_per_author: Some(5),
        working_hours: Some(WorkingHours::parse("09:00-18:00").map_err(anyhow::Error::msg)?),
        timezone: "Europe/Berlin".into(),
        digest_at: Some(9 * 60),
    };
    // Effective a year ago, so that every pull request of the year is checked.
    tidemark_daemon::agreements::set(store, team, a, now - 52 * WEEK)?;
    let mut opened = 0;
    let (m, lo, hi) = median_ms(|| {
        let o = tidemark_daemon::agreements::live::evaluate_team(store, team, now)?;
        opened += o.opened.len();
        Ok(())
    })?;
    println!(
        "working agreements, one live check of every pull request: median {m:.0} ms, min {lo:.0} ms, max {hi:.0} ms (5 runs; {opened} breaches recorded by the first, {} in the store)",
        store.breaches(team)?.len()
    );
    let mut rows = 0;
    let (m, lo, hi) = median_ms(|| {
        rows = tidemark_daemon::agreements::adherence(store, team, None, now)?.len();
        Ok(())
    })?;
    println!(
        "adherence over 52 weeks: median {m:.0} ms, min {lo:.0} ms, max {hi:.0} ms ({rows} rows)"
    );
    let (m, lo, hi) = median_ms(|| {
        tidemark_daemon::agreements::digest::compose(store, team, "bench", now)?;
        Ok(())
    })?;
    println!("a daily digest: median {m:.0} ms, min {lo:.0} ms, max {hi:.0} ms");
    Ok(())
}
