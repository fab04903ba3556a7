//! Table columns laid out from their contents: the one rule behind every table the TUI draws
//! and every table the CLI prints.
//!
//! - A *whole* column (durations, counts, sizes, ids, dates, short fixed words such as a
//!   state) is as wide as its widest value and its header. Its values are never cut.
//! - A *text* column (titles, names, logins, authors, repositories) takes what the whole ones
//!   leave, shared by weight, and a value that does not fit is cut with a trailing `…`.
//! - When the room is too small even for the whole columns and the text columns' minimums,
//!   columns are dropped, lowest priority first: a number is hidden rather than shown cut.
//!
//! Everything is measured in terminal cells as ratatui draws them (graphemes; wide CJK and emoji
//! take two cells, combining marks none, control characters are not drawn), so the CLI's tables
//! line up on a terminal too.

use std::borrow::Cow;

use ratatui::buffer::CellWidth;
use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

/// What ends a cut value.
pub const ELLIPSIS: char = '…';

/// The graphemes of `text` that are drawn, with their widths in cells (as ratatui draws them:
/// control characters are left out).
fn graphemes(text: &str) -> impl Iterator<Item = (&str, usize)> {
    text.graphemes(true)
        .filter(|g| !g.contains(char::is_control))
        .map(|g| (g, usize::from(g.cell_width())))
}

/// Cells `text` takes on a terminal.
pub fn cells(text: &str) -> usize {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_control()) {
        return text.len();
    }
    graphemes(text).map(|(_, w)| w).sum()
}

/// Cells a line takes on a terminal.
pub fn line_cells(line: &Line) -> usize {
    line.spans.iter().map(|s| cells(&s.content)).sum()
}

/// `text` in at most `width` cells: whole when it fits, else cut (never inside a grapheme, a
/// wide character or a combining sequence) and ended with `…`.
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if cells(text) <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for (symbol, w) in graphemes(text) {
        if used + w > width - 1 {
            break;
        }
        out.push_str(symbol);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// A line in at most `width` cells: whole when it fits, else cut like [`fit`], the `…` in the
/// style of the span it cuts.
pub fn fit_line(line: Line<'_>, width: usize) -> Line<'_> {
    if line_cells(&line) <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut out: Vec<Span> = Vec::new();
    let mut room = width.saturating_sub(1);
    let mut last_style = Style::default();
    for span in spans {
        last_style = span.style;
        let w = cells(&span.content);
        if w <= room {
            room -= w;
            out.push(span);
            continue;
        }
        let mut cut = String::new();
        for (symbol, w) in graphemes(&span.content) {
            if w > room {
                break;
            }
            cut.push_str(symbol);
            room -= w;
        }
        out.push(Span::styled(cut, span.style));
        break;
    }
    // No space before the `…`.
    while let Some(last) = out.last_mut() {
        let trimmed = last.content.trim_end().len();
        if trimmed > 0 {
            if trimmed < last.content.len() {
                last.content = Cow::Owned(last.content[..trimmed].to_string());
            }
            break;
        }
        out.pop();
    }
    if width > 0 {
        out.push(Span::styled(ELLIPSIS.to_string(), last_style));
    }
    Line {
        spans: out,
        style,
        alignment,
    }
}

/// What separates the parts of a line of facts (`3 PRs · 2 merged`).
pub const SEP: &str = " · ";

/// `parts` joined by [`SEP`] in lines of at most `width` cells, breaking only between parts, so
/// a number or a duration such as `3d 4h` is never split or cut; a part wider than a whole line
/// is cut with `…`.
pub fn flow<'a>(parts: impl IntoIterator<Item = &'a str>, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        let part = fit(part, width);
        match lines.last_mut() {
            Some(line) if cells(line) + cells(SEP) + cells(&part) <= width => {
                line.push_str(SEP);
                line.push_str(&part);
            }
            _ => lines.push(part.into_owned()),
        }
    }
    lines
}

