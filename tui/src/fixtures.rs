//! Fabricated protocol values for tests and snapshots. Masks only: no value here was ever a
//! secret, and the protocol cannot carry one anyway.

use tidemark_protocol::{
    AvailableRepo, CredentialInfo, Distribution, GitHubIntegrationInfo, IntegrationInfo,
    Invitation, MemberInfo, MetricsGrouping, MetricsRow, PrInfo, PrState, Provider, RateBudget,
    RepoInfo, Role, SecretState, SyncProgress, SyncStatus, TeamInfo, TeamStatus, UserInfo,
};

mod agreements;
pub use agreements::*;

/// 2025-01-05 14:03 UTC.
pub const T0: i64 = 1_736_085_780;

pub fn teams() -> Vec<TeamInfo> {
    vec![
        TeamInfo {
            id: 1,
            name: "platform".into(),
            created_at: T0,
            role: Some(Role::Owner),
        },
        TeamInfo {
            id: 2,
            name: "mobile".into(),
            created_at: 1_736_155_800,
            role: Some(Role::Member),
        },
        TeamInfo {
            id: 3,
            name: "data-eng Ünïcode".into(),
            created_at: 1_738_368_000,
            role: None,
        },
    ]
}

/// Invitations waiting for the caller: #7 named like their team #1 (from bob), #9 (carol).
pub fn invitations() -> Vec<Invitation> {
    let from = |uid: u32, name: &str| UserInfo {
        uid,
        name: name.into(),
    };
    let me = from(1000, "alice");
    vec![
        Invitation {
            team_id: 9,
            team_name: "design".into(),
            user: me.clone(),
            role: Role::Member,
            invited_by: from(1002, "carol"),
            created_at: T0,
            expires_at: T0 + 14 * 86_400,
        },
        Invitation {
            team_id: 7,
            team_name: "Platform".into(),
            user: me,
            role: Role::Owner,
            invited_by: from(1001, "bob"),
            created_at: T0 + 60,
            expires_at: T0 + 60 + 14 * 86_400,
        },
    ]
}

pub fn github_integration() -> IntegrationInfo {
    IntegrationInfo {
        credential: CredentialInfo {
            provider: Provider::Github,
            scopes: vec!["repo".into(), "read:org".into()],
            access_token: SecretState::Masked("gho_…a1b2".into()),
            refresh_token: None,
            expires_at: None,
            connected_by: Some(UserInfo {
                uid: 1000,
                name: "alice".into(),
            }),
            created_at: T0 - 86_400,
            updated_at: T0,
        },
        github: Some(GitHubIntegrationInfo {
            organization_slug: "acme".into(),
            organization_id: 4821,
            webhook_secret: SecretState::Masked("whs_…9f0e".into()),
            sync_status: SyncStatus::Complete,
            sync_error: None,
            last_sync_at: Some(T0),
            web_url: "https://github.com".into(),
        }),
    }
}

pub fn repos() -> Vec<RepoInfo> {
    vec![
        RepoInfo {
            github_repo_id: 101,
            full_name: "acme/api".into(),
            is_active: true,
            webhook_id: Some(9001),
            sync_status: SyncStatus::Complete,
            sync_error: None,
            last_sync_at: Some(T0),
            pull_request_count: 412,
            last_webhook_at: Some(T0),
            last_ping_at: None,
            webhooks_missed: 0,
            webhooks_recovered: 0,
            webhook_problem: None,
        },
        RepoInfo {
            github_repo_id: 102,
            full_name: "acme/web".into(),
            is_active: true,
            webhook_id: Some(9002),
            sync_status: SyncStatus::Syncing,
            sync_error: None,
            last_sync_at: None,
            pull_request_count: 0,
            last_webhook_at: None,
            last_ping_at: None,
            webhooks_missed: 0,
            webhooks_recovered: 0,
            webhook_problem: None,
        },
        RepoInfo {
            github_repo_id: 103,
            full_name: "acme/infra".into(),
            is_active: false,
            webhook_id: None,
            sync_status: SyncStatus::Error,
            sync_error: Some("GitHub answered 404: repository not found".into()),
            last_sync_at: Some(1_735_977_600),
            pull_request_count: 57,
            last_webhook_at: None,
            last_ping_at: None,
            webhooks_missed: 0,
            webhooks_recovered: 0,
            webhook_problem: None,
        },
    ]
}

