//! Metrics over a period: cycle and review time p50/p90 per week (line chart), the
//! coding/pickup/review breakdown (bar chart) and merged pull requests per week (sparkline).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, GraphType, Paragraph, Sparkline,
};
use tidemark_protocol::MetricsRow;

use super::MetricsData;
use crate::app::State;
use crate::columns;
use crate::config::Theme;
use crate::tabs::TeamView;
use crate::timefmt;
use crate::views::team::placeholder;

const HOUR: f64 = 3600.0;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    let theme = state.config.theme;
    let title = format!(
        " Metrics · last {} · [/] changes the period ",
        view.period.label()
    );
    if placeholder(frame, area, &view.metrics, "metrics") {
        return;
    }
    let crate::app::Loadable::Loaded(data) = &view.metrics else {
        return;
    };
    if data.weekly.is_empty() {
        let text = Line::from(" No pull requests in this period").fg(theme.dim());
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(title)),
            area,
        );
        return;
    }
    let [chart_area, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Min(0)]).areas(area);
    let [breakdown_area, merged_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Min(0)]).areas(bottom);
    line_chart(frame, chart_area, data, &title, theme);
    breakdown(frame, breakdown_area, data, theme);
    merged(frame, merged_area, data, theme);
}

fn points(weeks: &[MetricsRow], pick: impl Fn(&MetricsRow) -> Option<i64>) -> Vec<(f64, f64)> {
    weeks
        .iter()
        .enumerate()
        .filter_map(|(i, row)| pick(row).map(|v| (i as f64, v as f64 / HOUR)))
        .collect()
}

fn hours_label(hours: f64) -> String {
    timefmt::duration((hours * HOUR) as i64)
}

fn line_chart(frame: &mut Frame, area: Rect, data: &MetricsData, title: &str, theme: Theme) {
    let weeks = &data.weekly;
    let series = [
        (
            "cycle p50",
            points(weeks, |r| r.cycle_time.p50),
            theme.accent(),
        ),
        (
            "cycle p90",
            points(weeks, |r| r.cycle_time.p90),
            theme.dim(),
        ),
        (
            "review p50",
            points(weeks, |r| r.review_time.p50),
            theme.second(),
        ),
        (
            "review p90",
            points(weeks, |r| r.review_time.p90),
            theme.warn(),
        ),
    ];
    let max = series
        .iter()
        .flat_map(|(_, p, _)| p.iter().map(|(_, y)| *y))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let datasets: Vec<Dataset> = series
        .iter()
        .map(|(name, points, color)| {
            Dataset::default()
                .name(*name)
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(*color))
                .data(points)
        })
        .collect();
    let first = weeks.first().map_or(String::new(), |w| w.key.clone());
    let last = weeks.last().map_or(String::new(), |w| w.key.clone());
    // The legend goes under the chart: Chart's own box would cover the lines at 80 columns.
    let mut legend = vec![Span::raw(" ")];
    for (name, _, color) in &series {
        legend.push(Span::from("━━ ").fg(*color));
        legend.push(Span::raw(format!("{name}  ")));
    }
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .title(title.to_string())
                .title_bottom(Line::from(legend)),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, (weeks.len().max(2) - 1) as f64])
                .labels([Span::raw(first), Span::raw(last)]),
        )
        .y_axis(Axis::default().bounds([0.0, max]).labels([
            Span::raw("0"),
            Span::raw(hours_label(max / 2.0)),
            Span::raw(hours_label(max)),
        ]))
        .legend_position(None);
    frame.render_widget(chart, area);
}

fn breakdown(frame: &mut Frame, area: Rect, data: &MetricsData, theme: Theme) {
    let block = Block::bordered().title(" Breakdown p50 ");
    let Some(total) = &data.total else {
        frame.render_widget(block, area);
        return;
    };
    let parts = [
        ("coding", total.coding.p50, theme.accent()),
        ("pickup", total.pickup.p50, theme.second()),
        ("review", total.review.p50, theme.warn()),
    ];
    let bars: Vec<Bar> = parts
        .iter()
        .map(|(name, value, color)| {
            let secs = value.unwrap_or(0).max(0);
            Bar::default()
                .label(Line::from(*name))
                .value((secs / 60) as u64)
                .text_value(timefmt::duration_or_dash(*value))
                .style(Style::new().fg(*color))
        })
        .collect();
    let inner_width = area.width.saturating_sub(2);
    let bar_width = (inner_width.saturating_sub(4) / 3).clamp(3, 12);
    let chart = BarChart::default()
        .block(block)
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(1);
    frame.render_widget(chart, area);
}

fn merged(frame: &mut Frame, area: Rect, data: &MetricsData, theme: Theme) {
    let counts: Vec<u64> = data.weekly.iter().map(|w| w.merged).collect();
    let total: u64 = counts.iter().sum();
    let peak = counts.iter().copied().max().unwrap_or(0);
    // A title that does not fit loses its last parts whole, never a number's digits.
    let title = columns::first_parts(
        [
            "Merged per week",
            &format!("{total} total"),
            &format!("peak {peak}"),
        ],
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The summary breaks between its parts, so no count or duration is cut at the edge.
    let width = inner.width.saturating_sub(1) as usize;
    let summary: Vec<Line> = data.total.as_ref().map_or_else(Vec::new, |t| {
        let counts = [
            format!("{} PRs", t.prs),
            format!("{} merged", t.merged),
            format!(
                "size p50 {}",
                t.size.p50.map_or("—".into(), |s| s.to_string())
            ),
        ];
        let times = [
            format!("cycle p50 {}", timefmt::duration_or_dash(t.cycle_time.p50)),
            format!(
                "review p50 {}",
                timefmt::duration_or_dash(t.review_time.p50)
            ),
        ];
        let counts = columns::flow(counts.iter().map(String::as_str), width);
        let times = columns::flow(times.iter().map(String::as_str), width);
        counts
            .into_iter()
            .map(|line| Line::from(format!(" {line}")))
            .chain(
                times
                    .into_iter()
                    .map(|line| Line::from(format!(" {line}")).bold()),
            )
            .collect()
    });
    let [spark_area, summary_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(summary.len() as u16)])
            .areas(inner);
    let sparkline = Sparkline::default()
        .data(&counts)
        .style(Style::new().fg(theme.good()));
    frame.render_widget(sparkline, spark_area);
    frame.render_widget(Paragraph::new(summary), summary_area);
}
