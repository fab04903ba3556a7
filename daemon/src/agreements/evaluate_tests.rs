//! Hand-worked cases: every time below was worked out on a calendar (Berlin, 09:00-18:00,
//! Monday to Friday) before the code ran.

use super::clock::WorkClock;
use super::evaluate::{Crossing, Standing, approvers, open_per_author, standing};
use super::live::evaluate_team;
use crate::crypto::{Keyring, Secret};
use crate::store::{
    NewCredential, NewGitHubIntegration, PrReview, PrState, Provider, PullRequest, ReviewState,
    Store, TeamId,
};
use tidemark_protocol::agreements::{AgreementKind as K, Agreements, Span, WorkingHours};

const REPO: u64 = 3_000_000_001;

fn berlin() -> WorkClock {
    WorkClock::new(
        "Europe/Berlin",
        Some(WorkingHours::parse("09:00-18:00").unwrap()),
    )
    .unwrap()
}

/// Berlin wall-clock time.
fn at(y: i16, m: i8, d: i8, hh: u16, mm: u16) -> i64 {
    berlin()
        .at(jiff::civil::date(y, m, d), hh * 60 + mm)
        .unwrap()
}

fn agreements() -> Agreements {
    Agreements {
        first_review_within: Some(Span::Hours(8)),
        max_size: Some(400),
        merge_within: Some(Span::Days(2)),
        min_approvals: Some(1),
        max_open_per_author: Some(2),
        working_hours: Some(WorkingHours::parse("09:00-18:00").unwrap()),
        timezone: "Europe/Berlin".into(),
        digest_at: None,
    }
}

fn pr(number: u64, created: i64) -> PullRequest {
    PullRequest {
        team_id: 1,
        repo_id: REPO,
        number,
        github_id: 70_000 + number,
        title: format!("change {number}"),
        state: PrState::Open,
        is_draft: false,
        author_github_id: Some(1),
        author_login: Some("ada".into()),
        author_member_id: None,
        created_at: created,
        ready_at: Some(created),
        updated_at: created,
        merged_at: None,
        closed_at: None,
        additions: 100,
        deletions: 20,
        first_commit_at: None,
        first_review_at: None,
        cycle_time: None,
        review_time: None,
        merged_by_login: None,
        merged_by_github_id: None,
        merge_commit_sha: None,
        base_ref: None,
        head_ref: None,
        labels: Vec::new(),
    }
}

fn review(pr: &PullRequest, id: u64, who: &str, state: ReviewState, when: i64) -> PrReview {
    PrReview {
        team_id: pr.team_id,
        repo_id: pr.repo_id,
        pr_number: pr.number,
        review_id: id,
        reviewer_github_id: Some(100 + id),
        reviewer_login: Some(who.into()),
        reviewer_member_id: None,
        reviewer_is_bot: who.ends_with("[bot]"),
        state,
        submitted_at: Some(when),
    }
}

fn crossed(since: i64, resolved: Option<(i64, &str)>, measure: u64) -> Standing {
    Standing::Crossed(Crossing {
        since,
        resolved: resolved.map(|(t, h)| (t, h.to_string())),
        measure,
    })
}

#[test]
fn a_friday_evening_pull_request_is_not_late_over_the_weekend() {
    let (a, c) = (agreements(), berlin());
    // Ready Friday 2026-12-04 17:00: 1 working hour on Friday, 7 on Monday: due Monday 16:00.
    let p = pr(1, at(2026, 12, 4, 17, 0));
    let due = at(2026, 12, 7, 16, 0);
    for now in [at(2026, 12, 5, 12, 0), at(2026, 12, 6, 23, 0), due - 1] {
        assert_eq!(
            standing(&a, &c, K::FirstReview, &p, &[], now),
            Standing::Pending { due }
        );
    }
    assert_eq!(
        standing(&a, &c, K::FirstReview, &p, &[], due),
        crossed(due, None, 0)
    );
    // Reviewed Monday 15:00: within. Reviewed Tuesday 10:00: crossed, resolved then.
    let mut reviewed = p.clone();
    reviewed.first_review_at = Some(at(2026, 12, 7, 15, 0));
    assert_eq!(
        standing(&a, &c, K::FirstReview, &reviewed, &[], due + 99_999),
        Standing::Within
    );
    reviewed.first_review_at = Some(at(2026, 12, 8, 10, 0));
    assert_eq!(
        standing(&a, &c, K::FirstReview, &reviewed, &[], due + 99_999),
        crossed(due, Some((at(2026, 12, 8, 10, 0), "reviewed")), 0)
    );
    // Without working hours, 8 hours would have run out at 01:00 on Saturday.
    let calendar = WorkClock::calendar();
    let mut plain = a.clone();
    plain.working_hours = None;
    assert_eq!(
        standing(
            &plain,
            &calendar,
            K::FirstReview,
            &p,
            &[],
            at(2026, 12, 5, 1, 0)
        ),
        crossed(at(2026, 12, 5, 1, 0), None, 0)
    );
}