pub fn team_status() -> TeamStatus {
    TeamStatus {
        team: teams().remove(0),
        integrations: vec![github_integration()],
        repos: repos(),
        member_count: 12,
        pull_request_count: 340,
        webhook_public_url: Some("https://tidemark.example.com".into()),
        webhooks_pending: 0,
        webhooks_oldest_pending_at: None,
        rate_budget: vec![tidemark_protocol::RateBudget {
            resource: "graphql".into(),
            limit: 5000,
            remaining: 4981,
            reset_at: T0 + 3600,
            seen_at: Some(T0 - 60),
        }],
        member_changes: Some(tidemark_protocol::MemberChanges::PeriodicSync {
            why: "no organization hook: needs the admin:org_hook scope and an org owner; \
                  reconnect asking for admin:org_hook"
                .into(),
        }),
        webhook_intake: tidemark_protocol::WebhookIntake {
            backlog_max: 10_000,
            ..Default::default()
        },
        open_breaches: 3,
        slack: Some(slack_status()),
    }
}

/// The organization's repositories as `repos available` lists them for [`team_status`]'s team:
/// its three tracked ones and three more (one archived, one private, GitHub's `.github`).
pub fn available_repos() -> Vec<AvailableRepo> {
    let repo = |id, name: &str, private, archived, pushed_at, tracked| AvailableRepo {
        github_repo_id: id,
        full_name: name.into(),
        private,
        archived,
        pushed_at,
        tracked,
    };
    vec![
        repo(101, "acme/api", false, false, Some(T0), true),
        repo(102, "acme/web", false, false, Some(T0 - 3600), true),
        repo(103, "acme/infra", true, false, Some(1_735_977_600), true),
        repo(104, "acme/billing", true, false, Some(T0 - 86_400), false),
        repo(
            105,
            "acme/legacy-app",
            false,
            true,
            Some(1_609_459_200),
            false,
        ),
        repo(106, "acme/.github", false, false, None, false),
    ]
}

pub fn members() -> Vec<MemberInfo> {
    vec![
        MemberInfo {
            id: 1,
            github_id: Some(5001),
            github_login: Some("alice".into()),
            display_name: "Alice Liddell".into(),
            email: Some("alice@acme.test".into()),
            is_bot: false,
            left_at: None,
        },
        MemberInfo {
            id: 2,
            github_id: Some(5002),
            github_login: Some("bob-k".into()),
            display_name: "Bob Kowalski".into(),
            email: None,
            is_bot: false,
            left_at: Some(1_735_689_600),
        },
        MemberInfo {
            id: 3,
            github_id: Some(49_699_333),
            github_login: Some("dependabot[bot]".into()),
            display_name: "dependabot[bot]".into(),
            email: None,
            is_bot: true,
            left_at: None,
        },
        MemberInfo {
            id: 4,
            github_id: None,
            github_login: None,
            display_name: "Carol Danvers".into(),
            email: Some("carol@acme.test".into()),
            is_bot: false,
            left_at: None,
        },
    ]
}

