//! Tests of `sync.rs`.
use super::*;
use crate::fixtures;

#[test]
fn available_repos_table() {
    let out = repos_available("platform", &fixtures::available_repos());
    assert_eq!(
        out,
        "\
NAME             PRIVATE  ARCHIVED  LAST PUSH             TRACKED
acme/api         no       no        2025-01-05 14:03 UTC  yes
acme/web         no       no        2025-01-05 13:03 UTC  yes
acme/infra       yes      no        2025-01-04 08:00 UTC  yes
acme/billing     yes      no        2025-01-04 14:03 UTC  no
acme/legacy-app  no       yes       2021-01-01 00:00 UTC  no
acme/.github     no       no        never                 no
"
    );
    assert!(repos_available("platform", &[]).contains("no repositories"));
}

#[test]
fn a_hook_with_deliveries_still_missed_says_how_many() {
    let mut repo = fixtures::repos().remove(0);
    repo.webhooks_missed = 5;
    repo.webhooks_recovered = 3;
    assert_eq!(hook_state(&repo), "2 missed");
    repo.webhooks_recovered = 5;
    assert_eq!(hook_state(&repo), "live");
}

/// A hook GitHub refused is "not created", with GitHub's reason beside the sync's error.
#[test]
fn a_refused_hook_says_why() {
    let mut repo = fixtures::repos().remove(0);
    repo.webhook_id = None;
    repo.webhook_problem = Some(tidemark_protocol::WebhookProblem {
        reason: "GitHub did not create it: GitHub answered 404: Not Found".into(),
        since: fixtures::T0,
    });
    assert_eq!(hook_state(&repo), "not created");
    assert_eq!(
        repo_problem(&repo).unwrap(),
        "webhook not created: GitHub did not create it: GitHub answered 404: Not Found"
    );
    let table = tracked_repos("platform", &[repo.clone()]);
    assert!(table.contains("not created"), "{table}");
    // Once the hook exists, an old problem is not shown.
    repo.webhook_id = Some(7);
    assert_eq!(repo_problem(&repo), None);
}

#[test]
fn tracked_repos_table() {
    let out = tracked_repos("platform", &fixtures::repos());
    assert_eq!(
        out,
        "\
NAME        SYNC STATUS     LAST SYNC             PRS  HOOK     LAST WEBHOOK          ERROR
acme/api    complete        2025-01-05 14:03 UTC  412  live     2025-01-05 14:03 UTC
acme/web    syncing         never                   0  created  never
acme/infra  error (paused)  2025-01-04 08:00 UTC   57  none     never                 GitHub answered 404: repository not found
"
    );
}

#[test]
fn empty_lists_suggest_the_next_command() {
    assert_eq!(
        tracked_repos("data eng", &[]),
        "No tracked repositories. See what there is with `tidemark repos available --team \
         'data eng'`, then `tidemark repos track --team 'data eng' OWNER/REPO`.\n"
    );
    assert!(members("platform", &[]).contains("`tidemark sync --team platform --wait`"));
    assert_eq!(pull_requests(&[], 50), "No pull requests.\n");
    assert_eq!(
        metrics(&[], MetricsGrouping::Team),
        "No pull requests to measure.\n"
    );
}

#[test]
fn shell_words_are_quoted_when_needed() {
    assert_eq!(shell_word("platform"), "platform");
    assert_eq!(shell_word("data-eng_2"), "data-eng_2");
    assert_eq!(shell_word("data eng"), "'data eng'");
    assert_eq!(shell_word("it's"), r"'it'\''s'");
    assert_eq!(shell_word("Ünïcode"), "'Ünïcode'");
    assert_eq!(shell_word(""), "''");
}

#[test]
fn track_and_untrack_confirmations() {
    let repos = &fixtures::repos()[..2];
    assert_eq!(
        tracked("platform", repos),
        "Team 'platform' tracks acme/api, acme/web.\nThe next sync fetches their pull \
         requests; to start it now: `tidemark sync --team platform --wait`.\n"
    );
    assert_eq!(
        untracked("platform", &["acme/infra".into(), "acme/web".into()]),
        "Team 'platform' no longer tracks acme/infra, acme/web; their synced history stays.\n"
    );
}

#[test]
fn members_table_marks_bots_and_leavers() {
    let out = members("platform", &fixtures::members());
    assert_eq!(
        out,
        "\
LOGIN            NAME             EMAIL            BOT  LEFT
alice            Alice Liddell    alice@acme.test  no   —
bob-k            Bob Kowalski     —                no   2025-01-01 00:00 UTC
dependabot[bot]  dependabot[bot]  —                yes  —
—                Carol Danvers    carol@acme.test  no   —
"
    );
}

