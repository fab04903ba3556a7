//! The pull request table's order, filter and column widths, derived from the loaded pull
//! requests when they or the sort or filter change, never while drawing.

use std::cmp::Ordering;

use tidemark_protocol::PrInfo;

use super::{PrColumn, in_rows};
use crate::app::state::Loadable;
use crate::columns;
use crate::tabs::TeamView;

/// What the filter searches in a pull request, lowercased once when the list arrives: repo,
/// `#number`, title, author and state, one per line so a match cannot span two of them.
pub fn haystack(pr: &PrInfo) -> String {
    format!(
        "{}\n#{}\n{}\n{}\n{}",
        pr.repo,
        pr.number,
        pr.title,
        pr.author.as_deref().unwrap_or(""),
        pr.state.as_str()
    )
    .to_lowercase()
}

/// Text order ignoring case, without allocating (sorting 50,000 titles).
fn caseless(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// Missing values (not merged, not reviewed) sort after present ones in either direction.
fn by_option<T: Ord>(a: Option<T>, b: Option<T>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            if descending {
                b.cmp(&a)
            } else {
                a.cmp(&b)
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(a: &PrInfo, b: &PrInfo, column: PrColumn, descending: bool) -> Ordering {
    let ord = |o: Ordering| if descending { o.reverse() } else { o };
    let primary = match column {
        PrColumn::Repo => ord(a.repo.cmp(&b.repo)),
        PrColumn::Number => ord(a.number.cmp(&b.number)),
        PrColumn::Title => ord(caseless(&a.title, &b.title)),
        PrColumn::Author => by_option(a.author.as_deref(), b.author.as_deref(), descending),
        PrColumn::State => ord(a.state.as_str().cmp(b.state.as_str())),
        PrColumn::Size => ord(size(a).cmp(&size(b))),
        PrColumn::Cycle => by_option(a.cycle_time, b.cycle_time, descending),
        PrColumn::Review => by_option(a.review_time, b.review_time, descending),
        PrColumn::Created => ord(a.created_at.cmp(&b.created_at)),
    };
    // Ties: newest first, then by repository and number, so the order is stable.
    primary
        .then_with(|| b.created_at.cmp(&a.created_at))
        .then_with(|| a.repo.cmp(&b.repo))
        .then_with(|| a.number.cmp(&b.number))
}

/// The widest value of each column over `pulls`, in cells.
fn column_widths(pulls: &[PrInfo]) -> [usize; PrColumn::ALL.len()] {
    let mut widths = [0; PrColumn::ALL.len()];
    for pr in pulls {
        for column in PrColumn::ALL {
            let cells = match column {
                // As `text` writes them, without writing them (50,000 rows).
                PrColumn::Number => pr.number.checked_ilog10().map_or(1, |d| d as usize + 1),
                // A date is as wide as the oldest's or the newest's (measured below).
                PrColumn::Created => continue,
                _ => columns::cells(&column.text(pr)),
            };
            let width = &mut widths[column.index()];
            *width = (*width).max(cells);
        }
    }
    let created = PrColumn::Created;
    for pr in [
        pulls.iter().min_by_key(|p| p.created_at),
        pulls.iter().max_by_key(|p| p.created_at),
    ]
    .into_iter()
    .flatten()
    {
        let width = &mut widths[created.index()];
        *width = (*width).max(columns::cells(&created.text(pr)));
    }
    widths
}

/// Recompute the table's rows; the selection follows its pull request (see
/// [`crate::app::selection`]).
pub fn rebuild_pr_rows(view: &mut TeamView) {
    let Loadable::Loaded(pulls) = &view.pulls else {
        view.pr_list.rows.clear();
        view.pr_list.selected.follow(std::iter::empty::<&PrInfo>());
        return;
    };
    if view.pr_list.haystacks.len() != pulls.len() {
        view.pr_list.haystacks = pulls.iter().map(haystack).collect();
        view.pr_list.widths = column_widths(pulls);
    }
    let needle = view.pr_list.filter.value().trim().to_lowercase();
    let haystacks = &view.pr_list.haystacks;
    let mut rows: Vec<u32> = (0..pulls.len() as u32)
        .filter(|&i| needle.is_empty() || haystacks[i as usize].contains(&needle))
        .collect();
    let (column, descending) = (view.pr_list.sort, view.pr_list.descending);
    rows.sort_by(|&a, &b| compare(&pulls[a as usize], &pulls[b as usize], column, descending));
    view.pr_list.rows = rows;
    let rows = in_rows(&view.pulls, &view.pr_list.rows);
    view.pr_list.selected.follow(rows);
}

/// A pull request's size by the one definition (`tidemark_protocol::metrics::size`).
fn size(pr: &PrInfo) -> u64 {
    tidemark_protocol::metrics::size(pr.additions, pr.deletions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn view_with_pulls() -> TeamView {
        let mut view = TeamView::new(1, "platform".into());
        view.pulls = Loadable::Loaded(fixtures::pull_requests());
        rebuild_pr_rows(&mut view);
        view
    }

    fn numbers(view: &TeamView) -> Vec<u64> {
        view.pr_list
            .rows
            .iter()
            .map(|&i| view.pulls()[i as usize].number)
            .collect()
    }

    #[test]
    fn column_widths_are_those_of_the_widest_values() {
        let mut pulls = fixtures::pull_requests();
        pulls[0].number = 1_000_000;
        pulls[1].cycle_time = Some(1095 * 86_400 + 23 * 3600);
        pulls[2].author = Some("github-actions[bot]".into());
        let widths = column_widths(&pulls);
        for column in PrColumn::ALL {
            let widest = pulls
                .iter()
                .map(|pr| columns::cells(&column.text(pr)))
                .max()
                .unwrap();
            assert_eq!(widths[column.index()], widest, "{column:?}");
        }
        assert_eq!(widths[PrColumn::Number.index()], 7);
        assert_eq!(widths[PrColumn::Cycle.index()], 9);
        assert_eq!(widths[PrColumn::Author.index()], 19);
    }

    #[test]
    fn default_order_is_newest_first() {
        let view = view_with_pulls();
        assert_eq!(numbers(&view), vec![1290, 311, 1287, 77, 290]);
    }

    #[test]
    fn sorting_by_cycle_puts_unmerged_last_in_both_directions() {
        let mut view = view_with_pulls();
        view.pr_list.sort = PrColumn::Cycle;
        view.pr_list.descending = false;
        rebuild_pr_rows(&mut view);
        assert_eq!(&numbers(&view)[..2], &[77, 1287]);
        view.pr_list.descending = true;
        rebuild_pr_rows(&mut view);
        assert_eq!(&numbers(&view)[..2], &[1287, 77]);
    }

    #[test]
    fn filter_matches_title_author_repo_and_number_and_keeps_the_selection() {
        let mut view = view_with_pulls();
        let rows = in_rows(&view.pulls, &view.pr_list.rows);
        view.pr_list.selected.select(2, rows); // #1287
        for c in "ALICE".chars() {
            view.pr_list
                .filter
                .apply(crate::widgets::text_input::Edit::Insert(c));
        }
        rebuild_pr_rows(&mut view);
        assert_eq!(numbers(&view), vec![1290, 1287]);
        assert_eq!(view.selected_pull().unwrap().number, 1287);
        view.pr_list.filter = Default::default();
        for c in "#31".chars() {
            view.pr_list
                .filter
                .apply(crate::widgets::text_input::Edit::Insert(c));
        }
        rebuild_pr_rows(&mut view);
        assert_eq!(numbers(&view), vec![311]);
    }
}