/// The first of `parts` that fit in `width` cells together, joined by [`SEP`]: the others are
/// left out whole rather than shown cut (a title over a border, say).
pub fn first_parts<'a>(parts: impl IntoIterator<Item = &'a str>, width: usize) -> String {
    let mut line = String::new();
    for part in parts {
        let sep = if line.is_empty() { "" } else { SEP };
        if cells(&line) + cells(sep) + cells(part) > width {
            break;
        }
        line.push_str(sep);
        line.push_str(part);
    }
    line
}

/// Which side of its column a value keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// `text` padded with spaces to `width` cells on the side `align` leaves free.
pub fn pad(text: &str, width: usize, align: Align) -> String {
    let fill = " ".repeat(width.saturating_sub(cells(text)));
    match align {
        Align::Left => format!("{text}{fill}"),
        Align::Right => format!("{fill}{text}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Text {
    min: usize,
    weight: usize,
    grow: bool,
}

/// How a column is sized: see the module's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    text: Option<Text>,
    /// When not every column fits, lower ones are dropped first.
    priority: u8,
    pub align: Align,
}

impl Column {
    /// Values that are never cut (numbers, durations, ids, dates, fixed words): as wide as the
    /// widest, right-aligned.
    pub const fn whole(priority: u8) -> Column {
        Column {
            text: None,
            priority,
            align: Align::Right,
        }
    }

    /// Text that gives way: at least `min` cells (fewer only when its widest value is
    /// narrower), a share of the room by `weight`, cut with `…`; left-aligned.
    pub const fn text(min: usize, weight: usize, priority: u8) -> Column {
        Column {
            text: Some(Text {
                min,
                weight,
                grow: false,
            }),
            priority,
            align: Align::Left,
        }
    }

    /// Also takes the room no column needs, so the table spans its area (text columns only).
    pub const fn grow(mut self) -> Column {
        if let Some(text) = &mut self.text {
            text.grow = true;
        }
        self
    }

    pub const fn left(mut self) -> Column {
        self.align = Align::Left;
        self
    }

    pub const fn right(mut self) -> Column {
        self.align = Align::Right;
        self
    }

    pub fn is_text(&self) -> bool {
        self.text.is_some()
    }
}

/// The widest cell of each column, header included. Rows may be shorter than the header (a
/// separator row); longer ones are measured as far as there are columns.
pub fn measure<'a, R, C>(header: &[&str], rows: R) -> Vec<usize>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = &'a str>,
{
    let mut widths: Vec<usize> = header.iter().map(|h| cells(h)).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cells(cell));
        }
    }
    widths
}