#[test]
fn pull_request_table() {
    let out = pull_requests(&fixtures::pull_requests(), 50);
    assert_eq!(
        out,
        "\
REPO           #  TITLE                                              AUTHOR           STATE   SIZE        CYCLE  REVIEW
acme/api    1290  Add rate-limit budget to the sync status           alice            open    +45/−3      —      —
acme/web     311  WIP: new dashboard layout                          bob-k            draft   +1200/−800  —      —
acme/api    1287  Retry GraphQL pages that time out with a smaller…  alice            merged  +120/−30    3d 3h  45m
acme/infra    77  Bump tokio from 1.40 to 1.41                       dependabot[bot]  merged  +2/−2       1m     50s
acme/web    290*  Vendor the ?]0;icons? folder                       —                closed  +40000/−0   —      —
* more than 250 commits: GitHub lists only 250, so figures from its commits are approximate.
"
    );
}

/// Where `header`'s column starts on each line of a table, in terminal cells.
fn column_starts(out: &str, header: &str, values: &[&str]) -> Vec<usize> {
    out.lines()
        .filter(|line| !line.starts_with('*'))
        .map(|line| {
            let at = std::iter::once(header)
                .chain(values.iter().copied())
                .find_map(|v| line.find(&format!("  {v}")))
                .unwrap_or_else(|| panic!("no {header} in {line:?}"));
            columns::cells(&line[..at + 2])
        })
        .collect()
}

#[test]
fn tables_line_up_in_cells_with_wide_and_combining_characters() {
    let mut prs = fixtures::pull_requests();
    prs[0].title = "équipe 🚀 日本".into(); // 13 characters, 14 cells
    prs[1].title = "Cafe\u{301} cre\u{300}me".into(); // 13 characters, 11 cells
    prs[2].author = Some("日本の人".into()); // 4 characters, 8 cells
    let out = pull_requests(&prs, 0);
    let authors = column_starts(
        &out,
        "AUTHOR",
        &["alice", "bob-k", "日本の人", "dependabot[bot]", "—"],
    );
    assert!(
        authors.windows(2).all(|w| w[0] == w[1]),
        "{authors:?}\n{out}"
    );
    let states = column_starts(&out, "STATE", &["open", "draft", "merged", "closed"]);
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}\n{out}");

    let mut members = fixtures::members();
    members[0].display_name = "équipe 🚀 日本".into();
    members[1].display_name = "Zoe\u{308} Cafe\u{301}".into();
    let out = super::members("platform", &members);
    let emails = column_starts(&out, "EMAIL", &["alice@acme.test", "carol@acme.test", "—"]);
    assert!(emails.windows(2).all(|w| w[0] == w[1]), "{emails:?}\n{out}");
}

#[test]
fn a_full_page_says_there_may_be_more() {
    let prs = fixtures::pull_requests();
    assert!(
        pull_requests(&prs[..2], 2)
            .ends_with("The newest 2; --limit N shows more (--limit 0: all).\n")
    );
    assert!(!pull_requests(&prs[..2], 3).contains("--limit"));
    assert!(!pull_requests(&prs[..2], 0).contains("--limit"));
}

#[test]
fn titles_are_cut_and_made_printable() {
    assert_eq!(truncate("short", 10), "short");
    assert_eq!(truncate("exactly 10", 10), "exactly 10");
    assert_eq!(truncate("one two three", 9), "one two…");
    assert_eq!(truncate("ÜÜÜÜÜÜ", 4), "ÜÜÜ…");
    // Cells, not characters: a wide character takes two.
    assert_eq!(truncate("日本語のタイトル", 9), "日本語の…");
    assert_eq!(printable("a\u{1b}[2Jb\r\n"), "a?[2Jb??");
}

