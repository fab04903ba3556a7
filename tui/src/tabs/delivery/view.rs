//! The Delivery tab's page: the five measures (figure, band, weekly trend) with the edition the
//! bands come from, each repository's signal, and the deployments newest first. The details
//! pages are `detail.rs`; the rules, `rules_view` below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Sparkline, Table, TableState, Wrap};
use tidemark_protocol::delivery::{DeploymentItem, DoraGroup};
use tidemark_protocol::metrics::dora::{self, Band, Measure};

use super::{DeliveryData, Page, detail};
use crate::app::{Loadable, State};
use crate::columns::{self, Column, Grid};
use crate::config::Theme;
use crate::output::delivery as words;
use crate::tabs::TeamView;
use crate::tabs::pulls::view::window_start;
use crate::timefmt;
use crate::views::team::placeholder;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    let theme = state.config.theme;
    let tab = &view.delivery;
    if let Page::Rules(editor) = &tab.page {
        super::rules_view::rules_page(frame, area, editor, theme);
        return;
    }
    if placeholder(frame, area, &tab.data, "delivery metrics") {
        return;
    }
    let Loadable::Loaded(data) = &tab.data else {
        return;
    };
    match &tab.page {
        Page::Measure { measure, scroll } => {
            detail::measure(frame, area, data, *measure, *scroll, theme);
        }
        Page::Deployment { key, scroll } => {
            detail::deployment(frame, area, data, key, *scroll, theme);
        }
        Page::Main | Page::Rules(_) => main_page(frame, area, view, data, theme),
    }
}

/// A measure's name on the page (the details page names it in full).
pub fn short_label(m: Measure) -> &'static str {
    match m {
        Measure::DeploymentFrequency => "Deploy frequency",
        Measure::ChangeLeadTime => "Lead time",
        Measure::ChangeFailRate => "Change fail rate",
        Measure::RecoveryTime => "Recovery time",
        Measure::ReworkRate => "Rework rate",
    }
}

/// A band in a table cell: its cluster, `—` when nothing was counted, `no band` for rework.
pub fn band_cell(g: &DoraGroup, m: Measure) -> &'static str {
    match (m, words::band_of(g, m)) {
        (Measure::ReworkRate, _) => "no band",
        (_, Some(band)) => band.label(),
        (_, None) => "—",
    }
}

pub fn band_color(band: Option<Band>, theme: Theme) -> ratatui::style::Color {
    match band {
        Some(Band::Elite | Band::High) => theme.good(),
        Some(Band::Medium) => theme.warn(),
        Some(Band::Low) => theme.bad(),
        None => theme.dim(),
    }
}

/// Where the bands come from, once on the page.
pub fn edition_note(edition: &str) -> String {
    format!("Bands: {edition}. Rework rate: {}.", dora::NO_REWORK_BAND)
}

/// A week's value of a measure for its trend (None: nothing to measure that week).
fn weekly_value(g: &DoraGroup, m: Measure) -> Option<u64> {
    let share = |part: usize, whole: usize| (whole > 0).then(|| (part * 1000 / whole) as u64);
    let secs = |v: Option<i64>| v.map(|s| s.max(0) as u64);
    match m {
        Measure::DeploymentFrequency => Some(g.deployed.len() as u64),
        Measure::ChangeLeadTime => secs(g.lead_time.p50),
        Measure::ChangeFailRate => share(g.failed.len(), g.finished.len()),
        Measure::RecoveryTime => secs(g.recovery.p50),
        Measure::ReworkRate => share(g.rework.len(), g.finished.len()),
    }
}

/// The most weeks a trend shows (the latest ones).
const TREND_MAX: usize = 26;

/// Measure, figure, band, trend: the figure and band are never cut; the trend goes first,
/// then the band, when even the name's minimum does not fit.
const MEASURES: [Column; 4] = [
    Column::text(9, 1, 95),
    Column::whole(100).left(),
    Column::whole(80).left(),
    Column::whole(60).left(),
];