#[test]
fn a_limit_across_the_change_to_summer_time_keeps_working_hours_on_the_wall_clock() {
    let (mut a, c) = (agreements(), berlin());
    a.first_review_within = Some(Span::Hours(18));
    // Friday 2026-03-27 09:00 CET; the clocks go forward on Sunday the 29th; 18 working hours
    // end Monday 30th 18:00 CEST, 3 days 8 hours of real time later.
    let p = pr(2, at(2026, 3, 27, 9, 0));
    let due = at(2026, 3, 30, 18, 0);
    assert_eq!(due - p.created_at, 3 * 86_400 + 8 * 3_600);
    assert_eq!(
        standing(&a, &c, K::FirstReview, &p, &[], due - 1),
        Standing::Pending { due }
    );
    assert_eq!(
        standing(&a, &c, K::FirstReview, &p, &[], due),
        crossed(due, None, 0)
    );
}

#[test]
fn drafts_are_measured_by_nothing_until_they_are_ready() {
    let (a, c) = (agreements(), berlin());
    let mut p = pr(3, at(2026, 12, 1, 9, 0));
    p.is_draft = true;
    p.ready_at = None;
    p.additions = 5_000;
    let late = at(2026, 12, 20, 9, 0);
    for kind in [K::FirstReview, K::MaxSize, K::MergeWithin] {
        assert_eq!(standing(&a, &c, kind, &p, &[], late), Standing::NotMeasured);
    }
    // Ready on Thursday 3rd 10:00: the review clock starts then (due 18:00 the same day), the
    // size counts from then, and the merge limit (2 working days from opening, Thursday 09:00)
    // is crossed from the moment it was ready, not before.
    p.is_draft = false;
    p.ready_at = Some(at(2026, 12, 3, 10, 0));
    assert_eq!(
        standing(&a, &c, K::FirstReview, &p, &[], at(2026, 12, 3, 17, 0)),
        Standing::Pending {
            due: at(2026, 12, 3, 18, 0)
        }
    );
    assert_eq!(
        standing(&a, &c, K::MaxSize, &p, &[], late),
        crossed(at(2026, 12, 3, 10, 0), None, 5_020)
    );
    assert_eq!(
        standing(&a, &c, K::MergeWithin, &p, &[], late),
        crossed(at(2026, 12, 3, 10, 0), None, 0)
    );
}

#[test]
fn bots_pull_requests_are_not_measured_and_their_reviews_do_not_count() {
    let (a, c) = (agreements(), berlin());
    let mut p = pr(4, at(2026, 12, 1, 9, 0));
    p.author_login = Some("dependabot[bot]".into());
    p.additions = 9_000;
    for kind in K::ALL {
        assert_eq!(
            standing(&a, &c, kind, &p, &[], at(2026, 12, 30, 9, 0)),
            Standing::NotMeasured
        );
    }
    let human = pr(5, at(2026, 12, 1, 9, 0));
    let bot_approval = review(
        &human,
        1,
        "renovate[bot]",
        ReviewState::Approved,
        human.created_at,
    );
    let own = PrReview {
        reviewer_github_id: Some(1),
        ..review(&human, 2, "ada", ReviewState::Approved, human.created_at)
    };
    assert_eq!(approvers(&human, &[bot_approval, own], i64::MAX), 0);
    // Five ready bot PRs do not make their author "over the limit".
    let bots: Vec<PullRequest> = (10..15).map(|n| p_with_number(&p, n)).collect();
    assert!(open_per_author(2, &bots).is_empty());
}

fn p_with_number(p: &PullRequest, n: u64) -> PullRequest {
    PullRequest {
        number: n,
        ..p.clone()
    }
}

