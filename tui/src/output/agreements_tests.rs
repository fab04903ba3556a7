//! Tests of `output/agreements.rs`: durations and counts over, the Slack line in each state,
//! the tables' columns fitting their values, titles giving way with `…` and numbers never cut.

use super::*;
use crate::fixtures::{self, T0};
use tidemark_protocol::agreements::{Alerts, SlackChannel};

fn utc(at: i64) -> String {
    timefmt::utc(at)
}

#[test]
fn over_says_how_far_in_its_own_unit() {
    assert_eq!(over(Over::Seconds(3 * 3600 + 20 * 60)), "3h 20m over");
    assert_eq!(
        over(Over::Seconds(2 * 86_400 + 4 * 3600 + 59)),
        "2d 4h over"
    );
    assert_eq!(over(Over::Seconds(45)), "45s over");
    assert_eq!(
        over(Over::WorkingTime {
            seconds: 2 * 9 * 3600 + 3600,
            day_seconds: 9 * 3600
        }),
        "2 working days 1h over"
    );
    assert_eq!(over(Over::Lines(1)), "1 line over");
    assert_eq!(over(Over::Lines(1_240)), "1240 lines over");
    assert_eq!(over(Over::Approvals(1)), "1 approval missing");
    assert_eq!(over(Over::Approvals(2)), "2 approvals missing");
    assert_eq!(over(Over::OpenPrs(1)), "1 open PR over");
    assert_eq!(over(Over::OpenPrs(3)), "3 open PRs over");
}

#[test]
fn the_slack_line_says_each_state() {
    let mut s = fixtures::slack_status();
    assert_eq!(slack_line(Some(&s)), "Slack: #eng-alerts (acme)");
    s.channel = None;
    assert_eq!(slack_line(Some(&s)), "Slack: acme, no channel chosen");
    s.problem = Some("token revoked".into());
    assert_eq!(slack_line(Some(&s)), "Slack: reconnect — token revoked");
    // A revoked link may no longer count as connected: the problem still shows.
    s.connected = false;
    assert_eq!(slack_line(Some(&s)), "Slack: reconnect — token revoked");
    assert_eq!(slack_line(None), "Slack: not connected");
    assert_eq!(
        slack_line(Some(&SlackStatus::default())),
        "Slack: not connected"
    );
    // What Slack sent is made safe for a terminal.
    s.problem = Some("bad\x1b[2Jthing".into());
    assert_eq!(slack_line(Some(&s)), "Slack: reconnect — bad?[2Jthing");
}

#[test]
fn slack_posts_are_short() {
    assert_eq!(slack_post(None), "—");
    assert_eq!(slack_post(Some(&SlackPost::Pending)), "pending");
    assert_eq!(
        slack_post(Some(&SlackPost::Posted {
            at: 0,
            updated: true
        })),
        "posted, updated"
    );
    assert_eq!(
        slack_post(Some(&SlackPost::NotSent {
            reason: "no channel".into()
        })),
        "not sent: no channel"
    );
}

#[test]
fn shares_are_tenths_rounded_down_and_a_dash_for_none() {
    assert_eq!(share(8, 7), "87.5%");
    assert_eq!(share(3, 2), "66.6%");
    assert_eq!(share(9, 9), "100.0%");
    assert_eq!(share(0, 0), "—");
}

#[test]
fn agreements_show_each_limit_or_not_set() {
    let text = agreements("platform", &fixtures::agreements());
    assert!(
        text.starts_with("Working agreements of team 'platform':\n"),
        "{text}"
    );
    for line in [
        "  first-review         first review within 24h (working time)\n",
        "  max-size             at most 400 lines changed\n",
        "  merge-within         merged within 7d of opening (working time)\n",
        "  working-hours        09:00-18:00 Mon-Fri, Europe/Berlin\n",
        "  digest               daily at 09:30 Europe/Berlin\n",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let none = agreements("platform", &Agreements::default());
    assert!(none.contains("  max-size             not set\n"), "{none}");
    assert!(none.contains("not set (no daily digest)"), "{none}");
    assert!(none.contains("nothing is checked yet"), "{none}");
}

#[test]
fn adherence_is_a_table_with_whole_numbers() {
    let text = adherence("platform", &fixtures::adherence());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "WEEK      AGREEMENT      APPLIED  WITHIN   SHARE");
    assert_eq!(lines[1], "2024-W52  first-review        14      12   85.7%");
    assert_eq!(lines[3], "2024-W52  min-approvals        0       0       —");
    assert!(adherence("platform", &[]).starts_with("No adherence to show"));
}

