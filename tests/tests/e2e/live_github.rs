//! The real daemon against real GitHub (api.github.com), for people with a token and a
//! network. Ignored by default; see the README's "Checking against real GitHub":
//!
//! ```sh
//! TIDEMARK_LIVE_TOKEN=ghp_... cargo test -p tidemark-tests --test e2e live_github -- --ignored --nocapture
//! ```
//!
//! It seeds a store with a team connected to the organization that owns `TIDEMARK_LIVE_REPO`
//! (default [`DEFAULT_REPO`], public), tracking that repository alone, starts the real
//! `tidemarkd` against GitHub, lets it sync, then checks what it stored against GitHub's REST
//! answers (read-only requests with the same token): the pull requests (every one created
//! before the sync is stored, none that GitHub does not have, and the recently updated ones
//! match), for a sample of pull requests their ids, their review ids and their cycle time, and
//! that review ids past 2^31 arrive whole. Without `TIDEMARK_LIVE_TOKEN` it says why it did
//! not run.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tidemark_protocol::TeamRef;
use tidemark_tests::harness::{
    Daemon, Sandbox, SeedTeam, block_on_shared as block_on, connect, ctx, open_store,
    seed_github_team,
};

/// A public repository of an organization with a few hundred pull requests and reviews since
/// 2024 (so review ids past 2^31): small enough to sync in a minute or two.
const DEFAULT_REPO: &str = "cli/go-gh";
const DEFAULT_API: &str = "https://api.github.com";
/// Pull requests whose reviews and cycle time are compared one by one.
const SAMPLE: usize = 12;
/// How far back "recently updated" reaches.
const RECENT: i64 = 90 * 24 * 3600;
/// The longest the sync may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const TWO_TO_THE_31: u64 = 1 << 31;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[test]
#[ignore = "needs TIDEMARK_LIVE_TOKEN and network: see README 'Checking against real GitHub'"]
fn the_daemon_agrees_with_real_github() {
    let Some(token) = env("TIDEMARK_LIVE_TOKEN") else {
        eprintln!(
            "live_github: not run: TIDEMARK_LIVE_TOKEN is not set. Set it to a GitHub token that \
             can read public repositories (and TIDEMARK_LIVE_REPO=owner/name to pick another \
             repository than {DEFAULT_REPO}); see the README, 'Checking against real GitHub'."
        );
        return;
    };
    let repo = env("TIDEMARK_LIVE_REPO").unwrap_or_else(|| DEFAULT_REPO.to_string());
    let api = env("TIDEMARK_LIVE_API_URL").unwrap_or_else(|| DEFAULT_API.to_string());
    let api = api.trim_end_matches('/').to_string();
    let gh = Rest::new(&api, &token);
    check(&gh, &repo, &api, &token);
}