/// Pull requests of the tracked repositories, newest first: merged, open, a draft, closed, a
/// bot's, and one with more than 250 commits.
pub fn pull_requests() -> Vec<PrInfo> {
    let base = PrInfo {
        repo: "acme/api".into(),
        number: 0,
        title: String::new(),
        author: Some("alice".into()),
        author_is_bot: false,
        state: PrState::Merged,
        is_draft: false,
        created_at: T0,
        ready_at: None,
        first_commit_at: None,
        first_review_at: None,
        merged_at: None,
        closed_at: None,
        additions: 0,
        deletions: 0,
        reviews: 0,
        commits: 1,
        commits_truncated: false,
        cycle_time: None,
        review_time: None,
        merged_by: None,
    };
    vec![
        PrInfo {
            number: 1290,
            title: "Add rate-limit budget to the sync status".into(),
            state: PrState::Open,
            created_at: T0 - 600,
            additions: 45,
            deletions: 3,
            commits: 2,
            ..base.clone()
        },
        PrInfo {
            repo: "acme/web".into(),
            number: 311,
            title: "WIP: new dashboard layout".into(),
            author: Some("bob-k".into()),
            state: PrState::Open,
            is_draft: true,
            created_at: T0 - 3600,
            additions: 1200,
            deletions: 800,
            commits: 14,
            ..base.clone()
        },
        PrInfo {
            number: 1287,
            title: "Retry GraphQL pages that time out with a smaller page size, and log the \
                    cost of every query"
                .into(),
            created_at: T0 - 4 * 86_400,
            first_commit_at: Some(T0 - 5 * 86_400),
            first_review_at: Some(T0 - 4 * 86_400 + 2700),
            merged_at: Some(T0 - 86_400 + 3 * 3600),
            closed_at: Some(T0 - 86_400 + 3 * 3600),
            additions: 120,
            deletions: 30,
            reviews: 2,
            commits: 5,
            cycle_time: Some(3 * 86_400 + 3 * 3600),
            review_time: Some(2700),
            merged_by: Some("carol".into()),
            ..base.clone()
        },
        PrInfo {
            repo: "acme/infra".into(),
            number: 77,
            title: "Bump tokio from 1.40 to 1.41".into(),
            author: Some("dependabot[bot]".into()),
            author_is_bot: true,
            created_at: T0 - 6 * 86_400,
            first_review_at: Some(T0 - 6 * 86_400 + 50),
            merged_at: Some(T0 - 6 * 86_400 + 70),
            closed_at: Some(T0 - 6 * 86_400 + 70),
            additions: 2,
            deletions: 2,
            reviews: 1,
            cycle_time: Some(70),
            review_time: Some(50),
            merged_by: Some("alice".into()),
            ..base.clone()
        },
        PrInfo {
            repo: "acme/web".into(),
            number: 290,
            title: "Vendor the \u{1b}]0;icons\u{7} folder".into(),
            author: None,
            state: PrState::Closed,
            created_at: T0 - 10 * 86_400,
            closed_at: Some(T0 - 9 * 86_400),
            additions: 40_000,
            deletions: 0,
            commits: 312,
            commits_truncated: true,
            ..base
        },
    ]
}

fn distribution(count: u64, p: [Option<i64>; 3]) -> Distribution {
    Distribution {
        count,
        p50: p[0],
        p75: p[1],
        p90: p[2],
    }
}

/// What `metrics` answers for [`team_status`]'s team, grouped by team or by repository.
pub fn metrics_rows(by: MetricsGrouping) -> Vec<MetricsRow> {
    let hours = |h: i64| Some(h * 3600);
    let row = |key: &str, prs, merged| MetricsRow {
        key: key.into(),
        prs,
        merged,
        cycle_time: distribution(merged, [hours(26), hours(76), hours(146)]),
        review_time: distribution(prs, [Some(2700), hours(5), hours(30)]),
        coding: distribution(prs, [hours(4), hours(20), hours(72)]),
        pickup: distribution(prs, [Some(2700), hours(5), hours(30)]),
        review: distribution(merged, [hours(3), hours(26), hours(50)]),
        size: distribution(prs, [Some(48), Some(150), Some(900)]),
    };
    match by {
        MetricsGrouping::Team => vec![row("platform", 340, 298)],
        MetricsGrouping::Repo => vec![
            row("acme/api", 283, 251),
            MetricsRow {
                cycle_time: Distribution::default(),
                review_time: distribution(1, [Some(45), None, None]),
                review: Distribution::default(),
                ..row("acme/web", 1, 0)
            },
            row("acme/infra", 56, 47),
        ],
        MetricsGrouping::Member => vec![row("alice", 200, 180), row("bob-k", 140, 118)],
        MetricsGrouping::Week => vec![row("2025-W01", 30, 25), row("2025-W02", 41, 39)],
    }
}

