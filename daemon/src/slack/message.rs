//! The words of a breach's Slack message, and the marker that finds it again in the channel
//! after a crash between its send and its record.

use crate::store::BreachRecord;

/// The message's last words: unique per breach (ids are never reused).
pub fn marker(breach_id: u64) -> String {
    format!("tidemark alert #{breach_id}")
}

/// Slack's escaping of `&`, `<` and `>` in message text (its formatting reference).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A time as Slack shows it to each reader in their own zone, with a UTC fallback.
fn when(t: i64) -> String {
    let fallback = time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string());
    format!("<!date^{t}^{{date_short_pretty}} {{time}}|{fallback}>")
}

/// What a breach's people are: its author and reviewers, by GitHub login (Slack cannot map
/// them to its own users, so no one is @-mentioned by mistake).
fn names(people: &[String]) -> String {
    people
        .iter()
        .map(|p| format!("`{}`", escape(p)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message posted when a breach begins.
pub fn opened(b: &BreachRecord, repo: &str, title: &str, url: &str, people: &[String]) -> String {
    format!(
        ":warning: *{limit}* crossed by <{url}|{repo}#{n}> {title}\nsince {since} · {people} · {marker}",
        limit = escape(&b.limit),
        url = url,
        repo = escape(repo),
        n = b.number,
        title = escape(title),
        since = when(b.since),
        people = names(people),
        marker = marker(b.id),
    )
}

/// The same message once the breach ended.
pub fn resolved(b: &BreachRecord, repo: &str, title: &str, url: &str, people: &[String]) -> String {
    let how = b.resolution.as_deref().unwrap_or("ended");
    let at = b.resolved_at.map(when).unwrap_or_default();
    format!(
        ":white_check_mark: ~{limit}~ back within for <{url}|{repo}#{n}> {title}\n{how} {at} (crossed since {since}) · {people} · {marker}",
        limit = escape(&b.limit),
        repo = escape(repo),
        n = b.number,
        title = escape(title),
        how = escape(how),
        since = when(b.since),
        people = names(people),
        marker = marker(b.id),
    )
}

/// The digest's last words: one per team and local date.
pub fn digest_marker(date: &str) -> String {
    format!("tidemark digest {date}")
}

/// `3d 4h`, `5h 20m`, `12m`.
pub fn span(secs: i64) -> String {
    let m = secs.max(0) / 60;
    let (d, h, m) = (m / 1_440, (m / 60) % 24, m % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn p50(v: Option<i64>) -> String {
    v.map_or_else(|| "–".to_string(), span)
}

/// The daily digest of `date` (the team's local date).
pub fn digest(d: &crate::agreements::digest::Digest, date: &str, web_url: &str) -> String {
    use std::fmt::Write;
    let link = |l: &crate::agreements::digest::Line| {
        format!(
            "<{}|{}#{}> {} (`{}`)",
            crate::agreements::pr_url(web_url, &l.repo, l.number),
            escape(&l.repo),
            l.number,
            escape(&l.title),
            escape(&l.author)
        )
    };
    let more = |shown: usize, all: usize| {
        if all > shown {
            format!("\n…and {} more", all - shown)
        } else {
            String::new()
        }
    };
    let mut t = format!("*{} · daily digest {date}*", escape(&d.team));
    let waited = |secs: i64| match d.working_day {
        Some(day) => tidemark_protocol::agreements::working_time(secs, day),
        None => span(secs),
    };
    let _ = write!(t, "\n\n*Waiting for a first review: {}*", d.waiting_count);
    for l in &d.waiting {
        let _ = write!(t, "\n• {} waiting {}", link(l), waited(l.figure));
    }
    t.push_str(&more(d.waiting.len(), d.waiting_count));
    if let Some(max) = d.max_size {
        let _ = write!(t, "\n\n*Over {max} lines: {}*", d.oversized_count);
        for l in &d.oversized {
            let _ = write!(t, "\n• {} {} lines", link(l), l.figure);
        }
        t.push_str(&more(d.oversized.len(), d.oversized_count));
    }
    let _ = write!(t, "\n\n*Merged since yesterday: {}*", d.merged_count);
    for l in &d.merged {
        let _ = write!(t, "\n• {}", link(l));
    }
    t.push_str(&more(d.merged.len(), d.merged_count));
    let _ = write!(
        t,
        "\n\n*Cycle time* p50 {} (last 4 weeks {}) · *review time* p50 {} (last 4 weeks {})",
        p50(d.cycle_p50.0),
        p50(d.cycle_p50.1),
        p50(d.review_p50.0),
        p50(d.review_p50.1)
    );
    if let Some((deployed, failed)) = d.deliveries {
        let _ = write!(
            t,
            "\n*Deliveries, last 7 days:* {deployed} successful deployment(s), {failed} failed"
        );
    }
    let _ = write!(t, "\n{}", digest_marker(date));
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SlackState;
    use tidemark_protocol::agreements::AgreementKind;

    #[test]
    fn a_message_names_the_pull_request_its_people_and_its_marker_and_escapes_text() {
        let b = BreachRecord {
            team_id: 1,
            id: 42,
            kind: AgreementKind::MaxSize,
            repo_id: 7,
            number: 12,
            author: "ada".into(),
            limit: "at most 400 lines changed".into(),
            since: 1_764_590_400,
            resolved_at: Some(1_764_594_000),
            resolution: Some("merged at 450 lines".into()),
            measure: 450,
            slack: SlackState::Unsent,
            created_at: 0,
        };
        let people = vec!["ada".to_string(), "bo".to_string()];
        let text = opened(
            &b,
            "acme/api",
            "Fix <script> & co",
            "https://github.com/acme/api/pull/12",
            &people,
        );
        assert!(
            text.contains("<https://github.com/acme/api/pull/12|acme/api#12>"),
            "{text}"
        );
        assert!(text.contains("Fix &lt;script&gt; &amp; co"), "{text}");
        assert!(text.contains("`ada`, `bo`"), "{text}");
        assert!(text.ends_with("tidemark alert #42"), "{text}");
        assert!(text.contains("2025-12-01 12:00 UTC"), "{text}");
        assert_eq!(
            (
                span(59),
                span(3_600 + 1_200),
                span(3 * 86_400 + 4 * 3_600 + 59)
            ),
            ("0m".into(), "1h 20m".into(), "3d 4h".into())
        );
        let done = resolved(&b, "acme/api", "Fix", "https://x/pull/12", &people);
        assert!(done.contains("merged at 450 lines"), "{done}");
        assert!(done.ends_with(&marker(42)), "{done}");
    }
}