#[test]
fn size_merge_and_approvals_against_their_limits() {
    let (a, c) = (agreements(), berlin());
    let opened = at(2026, 12, 1, 9, 0); // Tuesday
    let mut p = pr(6, opened);
    p.additions = 380;
    p.deletions = 21;
    assert_eq!(
        standing(&a, &c, K::MaxSize, &p, &[], opened),
        crossed(opened, None, 401)
    );
    p.deletions = 20;
    assert_eq!(
        standing(&a, &c, K::MaxSize, &p, &[], opened),
        Standing::Within
    );
    // Two working days from Tuesday 09:00: Wednesday 18:00. Merged Thursday 11:00: late.
    let due = at(2026, 12, 2, 18, 0);
    p.state = PrState::Merged;
    p.merged_at = Some(at(2026, 12, 3, 11, 0));
    assert_eq!(
        standing(&a, &c, K::MergeWithin, &p, &[], p.merged_at.unwrap()),
        crossed(due, Some((at(2026, 12, 3, 11, 0), "merged")), 0)
    );
    // Approved, then changes requested by the same reviewer before merge: no approval at
    // merge. Approved again after the merge: resolved then.
    let merged = p.merged_at.unwrap();
    let reviews = vec![
        review(&p, 1, "bo", ReviewState::Approved, merged - 3_600),
        review(&p, 2, "bo", ReviewState::ChangesRequested, merged - 600),
        review(&p, 3, "cy", ReviewState::Commented, merged - 300),
        review(&p, 4, "bo", ReviewState::Approved, merged + 7_200),
    ];
    assert_eq!(
        standing(&a, &c, K::MinApprovals, &p, &reviews, merged + 9_000),
        crossed(merged, Some((merged + 7_200, "approved after merge")), 0)
    );
    assert_eq!(
        standing(&a, &c, K::MinApprovals, &p, &reviews[..1], merged),
        Standing::Within
    );
    // Closed without merging: neither merge nor approvals measure it.
    p.state = PrState::Closed;
    p.merged_at = None;
    p.closed_at = Some(merged);
    assert_eq!(
        standing(&a, &c, K::MergeWithin, &p, &[], merged),
        Standing::NotMeasured
    );
    assert_eq!(
        standing(&a, &c, K::MinApprovals, &p, &reviews, merged),
        Standing::NotMeasured
    );
}

#[test]
fn the_third_open_pull_request_of_an_author_goes_beyond_a_limit_of_two() {
    let mut prs: Vec<PullRequest> = (1..=3).map(|n| pr(n, 1_000 * n as i64)).collect();
    let mut draft = pr(4, 5_000);
    draft.is_draft = true;
    prs.push(draft);
    let mut other = pr(5, 6_000);
    other.author_login = Some("bo".into());
    prs.push(other);
    let over = open_per_author(2, &prs);
    assert_eq!(over.len(), 1);
    assert_eq!((over[0].author.as_str(), over[0].open), ("ada", 3));
    assert_eq!((over[0].pr.number, over[0].since), (3, 3_000));
    prs[0].state = PrState::Merged;
    assert!(open_per_author(2, &prs).is_empty());
}

/// A store with one team tracking [`REPO`].
fn store_with_team() -> (tempfile::TempDir, Store, TeamId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let keys = Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap();
    let team = store.create_team("platform", None).unwrap().id;
    store
        .create_credential(
            &keys,
            team,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new("gho_test"),
                refresh_token: None,
                token_expires_at: None,
                scopes: vec![],
                connected_by: None,
            },
        )
        .unwrap();
    store
        .create_github_integration(
            &keys,
            team,
            NewGitHubIntegration {
                organization_slug: "acme".into(),
                organization_id: 1,
                webhook_secret: Secret::new("whsec"),
            },
        )
        .unwrap();
    store.track_repo(team, REPO, "acme/widgets").unwrap();
    (dir, store, team)
}

fn put(store: &Store, team: TeamId, mut p: PullRequest, reviews: Vec<PrReview>) {
    p.team_id = team;
    let reviews = reviews
        .into_iter()
        .map(|r| PrReview { team_id: team, ..r })
        .collect();
    store.put_pull_request(p, reviews, vec![]).unwrap();
}