/// A sync of three repositories as `sync_start` and then `sync_status` report it (phases as
/// the daemon names them), ending complete. The fourth report repeats the third (a long poll
/// that saw no change).
pub fn sync_steps() -> Vec<SyncProgress> {
    let budget = |remaining| {
        vec![RateBudget {
            resource: "graphql".into(),
            limit: 5000,
            remaining,
            reset_at: T0 + 3600,
            seen_at: Some(T0),
        }]
    };
    let starting = SyncProgress {
        running: true,
        status: SyncStatus::Syncing,
        phase: "starting".into(),
        repos_done: 0,
        repos_total: 0,
        prs_fetched: 0,
        requests: 0,
        budget: Vec::new(),
        started_at: Some(T0),
        finished_at: None,
        last_sync_at: Some(T0 - 86_400),
        error: None,
        next_sync_at: None,
        skipped: 0,
        skipped_note: None,
    };
    let members = SyncProgress {
        phase: "members".into(),
        repos_total: 3,
        requests: 1,
        budget: budget(4999),
        ..starting.clone()
    };
    let pulls = SyncProgress {
        phase: "pull requests".into(),
        repos_done: 1,
        prs_fetched: 120,
        requests: 9,
        budget: budget(4991),
        ..members.clone()
    };
    let more = SyncProgress {
        repos_done: 2,
        prs_fetched: 412,
        requests: 31,
        budget: budget(4969),
        ..pulls.clone()
    };
    let done = SyncProgress {
        running: false,
        status: SyncStatus::Complete,
        phase: "idle".into(),
        repos_done: 3,
        prs_fetched: 469,
        requests: 40,
        budget: budget(4960),
        finished_at: Some(T0 + 95),
        last_sync_at: Some(T0 + 95),
        next_sync_at: Some(T0 + 95 + 3600),
        ..more.clone()
    };
    vec![starting, members, pulls.clone(), pulls, more, done]
}

/// A sync that fails part-way: GitHub refuses the token.
pub fn failing_sync_steps() -> Vec<SyncProgress> {
    let mut steps = sync_steps();
    steps.truncate(3);
    let last = steps[2].clone();
    steps.push(SyncProgress {
        running: false,
        status: SyncStatus::Error,
        phase: "idle".into(),
        finished_at: Some(T0 + 12),
        error: Some("GitHub rejected the token (401): reconnect GitHub".into()),
        next_sync_at: Some(T0 + 912),
        ..last
    });
    steps
}

/// Reviews given, as `reviewers` answers for [`members`].
pub fn reviews_given() -> std::collections::BTreeMap<String, u64> {
    [("alice".to_string(), 31), ("bob-k".to_string(), 12)]
        .into_iter()
        .collect()
}

/// Weekly metrics over twelve weeks, oldest first, for the charts.
pub fn weekly_metrics() -> Vec<MetricsRow> {
    (1..=12)
        .map(|week: i64| {
            let h = |x: i64| Some(x * 3600);
            let wave = (week * 7) % 5;
            MetricsRow {
                key: format!("2024-W{:02}", 40 + week),
                prs: 20 + wave as u64 * 3,
                merged: 15 + ((week * 3) % 7) as u64,
                cycle_time: distribution(15, [h(20 + wave * 4), h(50), h(90 + wave * 10)]),
                review_time: distribution(20, [h(2 + wave), h(8), h(20 + wave * 3)]),
                coding: distribution(20, [h(6), h(12), h(40)]),
                pickup: distribution(20, [h(2 + wave), h(8), h(20 + wave * 3)]),
                review: distribution(15, [h(10), h(20), h(60)]),
                size: distribution(20, [Some(60), Some(200), Some(800)]),
            }
        })
        .collect()
}

/// A pull request's commits and reviews for the details view (#1287 of [`pull_requests`]).
pub fn timeline() -> tidemark_protocol::PrTimeline {
    use tidemark_protocol::{TimelineEvent, TimelineKind};
    let commit = |at, sha: &str| TimelineEvent {
        at,
        kind: TimelineKind::Commit { sha: sha.into() },
    };
    let review = |at, who: &str, state: &str| TimelineEvent {
        at,
        kind: TimelineKind::Review {
            reviewer: Some(who.into()),
            state: state.into(),
        },
    };
    tidemark_protocol::PrTimeline {
        events: vec![
            commit(T0 - 5 * 86_400, "3f2a9c1"),
            commit(T0 - 4 * 86_400 - 3600, "88b01de"),
            review(T0 - 4 * 86_400 + 2700, "bob-k", "changes_requested"),
            commit(T0 - 2 * 86_400, "c0ffee1"),
            review(T0 - 86_400, "bob-k", "approved"),
        ],
        commits_truncated: false,
    }
}