/// Column widths in `total` cells with `spacing` between columns, from each column's widest
/// cell (`natural`, header included): `None` for a column dropped because not even the whole
/// columns fit.
pub fn layout(
    columns: &[Column],
    natural: &[usize],
    total: usize,
    spacing: usize,
) -> Vec<Option<usize>> {
    assert_eq!(columns.len(), natural.len(), "a width for every column");
    let least = |i: usize| match columns[i].text {
        None => natural[i],
        Some(t) => natural[i].min(t.min),
    };
    let mut shown = vec![true; columns.len()];
    loop {
        let count = shown.iter().filter(|s| **s).count();
        let required: usize = (0..columns.len())
            .filter(|&i| shown[i])
            .map(least)
            .sum::<usize>()
            + spacing * count.saturating_sub(1);
        if required <= total || count == 0 {
            break;
        }
        // The lowest priority goes first; of equals, the rightmost.
        let drop = (0..columns.len())
            .filter(|&i| shown[i])
            .min_by_key(|&i| (columns[i].priority, std::cmp::Reverse(i)))
            .expect("a shown column");
        shown[drop] = false;
    }
    let count = shown.iter().filter(|s| **s).count();
    let mut widths: Vec<Option<usize>> = vec![None; columns.len()];
    let mut room = total.saturating_sub(spacing * count.saturating_sub(1));
    for i in (0..columns.len()).filter(|&i| shown[i] && !columns[i].is_text()) {
        widths[i] = Some(natural[i]);
        room -= natural[i];
    }
    let texts: Vec<(usize, Text)> = (0..columns.len())
        .filter(|&i| shown[i])
        .filter_map(|i| Some((i, columns[i].text?)))
        .collect();
    // Each text column at a cap `c`: its natural width up to `c × weight`, never under its
    // minimum. The largest cap that fits, found by bisection (the sum grows with `c`).
    let at = |c: usize, i: usize, t: Text| natural[i].min(c * t.weight).max(natural[i].min(t.min));
    let sum = |c: usize| texts.iter().map(|&(i, t)| at(c, i, t)).sum::<usize>();
    let most = texts.iter().map(|&(i, _)| natural[i]).max().unwrap_or(0);
    let (mut lo, mut hi) = (0, most);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if sum(mid) <= room {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    for &(i, t) in &texts {
        widths[i] = Some(at(lo, i, t));
    }
    let mut spare = room.saturating_sub(sum(lo));
    // What the cap left over goes to the columns still cut, highest priority first.
    let mut by_priority = texts.clone();
    by_priority.sort_by_key(|&(i, _)| (std::cmp::Reverse(columns[i].priority), i));
    while spare > 0 {
        let mut gave = false;
        for &(i, _) in &by_priority {
            let w = widths[i].as_mut().expect("shown");
            if spare > 0 && *w < natural[i] {
                *w += 1;
                spare -= 1;
                gave = true;
            }
        }
        if !gave {
            break;
        }
    }
    // Room nobody needs: to the growing column, so the table spans its area.
    if let Some(&(i, _)) = by_priority.iter().find(|(_, t)| t.grow) {
        *widths[i].as_mut().expect("shown") += spare;
    }
    widths
}

/// A table's columns laid out for its area: which show, how wide, and the cells fitted to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    columns: Vec<Column>,
    widths: Vec<Option<usize>>,
}

impl Grid {
    /// Lay `columns` out in `total` cells, `spacing` apart, from their widest cells.
    pub fn new(columns: &[Column], natural: &[usize], total: usize, spacing: usize) -> Grid {
        Grid {
            columns: columns.to_vec(),
            widths: layout(columns, natural, total, spacing),
        }
    }

    /// Each column's width, `None` when it is dropped.
    pub fn widths(&self) -> &[Option<usize>] {
        &self.widths
    }

    pub fn shown(&self, column: usize) -> bool {
        self.widths.get(column).is_some_and(Option::is_some)
    }

    /// The shown columns' widths as ratatui constraints.
    pub fn constraints(&self) -> Vec<Constraint> {
        self.widths
            .iter()
            .flatten()
            .map(|&w| Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX)))
            .collect()
    }

    /// The shown cells of a row, each fitted to its column and aligned as the column says. A
    /// row shorter than the columns (a separator) is fitted as far as it goes.
    pub fn cells<'a>(&self, row: impl IntoIterator<Item = Line<'a>>) -> Vec<Line<'a>> {
        row.into_iter()
            .zip(self.columns.iter().zip(&self.widths))
            .filter_map(|(line, (column, width))| {
                let width = (*width)?;
                let line = fit_line(line, width);
                Some(match column.align {
                    Align::Left => line.left_aligned(),
                    Align::Right => line.right_aligned(),
                })
            })
            .collect()
    }

    /// A row as text: the shown cells fitted, padded and `spacing` apart, without trailing
    /// spaces (for the CLI).
    pub fn text_line(&self, row: &[String], spacing: usize) -> String {
        let mut line = String::new();
        let mut first = true;
        for ((cell, column), width) in row.iter().zip(&self.columns).zip(&self.widths) {
            let Some(width) = *width else {
                continue;
            };
            if !first {
                line.push_str(&" ".repeat(spacing));
            }
            first = false;
            line.push_str(&pad(&fit(cell, width), width, column.align));
        }
        line.truncate(line.trim_end().len());
        line
    }
}