#[test]
fn alerts_have_a_header_and_columns_that_fit_their_values() {
    let text = alerts(&fixtures::alerts(false), false, &utc);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "3 open breaches · Slack: #eng-alerts (acme)");
    assert!(
        lines[1].starts_with("AGREEMENT            PR             TITLE"),
        "{text}"
    );
    // Newest first, every value whole; the long title gives way with `…`.
    assert!(
        lines[2].starts_with("first-review         acme/api#1289  "),
        "{text}"
    );
    assert!(
        lines[2].contains("Rate-limit the public search endpoint by API ke… "),
        "{text}"
    );
    assert!(lines[2].contains(&utc(T0 - 3 * 3600 - 20 * 60)), "{text}");
    assert!(lines[2].contains("3h 20m over"), "{text}");
    assert!(lines[3].contains("1240 lines over  pending"), "{text}");
    assert!(lines[4].contains("2 open PRs over"), "{text}");
    // The resolved breach only with --all.
    assert_eq!(lines.len(), 5, "{text}");
    assert!(!text.contains("RESOLVED"));
}

#[test]
fn all_alerts_say_how_each_ended() {
    let text = alerts(&fixtures::alerts(true), true, &utc);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("merge-within         acme/web#861"),
        "{text}"
    );
    assert!(
        last.contains(&format!("{} (merged)", utc(T0 - 3 * 86_400 + 4 * 3600))),
        "{text}"
    );
    assert!(last.ends_with("posted, updated"), "{text}");
    assert!(text.contains("  open  "), "{text}");
}

#[test]
fn no_breaches_is_said_in_words() {
    let empty = Alerts {
        breaches: vec![],
        open: 0,
        evaluated_at: None,
        slack: SlackStatus::default(),
    };
    let text = alerts(&empty, false, &utc);
    assert_eq!(
        text,
        "No open breaches · Slack: not connected\nEvery pull request is within the team's \
         agreements (--all shows resolved breaches).\n"
    );
}

#[test]
fn a_limited_answer_says_how_many_are_open() {
    let mut a = fixtures::alerts(false);
    a.open = 40;
    let text = alerts(&a, false, &utc);
    assert!(text.ends_with("(the newest 3 of 40 shown)\n"), "{text}");
}

#[test]
fn long_reasons_give_way_but_numbers_never_do() {
    let mut a = fixtures::alerts(false);
    a.breaches[0].slack = Some(SlackPost::NotSent {
        reason: "the channel was archived in Slack, so nothing can be posted there".into(),
    });
    a.breaches[0].over = Over::Seconds(400 * 86_400 + 3600);
    a.breaches[0].number = 1_234_567;
    let text = alerts(&a, false, &utc);
    assert!(text.contains("acme/api#1234567"), "{text}");
    assert!(text.contains("400d 1h over"), "{text}");
    let reason = text.lines().nth(2).unwrap().rsplit("  ").next().unwrap();
    assert_eq!(columns::cells(reason), REASON_CELLS, "{reason}");
    assert!(reason.ends_with('…'), "{reason}");
}

#[test]
fn slack_status_lists_what_a_person_needs() {
    let text = slack_status("platform", Some(&fixtures::slack_status()), T0);
    assert!(
        text.contains("  channel:    #eng-alerts (C024BE91L)\n"),
        "{text}"
    );
    assert!(text.contains("17 sent (last 3h ago), 1 waiting"), "{text}");
    let mut broken = fixtures::slack_status();
    broken.problem = Some("token revoked".into());
    let text = slack_status("platform", Some(&broken), T0);
    assert!(
        text.contains("token revoked — posting stopped; reconnect: tidemark connect slack"),
        "{text}"
    );
    assert!(slack_status("platform", None, T0).contains("is not connected to Slack"));
}

#[test]
fn the_channel_menu_is_numbered_from_one() {
    let channels = vec![SlackChannel {
        id: "C1".into(),
        name: "eng".into(),
    }];
    assert_eq!(
        channel_menu(&channels),
        "Channels the tidemark bot can see:\n   1. #eng\n"
    );
    assert_eq!(
        channel_names(&fixtures::slack_channels()),
        "#eng-alerts, #platform, #random"
    );
}
