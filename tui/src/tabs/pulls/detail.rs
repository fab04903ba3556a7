//! A pull request's details and timeline, the pop-up `enter` opens on the table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tidemark_protocol::{PrInfo, TimelineKind};

use super::PrDetail;
use crate::app::Loadable;
use crate::columns::{self, Column, Grid};
use crate::output::plural;
use crate::timefmt;
use crate::widgets::popup;

fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// What PrInfo says happened, as timeline lines (time, what).
fn milestones(pr: &PrInfo) -> Vec<(i64, String)> {
    let mut out = vec![(pr.created_at, "opened".to_string())];
    if let Some(at) = pr.first_commit_at {
        out.push((at, "first commit".into()));
    }
    if let Some(at) = pr.ready_at.filter(|&r| r != pr.created_at) {
        out.push((at, "ready for review".into()));
    }
    if let Some(at) = pr.merged_at {
        out.push((
            at,
            match &pr.merged_by {
                Some(by) => format!("merged by {}", clean(by)),
                None => "merged".into(),
            },
        ));
    } else if let Some(at) = pr.closed_at {
        out.push((at, "closed".into()));
    }
    out
}

/// The details' first line: the state (with who merged it: GitHub's `mergedBy`, often not the
/// author), the author, the size, commits and reviews.
pub(crate) fn summary(pr: &PrInfo) -> String {
    let state = match (pr.state, pr.is_draft, &pr.merged_by) {
        (tidemark_protocol::PrState::Open, true, _) => "draft".to_string(),
        (tidemark_protocol::PrState::Merged, _, Some(by)) => format!("merged by {}", clean(by)),
        (state, _, _) => state.as_str().to_string(),
    };
    let commits = if pr.commits_truncated {
        format!("{}+ commits", pr.commits)
    } else {
        plural(pr.commits, "commit", "commits")
    };
    format!(
        "{state} · author {} · +{} −{} · {commits} · {}",
        clean(pr.author.as_deref().unwrap_or("ghost")),
        pr.additions,
        pr.deletions,
        plural(pr.reviews, "review", "reviews")
    )
}

fn breakdown(pr: &PrInfo) -> String {
    use tidemark_protocol::metrics;
    let ready = metrics::ready(pr.created_at, pr.is_draft, pr.ready_at);
    let part = |d: Option<i64>| match d {
        Some(d) => timefmt::duration(d),
        None => timefmt::NO_DURATION.to_string(),
    };
    format!(
        "coding {} · pickup {} · review {} · cycle {}",
        part(metrics::coding(pr.first_commit_at, ready)),
        part(metrics::pickup(ready, pr.first_review_at)),
        part(metrics::review(pr.first_review_at, pr.merged_at)),
        timefmt::duration_or_dash(pr.cycle_time),
    )
}

/// The timeline: when (never cut), and what (cut with `…`); too narrow for both, what only.
const TIMELINE: [Column; 2] = [Column::whole(10).left(), Column::text(8, 1, 90).grow()];

/// `text`'s parts (split at ` · `) in lines of at most `width` cells ([`columns::flow`]).
fn flow(text: &str, width: usize) -> Vec<Line<'static>> {
    columns::flow(text.split(columns::SEP), width)
        .into_iter()
        .map(Line::from)
        .collect()
}

