//! A list's selection follows its item, not its row.
//!
//! Every list the TUI lets the user move in (teams, tracked repositories, pull requests, people,
//! the repository picker) keeps a [`Selection`]: the row under the cursor, for drawing, and the
//! key of the item on it (a team's id, a repository's id, a pull request's repository and
//! number, a person's member id or login). When the list changes under it (a reload after a
//! webhook, a re-sort, a filter) [`Selection::follow`] finds the item again; only when the item
//! is gone does the cursor stay at the nearest row, on whatever is there now. So `enter` never
//! opens something the user did not choose.

use tidemark_protocol::{AvailableRepo, Invitation, PrInfo, RepoInfo, TeamId, TeamInfo};

use super::action::Action;
use crate::tabs::people::Person;

/// Rows a page key moves.
pub const PAGE: usize = 10;

/// An item of a list, known by a key that survives reloads.
pub trait Keyed {
    type Key: Clone + PartialEq + std::fmt::Debug;

    fn key(&self) -> Self::Key;

    /// Whether this is the item `key` names (override to compare without allocating).
    fn is(&self, key: &Self::Key) -> bool {
        self.key() == *key
    }
}

/// Where a move key takes a row in a list of `len`.
pub fn step(row: usize, len: usize, action: Action) -> usize {
    let last = len.saturating_sub(1);
    match action {
        Action::Down => (row + 1).min(last),
        Action::Up => row.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageDown => (row + PAGE).min(last),
        Action::PageUp => row.saturating_sub(PAGE),
        _ => row,
    }
}

/// The cursor in a list: the row it is on and the key of the item there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection<K> {
    row: usize,
    key: Option<K>,
}

impl<K> Default for Selection<K> {
    fn default() -> Self {
        Selection { row: 0, key: None }
    }
}

impl<K: Clone + PartialEq> Selection<K> {
    /// The row under the cursor (0 in an empty list).
    pub fn row(&self) -> usize {
        self.row
    }

    /// The item selected, by key (kept while the list is empty, so it is found again).
    pub fn key(&self) -> Option<&K> {
        self.key.as_ref()
    }

    /// Put the cursor on `row` (kept inside the list) and remember the item there.
    pub fn select<'a, T>(&mut self, row: usize, mut items: impl ExactSizeIterator<Item = &'a T>)
    where
        T: Keyed<Key = K> + 'a,
    {
        let len = items.len();
        self.row = row.min(len.saturating_sub(1));
        if let Some(item) = items.nth(self.row) {
            self.key = Some(item.key());
        }
    }

    /// A move key (down, up, top, bottom, page).
    pub fn step<'a, T>(&mut self, action: Action, items: impl ExactSizeIterator<Item = &'a T>)
    where
        T: Keyed<Key = K> + 'a,
    {
        let row = step(self.row, items.len(), action);
        self.select(row, items);
    }

    /// Select the item with `key` if the list has it; else leave the selection as it is.
    pub fn select_key<'a, T>(
        &mut self,
        key: &K,
        items: impl ExactSizeIterator<Item = &'a T> + Clone,
    ) -> bool
    where
        T: Keyed<Key = K> + 'a,
    {
        match items.clone().position(|item| item.is(key)) {
            Some(row) => {
                self.select(row, items);
                true
            }
            None => false,
        }
    }

    /// The list changed under the cursor (reloaded, re-sorted, filtered): the row of the same
    /// item, or, when it is gone, the nearest row and what is on it now.
    pub fn follow<'a, T>(&mut self, items: impl ExactSizeIterator<Item = &'a T> + Clone)
    where
        T: Keyed<Key = K> + 'a,
    {
        if items.len() == 0 {
            self.row = 0;
            return;
        }
        let found = self
            .key
            .as_ref()
            .and_then(|key| items.clone().position(|item| item.is(key)));
        self.select(found.unwrap_or(self.row), items);
    }
}

impl Keyed for TeamInfo {
    type Key = TeamId;

    fn key(&self) -> TeamId {
        self.id
    }
}

/// Tracked repositories by GitHub's id (kept across renames).
impl Keyed for Invitation {
    type Key = TeamId;

    fn key(&self) -> TeamId {
        self.team_id
    }
}

impl Keyed for tidemark_protocol::agreements::Breach {
    type Key = u64;

    fn key(&self) -> u64 {
        self.id
    }
}

impl Keyed for RepoInfo {
    type Key = u64;

    fn key(&self) -> u64 {
        self.github_repo_id
    }
}

