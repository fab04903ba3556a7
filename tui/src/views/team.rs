//! One team: a tab bar (the tabs of `crate::tabs`, in order) over the tab's page, and what the
//! tabs' views share (`ago`, `placeholder`, the row marker).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs};

use crate::app::{Loadable, State};
use crate::columns;
use crate::config::Theme;
use crate::tabs::{self, Tab, TeamView};
use crate::timefmt;

pub fn render(frame: &mut Frame, area: Rect, state: &State, view: &TeamView) {
    let theme = state.config.theme;
    let [bar, page] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    tab_bar(frame, bar, view, state.now, theme);

    if let Loadable::Failed(err) = &view.status
        && view.tab == Tab::Overview
    {
        let text = Line::from(format!("Cannot load this team: {err}")).fg(theme.bad());
        frame.render_widget(Paragraph::new(text).block(Block::bordered()), page);
        return;
    }
    tabs::render(frame, page, state, view);
}

fn tab_bar(frame: &mut Frame, area: Rect, view: &TeamView, now: i64, theme: Theme) {
    let badge = sync_badge(view, now);
    let width = area.width as usize;
    let badge_width = badge.width();
    // Full titles when they fit beside the badge, else short ones; the badge's margin goes
    // before a tab's title is cut, and the badge itself last.
    // The Alerts tab's open count (`Alerts 3`) is part of its title: it is never dropped for
    // want of room before the titles are shortened.
    let count = crate::tabs::alerts::badge(view.loaded_status());
    let title_of = |tab: Tab, short: bool| {
        let title = if short {
            tab.short_title()
        } else {
            tab.title()
        };
        match (&count, tab) {
            (Some(n), Tab::Alerts) => (title, format!(" {n}")),
            _ => (title, String::new()),
        }
    };
    let bar = |short: bool, padding: usize| {
        let titles: usize = Tab::ALL
            .iter()
            .enumerate()
            .map(|(i, tab)| {
                let (title, extra) = title_of(*tab, short);
                columns::cells(&format!("{} {title}{extra}", i + 1)) + 2 * padding
            })
            .sum();
        titles + Tab::ALL.len() - 1
    };
    let (short, padding, margin) = [(false, 1, 1), (true, 1, 1), (true, 1, 0), (true, 0, 0)]
        .into_iter()
        .find(|&(short, padding, margin)| bar(short, padding) + badge_width + margin <= width)
        .unwrap_or((true, 0, 0));
    let badge = if bar(short, padding) + badge_width + margin <= width {
        badge
    } else {
        Line::default()
    };
    let right_width = badge.width() + if badge.width() > 0 { margin } else { 0 };
    let [tabs_area, badge_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width as u16)])
            .areas(area);
    let titles = Tab::ALL.iter().enumerate().map(|(i, tab)| {
        let (title, extra) = title_of(*tab, short);
        let mut line = Line::from(format!("{} {title}", i + 1));
        if !extra.is_empty() {
            line.push_span(Span::from(extra).fg(theme.bad()).bold());
        }
        line
    });
    let pad = " ".repeat(padding);
    let tabs = Tabs::new(titles)
        .select(view.tab.index())
        .highlight_style(Style::new().fg(theme.accent()).bold().reversed())
        .divider("│")
        .padding(pad.clone(), pad);
    frame.render_widget(tabs, tabs_area);
    frame.render_widget(badge, badge_area);
}

/// The sync's state in a few words, right of the tabs: it stays in view on every tab.
fn sync_badge(view: &TeamView, now: i64) -> Line<'static> {
    if view.loaded_status().is_some() && !view.is_connected() {
        return Line::from("not connected").dark_gray();
    }
    match &view.sync {
        Some(sync) if sync.running => Line::from(vec![
            Span::from(format!("syncing {}/{}", sync.repos_done, sync.repos_total)).yellow(),
        ]),
        Some(sync) if sync.error.is_some() => Line::from("sync failed").red(),
        Some(sync) => match sync.last_sync_at {
            Some(at) => Line::from(format!("synced {}", ago(now, at))).dark_gray(),
            None => Line::from("never synced").dark_gray(),
        },
        None => Line::default(),
    }
}

/// What marks the selected row of a table that has a marker.
pub const HIGHLIGHT: &str = "› ";
/// The cells it takes, which the table's columns do not get.
pub const HIGHLIGHT_WIDTH: u16 = 2;

/// `3m ago`, `2d ago`; the UTC time when the clock is not known yet.
pub fn ago(now: i64, at: i64) -> String {
    if now == 0 {
        return timefmt::utc(at);
    }
    if now - at < 60 {
        return "just now".into();
    }
    format!("{} ago", timefmt::duration(now - at))
}

/// What a tab shows while its data is not there.
pub fn placeholder<T>(frame: &mut Frame, area: Rect, data: &Loadable<T>, what: &str) -> bool {
    let text = match data {
        Loadable::Loaded(_) => return false,
        Loadable::Loading => Line::from(format!("Loading {what}…")).dark_gray(),
        Loadable::Failed(err) => Line::from(format!("Cannot load {what}: {err}")).red(),
    };
    frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
    true
}