pub fn pull_request(frame: &mut Frame, detail: &PrDetail) {
    let pr = &detail.pr;
    let area = popup::centered(frame.area(), 90, frame.area().height.saturating_sub(2));
    let inner = popup::frame(
        frame,
        area,
        &format!("{} #{}", pr.repo, pr.number),
        Color::Cyan,
    )
    .inner(Margin::new(1, 0));
    let facts = summary(pr);
    let title = Paragraph::new(Line::from(clean(&pr.title)).bold()).wrap(Wrap { trim: true });
    let title_height = title.line_count(inner.width) as u16;
    // The facts and the durations break between their parts, never inside one: a duration
    // such as `3d 4h` is never split over two lines.
    let mut head = flow(&facts, inner.width as usize);
    head.extend(
        flow(&breakdown(pr), inner.width as usize)
            .into_iter()
            .map(ratatui::prelude::Stylize::cyan),
    );
    head.push(Line::default());
    let head_height = title_height + head.len() as u16;
    let [head_area, timeline_area, keys_area] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);
    let [title_area, facts_area] =
        Layout::vertical([Constraint::Length(title_height), Constraint::Min(0)]).areas(head_area);
    frame.render_widget(title, title_area);
    frame.render_widget(Paragraph::new(head), facts_area);

    let mut events: Vec<(i64, Line)> = milestones(pr)
        .into_iter()
        .map(|(at, what)| (at, Line::from(what).bold()))
        .collect();
    let note = match &detail.timeline {
        Loadable::Loaded(timeline) => {
            for event in &timeline.events {
                let line = match &event.kind {
                    TimelineKind::Commit { sha } => Line::from(format!("commit {sha}")).dark_gray(),
                    TimelineKind::Review { reviewer, state } => Line::from(format!(
                        "review by {}: {}",
                        reviewer.as_deref().unwrap_or("ghost"),
                        state.replace('_', " ")
                    )),
                };
                events.push((event.at, line));
            }
            timeline
                .commits_truncated
                .then(|| "GitHub lists only the first 250 commits".to_string())
        }
        Loadable::Loading => Some("loading commits and reviews…".into()),
        Loadable::Failed(err) => Some(format!("no commits and reviews: {err}")),
    };
    events.sort_by_key(|(at, _)| *at);
    let events: Vec<(String, Line)> = events
        .into_iter()
        .skip(detail.scroll)
        .map(|(at, what)| (timefmt::utc(at), what))
        .collect();
    let natural = [
        events
            .iter()
            .map(|(at, _)| columns::cells(at))
            .max()
            .unwrap_or(0),
        events
            .iter()
            .map(|(_, what)| columns::line_cells(what))
            .max()
            .unwrap_or(0),
    ];
    let grid = Grid::new(&TIMELINE, &natural, timeline_area.width as usize, 2);
    let mut lines: Vec<Line> = events
        .into_iter()
        .map(|(at, what)| {
            let cells = grid.cells([Line::from(at).dark_gray(), what]);
            let mut spans = Vec::new();
            for (i, cell) in cells.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw("  "));
                }
                let style = cell.style;
                spans.extend(cell.spans.into_iter().map(|s| s.patch_style(style)));
            }
            Line::from(spans)
        })
        .collect();
    if let Some(note) = note {
        lines.push(Line::from(note).dark_gray().italic());
    }
    frame.render_widget(Paragraph::new(lines), timeline_area);
    frame.render_widget(
        Line::from("j/k scroll · o open in browser · esc close").dark_gray(),
        keys_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn pr(number: u64) -> PrInfo {
        fixtures::pull_requests()
            .into_iter()
            .find(|p| p.number == number)
            .unwrap()
    }

    /// "merged by" names who merged it (GitHub's `mergedBy`), not the author; counts agree
    /// with their nouns.
    #[test]
    fn the_summary_says_who_merged_and_counts_in_words() {
        assert_eq!(
            summary(&pr(1287)),
            "merged by carol · author alice · +120 −30 · 5 commits · 2 reviews"
        );
        assert_eq!(
            summary(&pr(77)),
            "merged by alice · author dependabot[bot] · +2 −2 · 1 commit · 1 review"
        );
        let unknown = PrInfo {
            merged_by: None,
            ..pr(1287)
        };
        assert!(summary(&unknown).starts_with("merged · author alice · "));
        assert_eq!(
            summary(&pr(311)),
            "draft · author bob-k · +1200 −800 · 14 commits · 0 reviews"
        );
        assert_eq!(
            summary(&pr(290)),
            "closed · author ghost · +40000 −0 · 312+ commits · 0 reviews"
        );
    }

    #[test]
    fn the_timeline_says_who_merged() {
        let merged = milestones(&pr(1287));
        assert_eq!(merged.last().unwrap().1, "merged by carol");
    }

    /// The breakdown uses the daemon's definitions: a PR still in draft has asked for no
    /// review, so it has no coding or pickup yet (it used to count from its opening).
    #[test]
    fn the_breakdown_follows_the_metric_definitions() {
        let draft = PrInfo {
            is_draft: true,
            created_at: 1_000,
            ready_at: None,
            first_commit_at: Some(400),
            first_review_at: Some(5_000),
            merged_at: None,
            cycle_time: None,
            ..pr(311)
        };
        assert_eq!(
            breakdown(&draft),
            "coding — · pickup — · review — · cycle —"
        );
        let ready = PrInfo {
            is_draft: false,
            ready_at: Some(1_600),
            merged_at: Some(1_600 + 3 * 3_600),
            cycle_time: Some(1_600 + 3 * 3_600 - 1_000),
            ..draft
        };
        let text = breakdown(&ready);
        assert!(text.starts_with("coding 20m · pickup 56m"), "{text}");
    }
}
