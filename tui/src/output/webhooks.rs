//! Words for what the daemon did with a team's webhook deliveries besides applying them, and
//! for GitHub's rate budget as it last answered: shared by `tidemark status` and the TUI's
//! Overview, each fact in parts that are never cut (a line of its own in the CLI; in the TUI
//! its parts flow between ` · `, `columns::flow`).

use tidemark_protocol::{RateBudget, WebhookIntake};

use super::plural;
use crate::timefmt;

/// `just now`, `5m ago`; the date when the time is not known yet (`now` 0).
pub fn since(now: i64, at: i64) -> String {
    if now == 0 {
        return timefmt::utc(at);
    }
    if now - at < 60 {
        return "just now".into();
    }
    format!("{} ago", timefmt::duration(now - at))
}

fn last(now: i64, at: Option<i64>) -> Option<String> {
    at.map(|at| format!("last {}", since(now, at)))
}

/// One fact per thing that happened (none when nothing did), each in parts that are shown
/// whole: replays ignored, deliveries refused for a full backlog, re-reads held back for the
/// rate budget, what re-reads spent. The CLI writes a fact on a line, the TUI flows its parts.
pub fn describe_intake(i: &WebhookIntake, now: i64) -> Vec<Vec<String>> {
    let mut facts = Vec::new();
    if i.replays_ignored > 0 {
        facts.push(
            [
                Some(plural(
                    i.replays_ignored,
                    "replay ignored",
                    "replays ignored",
                )),
                Some("a body received before".into()),
                last(now, i.last_replay_at),
            ]
            .into_iter()
            .flatten()
            .collect(),
        );
    }
    if i.refused_backlog_full > 0 {
        facts.push(
            [
                Some(format!("{} refused with 503", i.refused_backlog_full)),
                Some(format!("{} were waiting", i.backlog_max)),
                Some("the next sync covers them".into()),
                last(now, i.last_refused_at),
            ]
            .into_iter()
            .flatten()
            .collect(),
        );
    }
    if i.held_for_budget > 0 {
        facts.push(
            [
                Some(format!(
                    "{} held back for the rate budget",
                    i.held_for_budget
                )),
                i.held_until.map(|t| format!("until {}", timefmt::utc(t))),
                Some("the sync keeps its share".into()),
                last(now, i.last_held_at),
            ]
            .into_iter()
            .flatten()
            .collect(),
        );
    }
    if i.webhook_points > 0 {
        facts.push(vec![
            format!(
                "re-reads spent {} this window",
                plural(i.webhook_points, "point", "points")
            ),
            "at most half the budget".into(),
        ]);
    }
    facts
}

/// `graphql 4981/5000 (resets 2025-01-05 15:03 UTC; seen 2025-01-05 14:02 UTC)`: `resets`
/// and `seen` tell the two times (a date, or how long from now and ago).
pub fn describe_budget(
    b: &RateBudget,
    resets: impl Fn(i64) -> String,
    seen: impl Fn(i64) -> String,
) -> String {
    let seen = b
        .seen_at
        .map(|at| format!("; seen {}", seen(at)))
        .unwrap_or_default();
    format!(
        "{} {}/{} (resets {}{seen})",
        super::printable(&b.resource),
        b.remaining,
        b.limit,
        resets(b.reset_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_happened_says_nothing() {
        assert!(describe_intake(&WebhookIntake::default(), 1000).is_empty());
    }

    #[test]
    fn each_thing_that_happened_is_one_fact_in_whole_parts() {
        let now = 1_736_089_380;
        let i = WebhookIntake {
            backlog_max: 10_000,
            replays_ignored: 72_593,
            last_replay_at: Some(now - 90),
            refused_backlog_full: 3,
            last_refused_at: Some(now - 5),
            held_for_budget: 40,
            last_held_at: Some(now - 3600),
            held_until: Some(1_736_089_380 + 1200),
            webhook_points: 1,
        };
        let facts: Vec<String> = describe_intake(&i, now)
            .into_iter()
            .map(|parts| parts.join(" · "))
            .collect();
        assert_eq!(
            facts,
            [
                "72593 replays ignored · a body received before · last 1m ago",
                "3 refused with 503 · 10000 were waiting · the next sync covers them · last just now",
                "40 held back for the rate budget · until 2025-01-05 15:23 UTC · the sync keeps \
                 its share · last 1h ago",
                "re-reads spent 1 point this window · at most half the budget",
            ]
        );
        let one = WebhookIntake {
            replays_ignored: 1,
            last_replay_at: Some(now),
            ..WebhookIntake::default()
        };
        assert_eq!(
            describe_intake(&one, 0),
            [[
                "1 replay ignored",
                "a body received before",
                "last 2025-01-05 15:03 UTC"
            ]]
        );
    }

    #[test]
    fn a_budget_says_when_github_said_it() {
        let b = RateBudget {
            resource: "graphql".into(),
            limit: 5000,
            remaining: 0,
            reset_at: 1_736_089_380,
            seen_at: Some(1_736_089_380 - 120),
        };
        assert_eq!(
            describe_budget(&b, timefmt::utc, timefmt::utc),
            "graphql 0/5000 (resets 2025-01-05 15:03 UTC; seen 2025-01-05 15:01 UTC)"
        );
        let unseen = RateBudget { seen_at: None, ..b };
        assert_eq!(
            describe_budget(&unseen, |_| "soon".into(), |_| "never".into()),
            "graphql 0/5000 (resets soon)"
        );
    }
}
