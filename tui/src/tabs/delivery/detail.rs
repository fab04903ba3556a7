//! The Delivery tab's details pages (`enter`): what a measure counts, each item with the rule
//! that classified it (the lines of `tidemark dora --explain`), and one deployment: where it
//! came from, what it shipped, why it failed or is rework. Text wraps between words, so nothing
//! is cut; `j`/`k` scroll, `esc` goes back.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use tidemark_protocol::delivery::DeployOutcome;
use tidemark_protocol::metrics::dora::{self, Measure};

use super::view::{band_color, result_word, shipped_items};
use super::{DeliveryData, DeploymentKey};
use crate::columns;
use crate::config::Theme;
use crate::output::delivery as words;
use crate::timefmt;

const KEYS: &str = " esc back · j/k scroll ";

/// A paragraph in a titled block, scrolled by `scroll` lines (kept so the end stays on screen).
fn page(frame: &mut Frame, area: Rect, title: &[&str], lines: Vec<Line<'static>>, scroll: usize) {
    let title = columns::first_parts(title.iter().copied(), area.width.saturating_sub(4) as usize);
    let block = Block::bordered()
        .title(format!(" {title} "))
        .title_bottom(KEYS);
    let inner = block.inner(area);
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = text.line_count(inner.width);
    let scroll = scroll.min(total.saturating_sub(inner.height as usize));
    frame.render_widget(
        text.block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// What `measure` counts over the period, each item with its rule.
pub fn measure(
    frame: &mut Frame,
    area: Rect,
    data: &DeliveryData,
    measure: Measure,
    scroll: usize,
    theme: Theme,
) {
    let label = capitalized(measure.label());
    let Some(g) = data.group() else {
        page(frame, area, &[&label], Vec::new(), 0);
        return;
    };
    let figure = words::figure(g, measure);
    let band = words::band_of(g, measure);
    let band_text = match measure {
        Measure::ReworkRate => dora::NO_REWORK_BAND.to_string(),
        _ => format!(
            "band {} · {}",
            band.map_or("none (nothing counted)", |b| b.label()),
            data.team.edition
        ),
    };
    let mut lines = vec![
        Line::from(format!(" {label}: {figure}")).bold(),
        Line::from(format!(" {}", capitalized(&band_text))).fg(band_color(band, theme)),
    ];
    for (cluster, reads) in dora::band_table(measure) {
        let mark = if Some(*cluster) == band { "›" } else { " " };
        lines.push(Line::from(format!("  {mark} {:<6} {reads}", cluster.label())).fg(theme.dim()));
    }
    lines.push(Line::default());
    let count = words::explain_count(g, measure);
    let what = match measure {
        Measure::DeploymentFrequency => "successful deployments",
        Measure::ChangeLeadTime => "changes shipped",
        Measure::ChangeFailRate => "finished deployments",
        Measure::RecoveryTime => "failures",
        Measure::ReworkRate => "rework deployments",
    };
    if count == 0 {
        lines.push(Line::from(format!(" No {what} in this period.")).fg(theme.dim()));
    } else {
        lines.push(
            Line::from(format!(
                " {count} {what}, each with the rule that counts it:"
            ))
            .bold(),
        );
    }
    // Scrolled by item under the heading that stays: only the items on screen are worded
    // into lines (a measure of a big team counts thousands).
    let block = Block::bordered().title_bottom(KEYS);
    let inner = block.inner(area);
    let heading = Paragraph::new(lines.clone()).wrap(Wrap { trim: false });
    let used = heading.line_count(inner.width);
    let first = scroll.min(count.saturating_sub(1));
    if first > 0 {
        lines.push(Line::from(format!(" ↑ {first} above")).fg(theme.dim()));
    }
    let room = (inner.height as usize).saturating_sub(used + usize::from(first > 0));
    let shown = (first..count).take(room.max(1));
    for item in shown.filter_map(|k| words::explain_item(&data.team, g, measure, k)) {
        let line = Line::from(format!(" • {item}"));
        lines.push(if item.contains(": FAILED: ") {
            line.fg(theme.bad())
        } else {
            line
        });
    }
    page(
        frame,
        area,
        &[&label, &figure, band.map_or("no band", |b| b.label())],
        lines,
        0,
    );
}

/// One deployment: its source and rule, outcome, what it shipped, the failures linked to it.
pub fn deployment(
    frame: &mut Frame,
    area: Rect,
    data: &DeliveryData,
    key: &DeploymentKey,
    scroll: usize,
    theme: Theme,
) {
    let Some(index) = data.deployment(key) else {
        let lines = vec![
            Line::from(format!(
                " {} {} is no longer in the report (the period or the rules changed).",
                key.repo, key.id
            ))
            .fg(theme.dim()),
        ];
        page(frame, area, &["Deployment"], lines, 0);
        return;
    };
    let d = &data.team.deployments[index as usize];
    let result = result_word(d);
    let color = if !d.failed_by.is_empty() {
        theme.bad()
    } else if !d.rework_by.is_empty() {
        theme.warn()
    } else {
        theme.good()
    };
    let status = match d.outcome {
        DeployOutcome::Success => "success",
        DeployOutcome::Failure => "failure",
    };
    let mut lines = vec![
        Line::from(format!(" {} · {}", d.repo, timefmt::utc(d.at))).bold(),
        Line::from(format!(" Result: {result} · its own status: {status}")).fg(color),
        Line::from(format!(
            " Signal: {} · {} · id {}",
            words::signal(d.signal),
            d.name,
            d.id
        )),
        Line::from(format!(" Commit: {}", d.sha)),
        Line::from(format!(" Counted because: {}", d.rule)).fg(theme.dim()),
    ];
    let section = |lines: &mut Vec<Line<'static>>, heading: String, items: Vec<String>| {
        lines.push(Line::default());
        lines.push(Line::from(heading).bold());
        lines.extend(items.into_iter().map(|i| Line::from(format!(" • {i}"))));
    };
    if !d.failed_by.is_empty() {
        section(&mut lines, " Failed by:".into(), d.failed_by.clone());
    }
    if !d.rework_by.is_empty() {
        section(&mut lines, " Rework by:".into(), d.rework_by.clone());
    }
    let changes: Vec<String> = data
        .changes_of
        .get(index as usize)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|&c| data.team.changes.get(c as usize))
        .map(|c| {
            format!(
                "#{} {}: lead time {}: {}",
                c.number,
                c.title,
                timefmt::duration(c.lead_time),
                c.rule
            )
        })
        .collect();
    if changes.is_empty() {
        let shipped = shipped_items(data, index);
        if shipped.is_empty() {
            lines.push(Line::default());
            lines
                .push(Line::from(" Shipped no pull request this report knows of.").fg(theme.dim()));
        } else {
            let numbers = shipped.iter().map(|(n, _)| format!("#{n}")).collect();
            section(&mut lines, " Shipped (before the period):".into(), numbers);
        }
    } else {
        section(
            &mut lines,
            format!(" Shipped ({}):", changes.len()),
            changes,
        );
    }
    let failures: Vec<String> = data
        .team
        .failures
        .iter()
        .filter(|f| f.deployment == index)
        .map(|f| {
            format!(
                "{} {}: {}, from {}: {}",
                words::failure_what(f),
                f.title,
                words::recovery_of(f),
                timefmt::utc(f.began_at),
                f.rule
            )
        })
        .collect();
    if !failures.is_empty() {
        section(
            &mut lines,
            format!(" Failures linked ({}):", failures.len()),
            failures,
        );
    }
    let title = format!("Deployment {} {}", d.repo, d.id);
    page(frame, area, &[&title, result], lines, scroll);
}