/// The fixture answer to a team-screen data request, as the link would send it.
pub fn team_reply(req: &crate::app::Request) -> Option<crate::app::Reply> {
    use crate::app::{Reply, Request};
    use crate::tabs::metrics::MetricsData;
    use crate::tabs::people::PeopleData;
    Some(match req {
        Request::LoadPulls { team, load } => Reply::Pulls {
            team: *team,
            load: *load,
            result: Ok(pull_requests()),
        },
        Request::LoadPeople { team, since } => Reply::People {
            team: *team,
            since: *since,
            result: Ok(PeopleData {
                members: members(),
                by_member: {
                    let mut rows = metrics_rows(MetricsGrouping::Member);
                    rows.push(MetricsRow {
                        key: "dependabot[bot]".into(),
                        ..metrics_rows(MetricsGrouping::Member).remove(1)
                    });
                    rows
                },
                reviews_given: reviews_given(),
            }),
        },
        Request::LoadMetrics { team, since } => Reply::Metrics {
            team: *team,
            since: *since,
            result: Ok(Box::new(MetricsData {
                weekly: weekly_metrics(),
                total: metrics_rows(MetricsGrouping::Team).pop(),
            })),
        },
        Request::LoadDelivery { team, since } => Reply::Delivery {
            team: *team,
            since: *since,
            result: Ok(Box::new(delivery_data(*since))),
        },
        Request::LoadAlerts { team, resolved } => Reply::Alerts {
            team: *team,
            resolved: *resolved,
            result: Ok(Box::new(crate::tabs::alerts::AlertsData {
                alerts: alerts(*resolved),
                agreements: agreements(),
            })),
        },
        Request::ReposAvailable(team) => Reply::Available {
            team: *team,
            result: Ok(available_repos()),
        },
        Request::Timeline { team, repo, number } => Reply::Timeline {
            team: *team,
            repo: repo.clone(),
            number: *number,
            result: Ok(timeline()),
        },
        _ => return None,
    })
}

/// A daemon as `daemon_info` shows it: run by alice, GitHub set up or not (no secret either way).
pub fn daemon_info(github_configured: bool) -> tidemark_protocol::DaemonInfo {
    use tidemark_protocol::{DaemonInfo, GitHubAppInfo, SettingInfo, SettingSource};
    let setting = |key: &str, value: Option<&str>, source, reloadable| SettingInfo {
        key: key.into(),
        value: value.map(Into::into),
        source,
        reloadable,
    };
    DaemonInfo {
        pid: 4242,
        version: "0.1.0".into(),
        protocol_version: tidemark_protocol::PROTOCOL_VERSION,
        started_at: T0 - 3900,
        uptime_secs: 3900,
        user: "alice".into(),
        data_dir: "/home/alice/.local/share/tidemark".into(),
        socket: "/run/user/1000/tidemark/tidemark.sock".into(),
        config_file: Some("/home/alice/.config/tidemark/daemon.toml".into()),
        config_file_exists: github_configured,
        settings: vec![
            setting(
                "github_client_id",
                github_configured.then_some("Ov23liFAKE0123456789"),
                if github_configured {
                    SettingSource::ConfigFile
                } else {
                    SettingSource::Default
                },
                true,
            ),
            setting("github_client_secret", None, SettingSource::Default, true),
            setting(
                "github_url",
                Some("https://github.com"),
                SettingSource::Default,
                false,
            ),
            setting(
                "sync_interval_secs",
                Some("21600"),
                SettingSource::Default,
                true,
            ),
            setting(
                "webhook_addr",
                Some("127.0.0.1:8473"),
                SettingSource::Environment,
                false,
            ),
        ],
        managed_by: None,
        github: GitHubAppInfo {
            configured: github_configured,
            has_secret: false,
            web_url: "https://github.com".into(),
            register_url: "https://github.com/settings/applications/new".into(),
            callback_url: "http://127.0.0.1/oauth/callback".into(),
        },
        caller_may_operate: true,
    }
}

/// The answer to `Request::DaemonInfo`, GitHub set up or not.
pub fn daemon_info_reply(github_configured: bool) -> crate::app::Reply {
    crate::app::Reply::DaemonInfo(Ok(Box::new(daemon_info(github_configured))))
}