fn main_page(frame: &mut Frame, area: Rect, view: &TeamView, data: &DeliveryData, theme: Theme) {
    let Some(group) = data.group() else {
        let text = Line::from(" The daemon sent no figures for this team").fg(theme.dim());
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
        return;
    };
    let note = Paragraph::new(Line::from(edition_note(&data.team.edition)).fg(theme.dim()))
        .wrap(Wrap { trim: true });
    let note_lines = note.line_count(area.width.saturating_sub(2)) as u16;
    let repos = data.team.repos.len();
    let most = if area.height >= 27 { 5 } else { 3 };
    let signal_rows = repos.clamp(1, most) as u16;
    let [measures_area, signals_area, deploys_area] = Layout::vertical([
        Constraint::Length(2 + 5 + note_lines),
        Constraint::Length(2 + signal_rows),
        Constraint::Min(3),
    ])
    .areas(area);
    let selected = view.delivery.selected.row();
    let title = columns::first_parts(
        [
            "Delivery",
            &format!("last {}", view.period.label()),
            "[/] period",
            "enter explains",
            "e rules",
        ],
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(measures_area);
    frame.render_widget(block, measures_area);
    let [table_area, note_area] =
        Layout::vertical([Constraint::Length(5), Constraint::Min(0)]).areas(inner);
    measures(frame, table_area, data, group, selected, theme);
    frame.render_widget(note, note_area);
    signals(frame, signals_area, data, signal_rows as usize, theme);
    deployments(frame, deploys_area, data, selected.checked_sub(5), theme);
}

fn measures(
    frame: &mut Frame,
    area: Rect,
    data: &DeliveryData,
    group: &DoraGroup,
    selected: usize,
    theme: Theme,
) {
    let weeks = &data.weekly.groups;
    let trend_width = weeks.len().min(TREND_MAX);
    let rows: Vec<[String; 3]> = Measure::ALL
        .iter()
        .map(|&m| {
            [
                short_label(m).to_string(),
                words::figure(group, m),
                band_cell(group, m).to_string(),
            ]
        })
        .collect();
    let mut natural = columns::measure(
        &["", "", "", ""],
        rows.iter().map(|r| r.iter().map(String::as_str)),
    );
    natural[3] = trend_width;
    let grid = Grid::new(&MEASURES, &natural, area.width as usize, 1);
    let layout = Layout::horizontal(grid.constraints())
        .spacing(1)
        .flex(Flex::Start);
    for (i, (&m, texts)) in Measure::ALL.iter().zip(&rows).enumerate() {
        let y = area.y + i as u16;
        if y >= area.bottom() {
            break;
        }
        let row = Rect {
            y,
            height: 1,
            ..area
        };
        let band = words::band_of(group, m);
        let cells = grid.cells([
            Line::from(texts[0].clone()),
            Line::from(texts[1].clone()).bold(),
            Line::from(texts[2].clone()).fg(band_color(band, theme)),
            Line::default(),
        ]);
        let areas = layout.split(row);
        for (cell, at) in cells.into_iter().zip(areas.iter()) {
            frame.render_widget(cell, *at);
        }
        if grid.shown(3)
            && let Some(at) = areas.last()
        {
            let values: Vec<Option<u64>> = weeks
                .iter()
                .skip(weeks.len().saturating_sub(trend_width))
                .map(|w| weekly_value(w, m))
                .collect();
            let spark = Sparkline::default()
                .data(values)
                .style(Style::new().fg(theme.accent()))
                .absent_value_symbol("·")
                .absent_value_style(Style::new().fg(theme.dim()));
            frame.render_widget(spark, *at);
        }
        if i == selected {
            frame.buffer_mut().set_style(row, Style::new().reversed());
        }
    }
}

/// Repository, signal, why: the signal never cut.
const SIGNALS: [Column; 3] = [
    Column::text(8, 2, 90),
    Column::whole(95).left(),
    Column::text(8, 3, 50).grow(),
];

fn signals(frame: &mut Frame, area: Rect, data: &DeliveryData, rows: usize, theme: Theme) {
    let repos = &data.team.repos;
    let proxies = repos.iter().filter(|r| r.signal.is_proxy()).count();
    let mut parts = vec![format!("Signals ({})", repos.len())];
    if proxies > 0 {
        parts.push(format!("{proxies} by the merged-PR proxy"));
    }
    let title = columns::first_parts(
        parts.iter().map(String::as_str),
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if repos.is_empty() {
        let text = " No tracked repositories: nothing deploys yet (track some on the Repos tab)";
        frame.render_widget(
            Line::from(columns::fit(text, inner.width as usize).into_owned()).fg(theme.dim()),
            inner,
        );
        return;
    }
    // More repositories than room: the last row says how many more (all are in the rules).
    let listed = if repos.len() > rows {
        rows.saturating_sub(1)
    } else {
        repos.len()
    };
    let texts: Vec<[String; 3]> = repos
        .iter()
        .map(|r| [r.repo.clone(), words::signal(r.signal), r.rule.clone()])
        .collect();
    let natural = columns::measure(
        &["", "", ""],
        texts.iter().map(|r| r.iter().map(String::as_str)),
    );
    let grid = Grid::new(&SIGNALS, &natural, inner.width as usize, 1);
    let table: Vec<Row> = texts
        .into_iter()
        .zip(repos)
        .take(listed)
        .map(|([repo, signal, rule], r)| {
            let signal = if r.signal.is_proxy() {
                Line::from(signal).fg(theme.warn())
            } else {
                Line::from(signal)
            };
            let rule = fit_words(&rule, grid.widths()[2].unwrap_or(0));
            Row::new(grid.cells([Line::from(repo), signal, Line::from(rule).fg(theme.dim())]))
        })
        .collect();
    let [top, bottom] =
        Layout::vertical([Constraint::Length(listed as u16), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Table::new(table, grid.constraints()).flex(Flex::Start), top);
    if listed < repos.len() {
        let more = format!(
            " +{} more: e shows every repository's signal",
            repos.len() - listed
        );
        frame.render_widget(
            Line::from(columns::fit(&more, inner.width as usize).into_owned()).fg(theme.dim()),
            bottom,
        );
    }
}

/// When, repository, result, what it shipped, why it failed or is rework: the time and result
/// never cut; the reasons give way first, then what shipped.
const DEPLOYS: [Column; 5] = [
    Column::whole(90).left(),
    Column::text(6, 1, 80),
    Column::whole(95).left(),
    Column::text(12, 3, 70).grow(),
    Column::text(8, 2, 60),
];

const DEPLOY_HEADER: [&str; 5] = ["When", "Repo", "Result", "Shipped", "Why"];

/// `11-03 14:00` (UTC, as every time on screen): the year is in the window.
pub fn when(at: i64) -> String {
    let utc = timefmt::utc(at);
    utc.get(5..16).unwrap_or(&utc).to_string()
}

/// A deployment's result in a word or two.
pub fn result_word(d: &DeploymentItem) -> &'static str {
    match (!d.failed_by.is_empty(), !d.rework_by.is_empty()) {
        (false, false) => "ok",
        (true, false) => "failed",
        (false, true) => "rework",
        (true, true) => "failed, rework",
    }
}

/// What a deployment shipped: each pull request's number and title (the number alone when
/// its change is outside the window).
pub fn shipped_items(data: &DeliveryData, index: u32) -> Vec<(u64, String)> {
    let Some(d) = data.team.deployments.get(index as usize) else {
        return Vec::new();
    };
    let changes = data
        .changes_of
        .get(index as usize)
        .map_or(&[][..], Vec::as_slice);
    d.shipped
        .iter()
        .map(|&n| {
            let title = changes
                .iter()
                .filter_map(|&c| data.team.changes.get(c as usize))
                .find(|c| c.number == n)
                .map_or(String::new(), |c| c.title.clone());
            (n, title)
        })
        .collect()
}

/// A deployment's cells as text (what it shipped unfitted), for the table and its widths.
pub fn deploy_texts(data: &DeliveryData, index: u32) -> ([String; 5], Vec<(u64, String)>) {
    let Some(d) = data.team.deployments.get(index as usize) else {
        return (Default::default(), Vec::new());
    };
    let shipped = shipped_items(data, index);
    let reasons: Vec<&str> = d
        .failed_by
        .iter()
        .chain(&d.rework_by)
        .map(String::as_str)
        .collect();
    let texts = [
        when(d.at),
        d.repo.rsplit('/').next().unwrap_or(&d.repo).to_string(),
        result_word(d).to_string(),
        shipped_cell(&shipped, usize::MAX),
        reasons.join("; "),
    ];
    (texts, shipped)
}

const ITEM_SEP: &str = " · ";

/// `#1 Add cache · #2 Add login` in `width` cells: titles give way with `…` ([`fit_words`]), a
/// number is never cut (one that does not fit whole is left out, the `…` saying more follows).
pub fn shipped_cell(items: &[(u64, String)], width: usize) -> String {
    let whole: Vec<String> = items
        .iter()
        .map(|(n, t)| {
            if t.is_empty() {
                format!("#{n}")
            } else {
                format!("#{n} {t}")
            }
        })
        .collect();
    let full = whole.join(ITEM_SEP);
    if columns::cells(&full) <= width {
        return full;
    }
    let mut out = String::new();
    for (i, (n, title)) in items.iter().enumerate() {
        let sep = if i == 0 { "" } else { ITEM_SEP };
        let number = format!("{sep}#{n}");
        // Room for the number, then ` …` after it: a `…` never touches a number.
        if columns::cells(&out) + columns::cells(&number) + 2 > width {
            break;
        }
        out.push_str(&number);
        if title.is_empty() {
            continue;
        }
        let room = width - columns::cells(&out);
        if room < 3 {
            // Not one letter of the title would show.
            out.push_str(" …");
            return out;
        }
        let rest = format!(" {title}");
        // Whole only with room left for ` …` when more items follow.
        let more = if i + 1 < items.len() { 2 } else { 0 };
        if columns::cells(&rest) + more <= room {
            out.push_str(&rest);
        } else {
            // The title gives way between words, a number in it whole or left out.
            out.push(' ');
            out.push_str(&fit_words(title, room - 1));
            return out;
        }
    }
    if out.is_empty() {
        "…".to_string()
    } else {
        out.push_str(" …");
        out
    }
}

/// `text` in `width` cells, cut between words when it does not fit: a word holding a digit (a
/// number, `#91`, a time) is shown whole or not at all, and a `…` never touches one; other
/// words may be cut.
pub fn fit_words(text: &str, width: usize) -> String {
    if columns::cells(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let candidate = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        // Whole, with room for ` …` after it.
        if columns::cells(&candidate) + 2 <= width {
            out = candidate;
            continue;
        }
        let digits = word.chars().any(|c| c.is_ascii_digit());
        let lead = if out.is_empty() {
            0
        } else {
            columns::cells(&out) + 1
        };
        // A word without digits is cut if at least one of its cells shows before the `…`.
        if !digits && width >= lead + 2 {
            return columns::fit(&format!("{candidate} …"), width).into_owned();
        }
        break;
    }
    if out.is_empty() {
        "…".to_string()
    } else {
        out + " …"
    }
}

fn deployments(
    frame: &mut Frame,
    area: Rect,
    data: &DeliveryData,
    selected: Option<usize>,
    theme: Theme,
) {
    let count = data.newest_first.len();
    let title = columns::first_parts(
        [
            &format!("Deployments ({count})"),
            "newest first",
            "enter details",
        ],
        area.width.saturating_sub(4) as usize,
    );
    let block = Block::bordered().title(format!(" {title} "));
    if count == 0 {
        let text = Line::from(" No deployments in this period").fg(theme.dim());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let inner = block.inner(area);
    // Sized from the widest values over every deployment (derived when they arrive): the
    // columns do not move while scrolling, and only the rows on screen are built.
    let natural: Vec<usize> = data
        .widths
        .iter()
        .zip(DEPLOY_HEADER)
        .map(|(&w, header)| w.max(columns::cells(header)))
        .collect();
    let grid = Grid::new(&DEPLOYS, &natural, inner.width as usize, 1);
    let shipped_width = grid.widths()[3].unwrap_or(0);
    let why_width = grid.widths()[4].unwrap_or(0);
    let height = inner.height.saturating_sub(1) as usize;
    let start = selected.map_or(0, |row| window_start(row, count, height));
    let end = (start + height).min(count);
    let table_rows = data.newest_first[start..end].iter().map(|&i| {
        let d = &data.team.deployments[i as usize];
        let ([at, repo, result, _, why], shipped) = deploy_texts(data, i);
        let color = if !d.failed_by.is_empty() {
            theme.bad()
        } else if !d.rework_by.is_empty() {
            theme.warn()
        } else {
            theme.good()
        };
        Row::new(grid.cells([
            Line::from(at),
            Line::from(repo),
            Line::from(result).fg(color),
            Line::from(shipped_cell(&shipped, shipped_width)),
            Line::from(fit_words(&why, why_width)).fg(theme.dim()),
        ]))
    });
    let table = Table::new(table_rows, grid.constraints())
        .flex(Flex::Start)
        .header(Row::new(grid.cells(DEPLOY_HEADER.map(Line::from))).bold())
        .block(block)
        .row_highlight_style(Style::new().reversed());
    let mut state = TableState::default().with_selected(selected.map(|row| row - start));
    frame.render_stateful_widget(table, area, &mut state);
}