impl Keyed for AvailableRepo {
    type Key = u64;

    fn key(&self) -> u64 {
        self.github_repo_id
    }
}

/// A pull request: its repository and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullKey {
    pub repo: String,
    pub number: u64,
}

impl Keyed for PrInfo {
    type Key = PullKey;

    fn key(&self) -> PullKey {
        PullKey {
            repo: self.repo.clone(),
            number: self.number,
        }
    }

    fn is(&self, key: &PullKey) -> bool {
        self.number == key.number && self.repo == key.repo
    }
}

/// A person: the same member (by id), or the same GitHub login (authors who are no members,
/// and a member whose record came back under a new id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonKey {
    pub member: Option<u64>,
    pub login: String,
}

impl Keyed for Person {
    type Key = PersonKey;

    fn key(&self) -> PersonKey {
        PersonKey {
            member: self.member,
            login: self.login.clone(),
        }
    }

    fn is(&self, key: &PersonKey) -> bool {
        (self.member.is_some() && self.member == key.member)
            || (!self.login.is_empty() && self.login == key.login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Item(u32);

    impl Keyed for Item {
        type Key = u32;
        fn key(&self) -> u32 {
            self.0
        }
    }

    fn items(keys: &[u32]) -> Vec<Item> {
        keys.iter().map(|&k| Item(k)).collect()
    }

    #[test]
    fn the_selection_follows_its_item_through_inserts_and_reorders() {
        let list = items(&[10, 20, 30, 40]);
        let mut sel = Selection::default();
        sel.select(2, list.iter());
        assert_eq!((sel.row(), sel.key()), (2, Some(&30)));
        // Two items arrive above it.
        let list = items(&[5, 6, 10, 20, 30, 40]);
        sel.follow(list.iter());
        assert_eq!((sel.row(), sel.key()), (4, Some(&30)));
        // Re-sorted.
        let list = items(&[40, 30, 20, 10, 6, 5]);
        sel.follow(list.iter());
        assert_eq!((sel.row(), sel.key()), (1, Some(&30)));
    }

    #[test]
    fn a_gone_item_leaves_the_cursor_on_the_nearest_row() {
        let mut sel = Selection::default();
        sel.select(3, items(&[10, 20, 30, 40]).iter());
        sel.follow(items(&[10, 20, 30]).iter());
        assert_eq!((sel.row(), sel.key()), (2, Some(&30)));
        sel.follow(items(&[10, 20, 25, 26]).iter());
        assert_eq!((sel.row(), sel.key()), (2, Some(&25)));
    }

    #[test]
    fn an_empty_list_keeps_the_key_until_the_item_is_back() {
        let mut sel = Selection::default();
        sel.select(1, items(&[10, 20, 30]).iter());
        sel.follow(items(&[]).iter());
        assert_eq!((sel.row(), sel.key()), (0, Some(&20)));
        sel.follow(items(&[30, 20, 10]).iter());
        assert_eq!((sel.row(), sel.key()), (1, Some(&20)));
    }

    #[test]
    fn move_keys_step_and_remember_the_item() {
        let list = items(&[10, 20, 30]);
        let mut sel = Selection::default();
        sel.follow(list.iter());
        assert_eq!(sel.key(), Some(&10));
        sel.step(Action::Down, list.iter());
        sel.step(Action::Down, list.iter());
        sel.step(Action::Down, list.iter());
        assert_eq!((sel.row(), sel.key()), (2, Some(&30)));
        sel.step(Action::Top, list.iter());
        assert_eq!((sel.row(), sel.key()), (0, Some(&10)));
        assert!(sel.select_key(&20, list.iter()));
        assert!(!sel.select_key(&99, list.iter()));
        assert_eq!((sel.row(), sel.key()), (1, Some(&20)));
    }

    #[test]
    fn people_are_found_by_member_id_or_login() {
        let person = |member, login: &str| Person {
            member,
            login: login.into(),
            name: String::new(),
            is_bot: false,
            left: false,
            authored: 0,
            merged: 0,
            reviews_given: None,
            median_pickup: None,
            median_cycle: None,
        };
        let carol = person(Some(4), "").key();
        assert!(person(Some(4), "").is(&carol));
        assert!(!person(Some(5), "").is(&carol));
        let renovate = person(None, "renovate[bot]").key();
        assert!(person(None, "renovate[bot]").is(&renovate));
        assert!(person(Some(9), "renovate[bot]").is(&renovate));
        assert!(!person(None, "").is(&PersonKey {
            member: None,
            login: String::new()
        }));
    }
}