/// A pull request a fixture deployment shipped: number, title, lead time (seconds).
type Shipped = (u64, &'static str, i64);

/// One fixture deployment: repository, signal, id, name, when, failed by, rework by, shipped.
struct FixtureDeploy {
    repo: &'static str,
    signal: tidemark_protocol::delivery::Signal,
    id: String,
    name: &'static str,
    at: i64,
    failed_by: Vec<String>,
    rework_by: Vec<String>,
    shipped: Vec<Shipped>,
}

/// acme/api deploys by GitHub Deployments (weekly, then a failed one, an incident, a revert and
/// a hotfix), acme/web by the merged pull-request proxy, acme/infra by a workflow.
fn fixture_deploys() -> Vec<FixtureDeploy> {
    use tidemark_protocol::delivery::Signal;
    const DAY: i64 = 86_400;
    const HOUR: i64 = 3_600;
    let titles = [
        "Paginate the members endpoint",
        "Log slow GraphQL pages",
        "Drop the legacy token column",
        "Retry hook deliveries on 502",
        "Count reviews from bots apart",
        "Add the budget to status",
        "Trim sync progress messages",
        "Cache organization lookups",
        "Read merge commits by GraphQL",
        "Index pull requests by number",
        "Explain skipped nodes",
    ];
    let mut out: Vec<FixtureDeploy> = titles
        .iter()
        .enumerate()
        .map(|(k, title)| FixtureDeploy {
            repo: "acme/api",
            signal: Signal::Deployments,
            id: format!("DE_kwDOA{:03}", k + 1),
            name: "production",
            at: T0 - 80 * DAY + k as i64 * 5 * DAY,
            failed_by: Vec::new(),
            rework_by: Vec::new(),
            shipped: vec![(1240 + k as u64, title, (2 + 3 * k as i64) * HOUR)],
        })
        .collect();
    out.extend([
        FixtureDeploy {
            repo: "acme/web",
            signal: Signal::MergedPrs,
            id: "#305".into(),
            name: "Landing page copy",
            at: T0 - 15 * DAY,
            failed_by: Vec::new(),
            rework_by: Vec::new(),
            shipped: vec![(305, "Landing page copy", 6 * HOUR)],
        },
        FixtureDeploy {
            repo: "acme/api",
            signal: Signal::Deployments,
            id: "DE_kwDOA100".into(),
            name: "production",
            at: T0 - 10 * DAY,
            failed_by: vec![
                "incident #88 (label `incident`): the last successful deployment before it \
                 opened"
                    .into(),
                "#1286 reverts #1284 (found by branch `revert-1284-token-cache`)".into(),
            ],
            rework_by: Vec::new(),
            shipped: vec![
                (1284, "Cache tokens in memory", 3 * DAY),
                (
                    1285,
                    "Add rate-limit budget to the status page",
                    DAY + 2 * HOUR,
                ),
            ],
        },
        FixtureDeploy {
            repo: "acme/api",
            signal: Signal::Deployments,
            id: "DE_kwDOA101".into(),
            name: "production",
            at: T0 - 6 * DAY,
            failed_by: vec!["its own status: status failure".into()],
            rework_by: Vec::new(),
            shipped: Vec::new(),
        },
        FixtureDeploy {
            repo: "acme/api",
            signal: Signal::Deployments,
            id: "DE_kwDOA102".into(),
            name: "production",
            at: T0 - 6 * DAY + 2 * HOUR,
            failed_by: Vec::new(),
            rework_by: vec![
                "ships #1286, a revert of #1284".into(),
                "ships #1289, labelled `hotfix`".into(),
            ],
            shipped: vec![
                (1286, "Revert \"Cache tokens in memory\"", 3 * HOUR),
                (1287, "Retry GraphQL pages that time out", DAY + 4 * HOUR),
                (1289, "Patch the login redirect", 2 * HOUR),
            ],
        },
        FixtureDeploy {
            repo: "acme/infra",
            signal: Signal::WorkflowRuns,
            id: "9912345678".into(),
            name: "Deploy",
            at: T0 - DAY,
            failed_by: vec![
                "incident #91 (label `incident`): the last successful deployment before it \
                 opened"
                    .into(),
            ],
            rework_by: Vec::new(),
            shipped: vec![(77, "Bump tokio from 1.40 to 1.41", 9 * HOUR)],
        },
    ]);
    out
}

/// A team's DORA report over `since..until` grouped `by`, worked out from the fixture history
/// the way the daemon counts (so every figure matches the items listed under it).
pub fn dora_report(
    since: i64,
    until: i64,
    by: tidemark_protocol::delivery::DoraGrouping,
) -> tidemark_protocol::delivery::DoraReport {
    use tidemark_protocol::delivery::{
        ChangeItem, DeployOutcome, DeploymentItem, DoraGrouping, DoraReport, FailureItem,
        FailureKind, RepoSignal, Signal,
    };
    use tidemark_protocol::metrics::dora::{self, EDITION, HOUR, WEEK};
    let all = fixture_deploys();
    let listed: Vec<&FixtureDeploy> = all
        .iter()
        .filter(|d| d.at >= since && d.at < until)
        .collect();
    let deployments: Vec<DeploymentItem> = listed
        .iter()
        .enumerate()
        .map(|(i, d)| DeploymentItem {
            repo: d.repo.into(),
            signal: d.signal,
            id: d.id.clone(),
            sha: format!("{:07x}{}", 0x1a2b3c + i * 0x1111, "0".repeat(33)),
            name: d.name.into(),
            at: d.at,
            outcome: if d.failed_by.iter().any(|f| f.starts_with("its own status")) {
                DeployOutcome::Failure
            } else {
                DeployOutcome::Success
            },
            rule: match d.signal {
                Signal::MergedPrs => format!(
                    "pull request {} merged into main: a proxy, not a deployment",
                    d.id
                ),
                Signal::WorkflowRuns => format!(
                    "workflow `{}` (matches `(?i)deploy|release`) run on main, conclusion success",
                    d.name
                ),
                _ => format!(
                    "GitHub Deployment to `{}` (matches `^prod(uction)?$`), status success",
                    d.name
                ),
            },
            failed_by: d.failed_by.clone(),
            rework_by: d.rework_by.clone(),
            shipped: d.shipped.iter().map(|s| s.0).collect(),
        })
        .collect();
    let mut changes = Vec::new();
    for (i, d) in listed.iter().enumerate() {
        for &(number, title, lead) in &d.shipped {
            changes.push(ChangeItem {
                repo: d.repo.into(),
                number,
                title: title.into(),
                started_at: d.at - lead,
                deployed_at: d.at,
                lead_time: lead,
                deployment: i as u32,
                rule: format!(
                    "merge commit {:07x} is in GitHub's compare of the deployments before and \
                     at it; from its first commit",
                    0xbeef00 + number
                ),
            });
        }
    }
    let index = |id: &str| listed.iter().position(|d| d.id == id).map(|i| i as u32);
    let mut failures = Vec::new();
    let mut failure = |kind, number, title: &str, dep: &str, began, recovered, rule: &str| {
        if let Some(deployment) = index(dep)
            && began >= since
            && began < until
        {
            failures.push(FailureItem {
                repo: listed[deployment as usize].repo.into(),
                kind,
                number,
                title: title.into(),
                deployment,
                began_at: began,
                recovered_at: recovered,
                rule: rule.into(),
            });
        }
    };
    let day = 86_400;
    failure(
        FailureKind::Incident,
        Some(88),
        "Logins fail for SSO users",
        "DE_kwDOA100",
        T0 - 9 * day,
        Some(T0 - 9 * day + 20 * HOUR),
        "linked to DE_kwDO: the last successful deployment before it opened; recovered when \
         the issue closed",
    );
    failure(
        FailureKind::FailedStatus,
        None,
        "production status failure",
        "DE_kwDOA101",
        T0 - 6 * day,
        Some(T0 - 6 * day + 2 * HOUR),
        "its own status: status failure; recovered by the next successful deployment, \
         DE_kwDOA102",
    );
    failure(
        FailureKind::Revert,
        Some(1286),
        "Revert \"Cache tokens in memory\"",
        "DE_kwDOA100",
        T0 - 6 * day - 3 * HOUR,
        Some(T0 - 6 * day + 2 * HOUR),
        "#1286 reverts #1284, which DE_kwDO shipped; recovered when the revert shipped",
    );
    failure(
        FailureKind::Incident,
        Some(91),
        "Deploy left the queue paused",
        "9912345678",
        T0 - 12 * HOUR,
        None,
        "linked to 9912345: the last successful deployment before it opened; not recovered: \
         the issue is open",
    );
    failures.sort_by_key(|f| f.began_at);

    // Nearest rank, as the daemon's distributions.
    let percentile = |mut v: Vec<i64>| -> tidemark_protocol::delivery::Durations {
        v.sort_unstable();
        let at = |p: usize| {
            v.get((v.len() * p).div_ceil(100).saturating_sub(1))
                .copied()
        };
        tidemark_protocol::delivery::Durations {
            count: v.len() as u64,
            p50: at(50),
            p90: at(90),
        }
    };
    let group = |key: String, from: i64, to: i64| {
        let pick = |f: &dyn Fn(&DeploymentItem) -> bool| -> Vec<u32> {
            deployments
                .iter()
                .enumerate()
                .filter(|(_, d)| d.at >= from && d.at < to && f(d))
                .map(|(i, _)| i as u32)
                .collect()
        };
        let deployed = pick(&|d| d.outcome == DeployOutcome::Success);
        let finished = pick(&|_| true);
        let failed = pick(&|d| !d.failed_by.is_empty());
        let rework = pick(&|d| !d.rework_by.is_empty());
        let in_group: Vec<u32> = (0..changes.len() as u32)
            .filter(|&i| {
                let c = &changes[i as usize];
                c.deployed_at >= from && c.deployed_at < to
            })
            .collect();
        let group_failures: Vec<u32> = (0..failures.len() as u32)
            .filter(|&i| {
                let f = &failures[i as usize];
                f.began_at >= from && f.began_at < to
            })
            .collect();
        let lead_time = percentile(
            in_group
                .iter()
                .map(|&i| changes[i as usize].lead_time)
                .collect(),
        );
        let recovery = percentile(
            group_failures
                .iter()
                .filter_map(|&i| {
                    let f = &failures[i as usize];
                    dora::recovery(f.began_at, f.recovered_at)
                })
                .collect(),
        );
        tidemark_protocol::delivery::DoraGroup {
            key,
            since: from,
            until: to,
            per_week_milli: dora::per_week_milli(deployed.len() as u64, to - from),
            frequency_band: dora::frequency_band(deployed.len() as u64, to - from),
            lead_time_band: dora::lead_time_band(lead_time.p50),
            fail_rate_band: dora::fail_rate_band(failed.len() as u64, finished.len() as u64),
            recovery_band: dora::recovery_band(recovery.p50),
            deployed,
            changes: in_group,
            lead_time,
            finished,
            failed,
            failures: group_failures,
            recovery,
            rework,
        }
    };
    let groups = match by {
        DoraGrouping::Team => vec![group("platform".into(), since, until)],
        DoraGrouping::Repo => ["acme/api", "acme/web", "acme/infra"]
            .iter()
            .map(|r| group((*r).into(), since, until))
            .collect(),
        DoraGrouping::Week => {
            let mut start = since;
            let mut weeks = Vec::new();
            let mut n = 0;
            while start < until {
                let end = (start + WEEK).min(until);
                weeks.push(group(format!("2024-W{:02}", 41 + n), start, end));
                start = end;
                n += 1;
            }
            weeks
        }
    };
    DoraReport {
        edition: EDITION.into(),
        since,
        until,
        repos: vec![
            RepoSignal {
                repo: "acme/api".into(),
                signal: Signal::Deployments,
                rule: "the best signal found: deployments".into(),
            },
            RepoSignal {
                repo: "acme/web".into(),
                signal: Signal::MergedPrs,
                rule: "no deployments, workflow runs, releases or tags found: merged pull \
                       requests stand in (a proxy)"
                    .into(),
            },
            RepoSignal {
                repo: "acme/infra".into(),
                signal: Signal::WorkflowRuns,
                rule: "the best signal found: workflow-runs".into(),
            },
        ],
        groups,
        deployments,
        changes,
        failures,
    }
}

/// The Delivery tab's data for the period starting `since` (the clock at `T0 + 1 h`).
pub fn delivery_data(since: i64) -> crate::tabs::delivery::DeliveryData {
    use tidemark_protocol::delivery::{DeliveryConfig, DoraGrouping};
    let until = T0 + 3600;
    crate::tabs::delivery::DeliveryData::new(
        dora_report(since, until, DoraGrouping::Team),
        dora_report(since, until, DoraGrouping::Week),
        DeliveryConfig::default(),
    )
}