/// Everything, in order. Async calls (REST, the daemon's RPC) run on the test binary's shared
/// runtime, where the RPC client lives; starting and stopping the daemon is synchronous.
fn check(gh: &Rest, repo: &str, api: &str, token: &str) {
    // The repository and its organization, as GitHub says.
    let info: RepoJson = block_on(gh.get(&format!("/repos/{repo}")));
    assert_eq!(
        info.owner.kind, "Organization",
        "{repo} belongs to a user, not an organization; tidemark connects organizations: \
         pick another repository with TIDEMARK_LIVE_REPO"
    );
    eprintln!(
        "live_github: {} (id {}) of organization {} (id {})",
        info.full_name, info.id, info.owner.login, info.owner.id
    );

    // A store with a team connected to it, tracking this repository only.
    let sandbox = Sandbox::new();
    let webhook_secret = format!("live-{}", std::process::id());
    let team_id = seed_github_team(
        &sandbox,
        &SeedTeam {
            team_name: "live",
            access_token: token,
            refresh_token: None,
            token_expires_at: None,
            webhook_secret: &webhook_secret,
            org_slug: &info.owner.login,
            org_id: info.owner.id,
            repos: &[(info.id, &info.full_name)],
        },
    );
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("TIDEMARK_GITHUB_API_URL", api)
            .env("TIDEMARK_WEBHOOK_ADDR", "off")
            .env("RUST_LOG", "info");
    });
    let (done, shown) = block_on(async {
        let client = connect(&daemon.socket).await.unwrap();
        let team = TeamRef::Id(team_id);
        // Sync, and wait for it to finish.
        let _ = client.sync_start(ctx(), team.clone()).await;
        let deadline = Instant::now() + SYNC_TIMEOUT;
        let done = loop {
            let p = client
                .sync_status(ctx(), team.clone(), 5_000)
                .await
                .unwrap()
                .unwrap();
            if !p.running && p.finished_at.is_some() {
                break p;
            }
            eprintln!(
                "live_github: syncing: {} ({} pull requests, {} requests)",
                p.phase, p.prs_fetched, p.requests
            );
            assert!(
                Instant::now() < deadline,
                "the sync did not finish in {SYNC_TIMEOUT:?}: {p:?}\n{}",
                daemon.log_text()
            );
        };
        // What `tidemark prs` shows.
        let shown: BTreeMap<u64, tidemark_protocol::PrInfo> =
            tidemark_tests::harness::all_pull_requests(&client, team)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.number, p))
                .collect();
        (done, shown)
    });
    assert!(
        done.error.is_none(),
        "the sync failed: {:?}\n{}",
        done.error,
        daemon.log_text()
    );
    let sync_started = done.started_at.expect("a finished sync has a start");
    eprintln!(
        "live_github: synced: {} pull requests, {} requests",
        done.prs_fetched, done.requests
    );
    // The daemon stopped, its store read directly.
    assert!(daemon.stop().success());
    let store = open_store(&sandbox);
    let stored: BTreeMap<u64, tidemark_daemon::store::PullRequest> = store
        .pull_requests(team_id, Some(info.id))
        .unwrap()
        .into_iter()
        .map(|p| (p.number, p))
        .collect();
    assert_eq!(
        shown.keys().collect::<Vec<_>>(),
        stored.keys().collect::<Vec<_>>()
    );

    // 1. Counts: GitHub's pull requests (REST, every page) against the stored ones.
    let listed: Vec<PullJson> = block_on(gh.get_all(&format!(
        "/repos/{repo}/pulls?state=all&sort=updated&direction=desc"
    )));
    let on_github: BTreeMap<u64, &PullJson> = listed.iter().map(|p| (p.number, p)).collect();
    let before_sync: BTreeSet<u64> = listed
        .iter()
        .filter(|p| time(&p.created_at) < sync_started)
        .map(|p| p.number)
        .collect();
    let stored_numbers: BTreeSet<u64> = stored.keys().copied().collect();
    let missing: Vec<_> = before_sync.difference(&stored_numbers).collect();
    assert!(
        missing.is_empty(),
        "pull requests on GitHub before the sync but not stored: {missing:?}"
    );
    let phantom: Vec<_> = stored_numbers
        .iter()
        .filter(|n| !on_github.contains_key(n))
        .collect();
    assert!(
        phantom.is_empty(),
        "stored pull requests GitHub does not list: {phantom:?}"
    );
    // Updated within RECENT before the sync: the same set, except pull requests GitHub updated
    // again after the sync started.
    let window = sync_started - RECENT..=sync_started;
    let recent_github: BTreeSet<u64> = listed
        .iter()
        .filter(|p| window.contains(&time(&p.updated_at)))
        .map(|p| p.number)
        .collect();
    let recent_stored: BTreeSet<u64> = stored
        .values()
        .filter(|p| window.contains(&p.updated_at))
        .map(|p| p.number)
        .collect();
    for n in recent_github.symmetric_difference(&recent_stored) {
        let now = time(&on_github[n].updated_at);
        assert!(
            now > sync_started,
            "#{n}: updated at {} on GitHub, stored as {:?}, and not updated since the sync",
            on_github[n].updated_at,
            stored.get(n).map(|p| p.updated_at)
        );
    }
    eprintln!(
        "live_github: {} pull requests on GitHub, {} stored, {} updated in the last {} days",
        listed.len(),
        stored.len(),
        recent_stored.len(),
        RECENT / 86_400
    );

    // 2. A sample of reviewed pull requests not changed since the sync, newest first: ids,
    //    review ids and cycle time, one by one.
    let mut sample: Vec<u64> = listed
        .iter()
        .filter(|p| time(&p.updated_at) < sync_started)
        .map(|p| p.number)
        .filter(|n| {
            !store
                .reviews(team_id, info.id, *n)
                .unwrap_or_default()
                .is_empty()
        })
        .take(SAMPLE)
        .collect();
    sample.sort_unstable();
    assert!(
        !sample.is_empty(),
        "no reviewed pull request to compare; pick a repository with reviews (TIDEMARK_LIVE_REPO)"
    );
    for n in &sample {
        let pr: PullJson = block_on(gh.get(&format!("/repos/{repo}/pulls/{n}")));
        let ours = &stored[n];
        assert_eq!(ours.github_id, pr.id, "#{n}: pull request id");
        assert_eq!(ours.created_at, time(&pr.created_at), "#{n}: created_at");
        assert_eq!(
            ours.merged_at,
            pr.merged_at.as_deref().map(time),
            "#{n}: merged_at"
        );
        let cycle = pr
            .merged_at
            .as_deref()
            .map(|m| time(m) - time(&pr.created_at));
        assert_eq!(ours.cycle_time, cycle, "#{n}: cycle time (stored)");
        assert_eq!(
            shown[n].cycle_time, cycle,
            "#{n}: cycle time (tidemark prs)"
        );
        let reviews: Vec<ReviewJson> =
            block_on(gh.get_all(&format!("/repos/{repo}/pulls/{n}/reviews")));
        let theirs: BTreeSet<u64> = reviews
            .iter()
            .filter(|r| r.state != "PENDING")
            .map(|r| r.id)
            .collect();
        let ours: BTreeSet<u64> = store
            .reviews(team_id, info.id, *n)
            .unwrap()
            .into_iter()
            .filter(|r| r.state != tidemark_daemon::store::ReviewState::Pending)
            .map(|r| r.review_id)
            .collect();
        assert_eq!(ours, theirs, "#{n}: review ids (stored vs REST)");
    }
    eprintln!(
        "live_github: {} pull requests compared one by one",
        sample.len()
    );

    // 3. Ids past 2^31 arrive whole.
    let mut review_ids = Vec::new();
    for n in stored.keys() {
        review_ids.extend(
            store
                .reviews(team_id, info.id, *n)
                .unwrap()
                .into_iter()
                .map(|r| r.review_id),
        );
    }
    let biggest = review_ids.iter().copied().max().unwrap_or(0);
    assert!(
        biggest > TWO_TO_THE_31,
        "no stored review id is above 2^31 (largest: {biggest} of {} reviews). GitHub's review \
         ids passed 2^31 in 2024, so a repository reviewed since then must have some: either \
         {repo} has no review that recent (pick another with TIDEMARK_LIVE_REPO), or ids are \
         cut to 32 bits on the way (GraphQL's deprecated databaseId instead of fullDatabaseId)",
        review_ids.len()
    );
    eprintln!(
        "live_github: {} reviews stored, the largest id {biggest} (> 2^31)",
        review_ids.len()
    );
}