/// A table as text, for the CLI (which does not know the terminal's width, and may print to a
/// pipe): each column as wide as its widest cell, header included, in cells; `spacing` spaces
/// between columns; `indent` before each line; no trailing spaces. Nothing is cut here: callers
/// cut long text (titles, error reasons) with [`fit`] first.
pub fn text_table(
    header: &[(&str, Align)],
    rows: &[Vec<String>],
    spacing: usize,
    indent: &str,
) -> String {
    let names: Vec<&str> = header.iter().map(|(name, _)| *name).collect();
    let widths = measure(
        &names,
        rows.iter().map(|row| row.iter().map(String::as_str)),
    );
    let header_row: Vec<String> = names.iter().map(std::string::ToString::to_string).collect();
    let mut out = String::new();
    for row in std::iter::once(&header_row).chain(rows) {
        let mut line = indent.to_string();
        for (i, ((cell, width), (_, align))) in row.iter().zip(&widths).zip(header).enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(spacing));
            }
            line.push_str(&pad(cell, *width, *align));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_count_as_drawn() {
        assert_eq!(cells("abc"), 3);
        assert_eq!(cells("équipe 🚀 日本"), 14);
        // e + combining acute: one cell.
        assert_eq!(cells("e\u{301}"), 1);
        assert_eq!(cells("a\u{1b}b"), 2);
        assert_eq!(cells(""), 0);
    }

    #[test]
    fn fit_cuts_with_an_ellipsis_in_cells() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("exactly 10", 10), "exactly 10");
        assert_eq!(fit("one two three", 9), "one two…");
        assert_eq!(fit("renovate[bot]", 8), "renovat…");
        assert_eq!(fit("ÜÜÜÜÜÜ", 4), "ÜÜÜ…");
        // A wide character never half shows: the cut leaves a cell short instead.
        assert_eq!(fit("日本語です", 6), "日本…");
        assert_eq!(cells(&fit("日本語です", 6)), 5);
        // Combining marks stay with their letter.
        assert_eq!(
            fit("e\u{301}e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}…"
        );
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 1), "…");
    }

    #[test]
    fn fit_line_keeps_styles_and_cuts_the_last_span() {
        use ratatui::style::Stylize;
        let line = Line::from(vec![Span::raw("Bob Kowalski"), Span::raw(" (left)").red()]);
        assert_eq!(fit_line(line.clone(), 19), line);
        let cut = fit_line(line.clone(), 15);
        assert_eq!(line_cells(&cut), 15);
        assert_eq!(cut.to_string(), "Bob Kowalski (…");
        assert_eq!(cut.spans.last().unwrap().style, Style::new().red());
        let cut = fit_line(line, 13);
        assert_eq!(cut.to_string(), "Bob Kowalski…");
    }

    #[test]
    fn text_tables_line_up_in_cells() {
        let rows = vec![
            vec!["équipe 🚀 日本".to_string(), "3d 4h".into(), "x".into()],
            vec!["e\u{301}quipe".into(), "1095d 23h".into(), "y".into()],
            vec!["plain".into(), "45m".into(), "z".into()],
        ];
        let out = text_table(
            &[
                ("NAME", Align::Left),
                ("CYCLE", Align::Right),
                ("LAST", Align::Left),
            ],
            &rows,
            2,
            "  ",
        );
        // The last column starts at the same cell on every line.
        let starts: Vec<usize> = out
            .lines()
            .map(|line| {
                let last = line.rfind(' ').unwrap() + 1;
                cells(&line[..last])
            })
            .collect();
        assert_eq!(starts, [29, 29, 29, 29], "{out}");
        assert!(out.contains("      3d 4h  x"), "{out}");
        assert!(
            out.lines()
                .all(|l| l.starts_with("  ") && !l.ends_with(' '))
        );
    }

    #[test]
    fn facts_break_between_parts_and_titles_leave_parts_out() {
        let parts = ["coding 1d", "pickup 45m", "review 3d 2h", "cycle 1095d 23h"];
        assert_eq!(
            flow(parts, 80),
            ["coding 1d · pickup 45m · review 3d 2h · cycle 1095d 23h"]
        );
        assert_eq!(
            flow(parts, 30),
            ["coding 1d · pickup 45m", "review 3d 2h · cycle 1095d 23h"]
        );
        assert_eq!(flow(["a very long part"], 8), ["a very…"]);
        let title = ["Merged per week", "1234 total", "peak 56"];
        assert_eq!(
            first_parts(title, 40),
            "Merged per week · 1234 total · peak 56"
        );
        assert_eq!(first_parts(title, 37), "Merged per week · 1234 total");
        assert_eq!(first_parts(title, 10), "");
    }

    #[test]
    fn pad_measures_cells() {
        assert_eq!(pad("日本", 6, Align::Left), "日本  ");
        assert_eq!(pad("45m", 6, Align::Right), "   45m");
        assert_eq!(pad("too wide", 3, Align::Left), "too wide");
    }

    const WHOLE: Column = Column::whole(5);

    #[test]
    fn whole_columns_are_never_cut_and_text_takes_the_rest() {
        let columns = [Column::text(4, 1, 9).grow(), WHOLE, WHOLE];
        // Everything fits: the growing column takes the spare room.
        assert_eq!(
            layout(&columns, &[10, 7, 9], 40, 1),
            [Some(22), Some(7), Some(9)]
        );
        // Tight: the text gives way, the numbers keep their width.
        assert_eq!(
            layout(&columns, &[30, 7, 9], 24, 1),
            [Some(6), Some(7), Some(9)]
        );
    }

    #[test]
    fn text_columns_share_by_weight() {
        let columns = [
            Column::text(4, 1, 3),
            Column::text(10, 3, 8).grow(),
            Column::text(6, 1, 4),
        ];
        let widths = layout(&columns, &[5, 60, 19], 42, 0);
        assert_eq!(widths, [Some(5), Some(28), Some(9)]);
        // Narrow text is never widened by its share.
        let widths = layout(&columns, &[3, 60, 19], 100, 0);
        assert_eq!(widths, [Some(3), Some(78), Some(19)]);
    }

    #[test]
    fn columns_are_dropped_lowest_priority_first_rather_than_cut() {
        let columns = [
            Column::whole(9),
            Column::text(5, 1, 8),
            Column::whole(7),
            Column::whole(1),
        ];
        let natural = [4, 30, 9, 10];
        assert_eq!(
            layout(&columns, &natural, 32, 1),
            [Some(4), Some(6), Some(9), Some(10)]
        );
        assert_eq!(
            layout(&columns, &natural, 25, 1),
            [Some(4), Some(10), Some(9), None]
        );
        assert_eq!(
            layout(&columns, &natural, 20, 1),
            [Some(4), Some(5), Some(9), None]
        );
        // The text at its minimum and the duration no longer fit: the duration goes, whole.
        assert_eq!(
            layout(&columns, &natural, 19, 1),
            [Some(4), Some(14), None, None]
        );
        assert_eq!(
            layout(&columns, &natural, 10, 1),
            [Some(4), Some(5), None, None]
        );
        assert_eq!(layout(&columns, &natural, 3, 1), [None, None, None, None]);
    }

    #[test]
    fn grid_fits_cells_and_skips_dropped_columns() {
        let grid = Grid::new(
            &[Column::text(3, 1, 5), Column::whole(9), Column::whole(1)],
            &[13, 7, 20],
            14,
            1,
        );
        assert_eq!(grid.widths(), [Some(6), Some(7), None]);
        let cells = grid.cells([
            Line::from("renovate[bot]"),
            Line::from("20h 47m"),
            Line::from("dropped"),
        ]);
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0].to_string(), "renov…");
        assert_eq!(cells[1].to_string(), "20h 47m");
        assert_eq!(
            grid.text_line(&["a".into(), "45m".into(), "x".into()], 1),
            "a          45m"
        );
    }
}