#[test]
fn metrics_table_by_repo() {
    let out = metrics(
        &fixtures::metrics_rows(MetricsGrouping::Repo),
        MetricsGrouping::Repo,
    );
    assert_eq!(
        out,
        "\
REPO        PRS  MERGED  CYCLE                  REVIEW TIME       CODING         PICKUP            REVIEW              SIZE
acme/api    283     251  1d 2h / 3d 4h / 6d 2h  45m / 5h / 1d 6h  4h / 20h / 3d  45m / 5h / 1d 6h  3h / 1d 2h / 2d 2h  48 / 150 / 900
acme/web      1       0  —                      45s / — / —       4h / 20h / 3d  45m / 5h / 1d 6h  —                   48 / 150 / 900
acme/infra   56      47  1d 2h / 3d 4h / 6d 2h  45m / 5h / 1d 6h  4h / 20h / 3d  45m / 5h / 1d 6h  3h / 1d 2h / 2d 2h  48 / 150 / 900
Each measure: p50 / p75 / p90; SIZE in lines. Definitions: `tidemark metrics --help`.
"
    );
    let out = metrics(
        &fixtures::metrics_rows(MetricsGrouping::Week),
        MetricsGrouping::Week,
    );
    assert!(out.starts_with("WEEK      PRS  MERGED"), "{out}");
}

#[test]
fn sync_progress_lines() {
    let steps = fixtures::sync_steps();
    assert_eq!(
        sync_progress_line(&steps[0]),
        "sync: starting, 0 pull requests fetched"
    );
    assert_eq!(
        sync_progress_line(&steps[1]),
        "sync: members, 0/3 repositories, 0 pull requests fetched, rate limit left: graphql \
         4999/5000"
    );
    assert_eq!(
        sync_progress_line(&steps[2]),
        "sync: pull requests, 1/3 repositories, 120 pull requests fetched, rate limit left: \
         graphql 4991/5000"
    );
    let mut odd = steps[2].clone();
    odd.phase = "waiting\u{1b}[2J".into();
    odd.budget.push(tidemark_protocol::RateBudget {
        resource: "core".into(),
        limit: 5000,
        remaining: 0,
        reset_at: 0,
        seen_at: None,
    });
    assert_eq!(
        sync_progress_line(&odd),
        "sync: waiting?[2J, 1/3 repositories, 120 pull requests fetched, rate limit left: \
         graphql 4991/5000, core 0/5000"
    );
    odd.phase.clear();
    assert!(sync_progress_line(&odd).starts_with("sync: syncing, "));
}

/// "4/2 repositories" and "1 repositories" read wrong.
#[test]
fn sync_progress_counts_agree_with_their_nouns() {
    let mut p = fixtures::sync_steps()[2].clone();
    (p.repos_done, p.repos_total, p.prs_fetched) = (1, 1, 1);
    assert!(
        sync_progress_line(&p)
            .starts_with("sync: pull requests, 1/1 repository, 1 pull request fetched"),
        "{}",
        sync_progress_line(&p)
    );
    (p.repos_done, p.repos_total) = (4, 2);
    assert!(
        sync_progress_line(&p).contains(", 2/2 repositories,"),
        "{}",
        sync_progress_line(&p)
    );
    let mut done = fixtures::sync_steps().pop().unwrap();
    (done.repos_done, done.prs_fetched, done.requests) = (1, 1, 1);
    assert!(
        sync_finished("platform", &done)
            .starts_with("Sync of team 'platform' complete: 1 repository, 1 pull request fetched with 1 request ("),
        "{}",
        sync_finished("platform", &done)
    );
}

#[test]
fn sync_summaries() {
    let steps = fixtures::sync_steps();
    assert_eq!(
        sync_started("platform", &steps[1]),
        "Sync of team 'platform' running: members, 0/3 repositories, 0 pull requests \
         fetched, rate limit left: graphql 4999/5000.\nFollow it with `tidemark sync --team \
         platform --wait`.\n"
    );
    assert_eq!(
        sync_finished("platform", steps.last().unwrap()),
        "Sync of team 'platform' complete: 3 repositories, 469 pull requests fetched with 40 \
         requests (at 2025-01-05 14:04 UTC).\nNext sync: 2025-01-05 15:04 UTC.\n"
    );
    let failed = fixtures::failing_sync_steps().pop().unwrap();
    assert_eq!(
        sync_failure(&failed),
        "GitHub rejected the token (401): reconnect GitHub (the daemon tries again at \
         2025-01-05 14:18 UTC)"
    );
    let mut bare = failed;
    bare.error = None;
    bare.next_sync_at = None;
    assert_eq!(sync_failure(&bare), "no reason given");
}

#[test]
fn skipped_items_are_said_not_hidden() {
    let mut done = fixtures::sync_steps().pop().unwrap();
    assert!(!sync_finished("platform", &done).contains("Skipped"));
    done.skipped = 3;
    done.skipped_note = Some("a review: BigInt null".into());
    let text = sync_finished("platform", &done);
    assert!(
        text.contains(
            "Skipped 3 items GitHub sent that tidemark could not read (last: a review: BigInt null)"
        ),
        "{text}"
    );
}
