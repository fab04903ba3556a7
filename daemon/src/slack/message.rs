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
        let done = resolved(&b, "acme/api", "Fix", "https://x/pull/12", &people);
        assert!(done.contains("merged at 450 lines"), "{done}");
        assert!(done.ends_with(&marker(42)), "{done}");
    }
}