/// A GitHub timestamp as Unix seconds.
fn time(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("GitHub time {text:?}: {e}"))
        .unix_timestamp()
}

/// Read-only REST calls with the live token.
struct Rest {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Rest {
    fn new(base: &str, token: &str) -> Rest {
        Rest {
            http: reqwest::Client::builder()
                .user_agent("tidemark-live-check")
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    async fn send(&self, url: &str) -> reqwest::Response {
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            panic!("GET {url}: {status}: {body}");
        }
        resp
    }

    async fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> T {
        let url = format!("{}{path}", self.base);
        self.send(&url)
            .await
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// Every page (100 at a time, following `Link: rel="next"`).
    async fn get_all<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Vec<T> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{}{path}{sep}per_page=100", self.base));
        let mut out = Vec::new();
        while let Some(url) = next.take() {
            let resp = self.send(&url).await;
            next = next_link(resp.headers());
            let mut page: Vec<T> = resp
                .json()
                .await
                .unwrap_or_else(|e| panic!("GET {url}: {e}"));
            out.append(&mut page);
        }
        out
    }
}

fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[derive(Deserialize)]
struct RepoJson {
    id: u64,
    full_name: String,
    owner: Owner,
}

#[derive(Deserialize)]
struct Owner {
    login: String,
    id: u64,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct PullJson {
    id: u64,
    number: u64,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    merged_at: Option<String>,
}

#[derive(Deserialize)]
struct ReviewJson {
    id: u64,
    state: String,
}