#[test]
fn live_checks_open_resolve_and_reopen_breaches_and_leave_old_history_alone() {
    let (_dir, store, team) = store_with_team();
    let set_at = at(2026, 12, 1, 9, 0);
    // Merged long before the agreements existed, far over the size: history, not an alert.
    let mut old = pr(1, at(2026, 11, 2, 9, 0));
    old.additions = 9_000;
    old.state = PrState::Merged;
    old.merged_at = Some(at(2026, 11, 3, 9, 0));
    put(&store, team, old, vec![]);
    let p = pr(2, at(2026, 12, 1, 10, 0));
    put(&store, team, p.clone(), vec![]);
    let mut a = agreements();
    a.max_open_per_author = None;
    super::set(&store, team, a, set_at).unwrap();

    // Due Tuesday 18:00; at 17:59 nothing, at 18:00 one breach.
    let due = at(2026, 12, 1, 18, 0);
    assert_eq!(
        evaluate_team(&store, team, due - 60).unwrap().opened.len(),
        0
    );
    let o = evaluate_team(&store, team, due).unwrap();
    assert_eq!(o.opened.len(), 1);
    let b = store.breaches(team).unwrap().remove(0);
    assert_eq!(
        (b.kind, b.number, b.since, b.resolved_at),
        (K::FirstReview, 2, due, None)
    );
    // Checked again: nothing new.
    assert_eq!(
        evaluate_team(&store, team, due + 30).unwrap(),
        Default::default()
    );

    // Closed unreviewed on Wednesday 10:00: resolved then.
    let closed = at(2026, 12, 2, 10, 0);
    let mut c = p.clone();
    c.state = PrState::Closed;
    c.closed_at = Some(closed);
    put(&store, team, c, vec![]);
    let o = evaluate_team(&store, team, closed + 5).unwrap();
    assert_eq!(o.resolved, vec![b.id]);
    let b = store.breach(team, b.id).unwrap().unwrap();
    assert_eq!(b.resolved_at, Some(closed));
    assert_eq!(b.resolution.as_deref(), Some("closed without a review"));

    // Reopened at 11:00 (GitHub clears closed_at): a new breach, after the old one ended.
    let reopened = at(2026, 12, 2, 11, 0);
    put(&store, team, p.clone(), vec![]);
    let o = evaluate_team(&store, team, reopened).unwrap();
    assert_eq!(o.opened.len(), 1);
    let again = store.breach(team, o.opened[0]).unwrap().unwrap();
    assert_eq!(again.since, closed);
    assert!(again.resolved_at.is_none());

    // Back to draft: resolved as such. The old merged PR never got a breach.
    let mut d = p.clone();
    d.is_draft = true;
    put(&store, team, d, vec![]);
    let o = evaluate_team(&store, team, reopened + 60).unwrap();
    assert_eq!(o.resolved, vec![again.id]);
    let again = store.breach(team, again.id).unwrap().unwrap();
    assert_eq!(again.resolution.as_deref(), Some("back to draft"));
    assert!(store.breaches(team).unwrap().iter().all(|b| b.number == 2));
}

#[test]
fn a_bot_review_does_not_stop_the_first_review_clock_in_the_store() {
    let (_dir, store, team) = store_with_team();
    let p = pr(7, at(2026, 12, 1, 9, 0));
    let bot = review(
        &p,
        1,
        "copilot[bot]",
        ReviewState::Commented,
        at(2026, 12, 1, 9, 5),
    );
    put(&store, team, p, vec![bot]);
    super::set(&store, team, agreements(), at(2026, 12, 1, 8, 0)).unwrap();
    let o = evaluate_team(&store, team, at(2026, 12, 1, 17, 0)).unwrap();
    assert_eq!(o.opened.len(), 1);
    let b = store.breaches(team).unwrap().remove(0);
    assert_eq!((b.kind, b.since), (K::FirstReview, at(2026, 12, 1, 17, 0)));
}

#[test]
fn adherence_counts_each_week_what_stayed_within() {
    let (_dir, store, team) = store_with_team();
    let mut a = agreements();
    a.working_hours = None;
    a.timezone = "UTC".into();
    a.first_review_within = Some(Span::Hours(24));
    super::set(&store, team, a, 0).unwrap();
    // Week 2026-W49 (Mon 2026-11-30): one reviewed in time, one late; a draft and a bot's
    // are left out.
    let monday = 1_795_996_800;
    assert_eq!(tidemark_protocol::metrics::iso_week(monday), "2026-W49");
    let mut on_time = pr(1, monday);
    on_time.first_review_at = Some(monday + 3_600);
    let mut late = pr(2, monday + 60);
    late.first_review_at = Some(monday + 60 + 25 * 3_600);
    let mut draft = pr(3, monday);
    draft.is_draft = true;
    draft.ready_at = None;
    let mut bot = pr(4, monday);
    bot.author_login = Some("dependabot[bot]".into());
    for (p, first) in [on_time, late, draft, bot].into_iter().map(|p| {
        let first = p.first_review_at;
        (p, first)
    }) {
        // The store computes first_review_at from reviews: give it the review it names.
        let reviews = first
            .map(|t| vec![review(&p, p.number, "bo", ReviewState::Commented, t)])
            .unwrap_or_default();
        put(&store, team, p, reviews);
    }
    let rows = super::adherence(&store, team, None, monday + 30 * 86_400).unwrap();
    let first: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == K::FirstReview)
        .map(|r| (r.week.as_str(), r.applied, r.within))
        .collect();
    assert_eq!(first, vec![("2026-W49", 2, 1)]);
}
