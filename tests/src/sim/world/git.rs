//! A repository's commits as Git has them: a graph (each commit names its parents) whose default
//! branch grows by merges. What `compare/{base}...{head}` answers, what a deployment's "head of
//! the default branch" is, and what tags point at.
//!
//! A merge commit (`merge`) has two parents, the branch's head and the pull request's head, so
//! the pull request's commits join the branch's history; a squash adds one commit with one
//! parent, and the pull request's commits stay out of it (GitHub keeps them on the pull
//! request). The pull request's first commit's parent is the branch's head when it was opened.

use super::model::Commit;
use std::collections::{HashMap, HashSet};

/// One commit of the graph; `order` is when it joined (parents always join first), which is
/// also GitHub's oldest-first order in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    pub commit: Commit,
    pub parents: Vec<String>,
    pub order: u64,
}

/// The commits of one repository and its default branch.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub commits: HashMap<String, GitCommit>,
    /// The default branch's first-parent chain, oldest first, with when each became the head.
    pub mainline: Vec<(i64, String)>,
    next_order: u64,
}

/// What `compare` finds between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `identical`, `ahead`, `behind` or `diverged`, as GitHub says.
    pub status: &'static str,
    /// Commits reachable from head but not base, oldest first.
    pub commits: Vec<String>,
    pub behind_by: usize,
    pub merge_base: Option<String>,
}

impl History {
    /// A repository's history with its first commit.
    pub fn new(root: Commit) -> History {
        let mut h = History::default();
        let at = root.committed_at;
        let sha = root.sha.clone();
        h.add(root, Vec::new());
        h.mainline.push((at, sha));
        h
    }

    pub fn head(&self) -> &str {
        &self.mainline.last().expect("a history has a root").1
    }

    /// The default branch's head at time `at` (its root before anything happened).
    pub fn head_at(&self, at: i64) -> &str {
        let i = self.mainline.partition_point(|(t, _)| *t <= at);
        &self.mainline[i.saturating_sub(1)].1
    }

    pub fn get(&self, sha: &str) -> Option<&GitCommit> {
        self.commits.get(sha)
    }

    /// A commit by its full sha or an unambiguous prefix of at least 7 hex digits (as Git
    /// resolves short shas).
    pub fn resolve(&self, sha: &str) -> Option<&GitCommit> {
        if let Some(c) = self.commits.get(sha) {
            return Some(c);
        }
        if sha.len() < 7 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut found = self
            .commits
            .values()
            .filter(|c| c.commit.sha.starts_with(sha));
        match (found.next(), found.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    /// Add a commit (its parents must be there already); a sha already present is kept.
    pub fn add(&mut self, commit: Commit, parents: Vec<String>) {
        if self.commits.contains_key(&commit.sha) {
            return;
        }
        let order = self.next_order;
        self.next_order += 1;
        self.commits.insert(
            commit.sha.clone(),
            GitCommit {
                commit,
                parents,
                order,
            },
        );
    }

    /// Move the default branch to `sha` (a child of its head) at `at`.
    pub fn advance(&mut self, sha: String, at: i64) {
        self.mainline.push((at, sha));
    }

    /// A pull request's commits on a branch off the default branch as it was at `opened_at`;
    /// returns the branch's head.
    pub fn add_branch(&mut self, commits: &[Commit], opened_at: i64) -> Option<String> {
        let mut parent = self.head_at(opened_at).to_string();
        for c in commits {
            self.add(c.clone(), vec![parent.clone()]);
            parent = c.sha.clone();
        }
        commits.last().map(|c| c.sha.clone())
    }

    /// Every commit reachable from `sha` (itself included).
    pub fn ancestors(&self, sha: &str) -> HashSet<&str> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut todo: Vec<&str> = vec![sha];
        while let Some(s) = todo.pop() {
            let Some((key, c)) = self.commits.get_key_value(s) else {
                continue;
            };
            if seen.insert(key.as_str()) {
                todo.extend(c.parents.iter().map(String::as_str));
            }
        }
        seen
    }

    /// GitHub's comparison of two commits of this repository (None when either is unknown).
    pub fn compare(&self, base: &str, head: &str) -> Option<Comparison> {
        let base = &self.resolve(base)?.commit.sha;
        let head = &self.resolve(head)?.commit.sha;
        let from_base = self.ancestors(base);
        let from_head = self.ancestors(head);
        let mut ahead: Vec<&GitCommit> = from_head
            .difference(&from_base)
            .map(|s| &self.commits[*s])
            .collect();
        ahead.sort_by_key(|c| c.order);
        let behind_by = from_base.difference(&from_head).count();
        // The best common ancestor: the one that joined last (every other common one is its
        // ancestor in the histories this simulator makes).
        let merge_base = from_base
            .intersection(&from_head)
            .max_by_key(|s| self.commits[**s].order)
            .map(|s| s.to_string());
        let status = match (ahead.len(), behind_by) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        Some(Comparison {
            status,
            commits: ahead.iter().map(|c| c.commit.sha.clone()).collect(),
            behind_by,
            merge_base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::world::{Account, new_commit};

    fn who() -> Account {
        Account {
            id: 7,
            login: "ada".into(),
            name: "Ada".into(),
            email: None,
            is_bot: false,
            created_at: 0,
        }
    }

    fn c(seed: &str, at: i64) -> Commit {
        new_commit(&who(), seed, at, 1, 1)
    }

    #[test]
    fn compare_lists_what_head_has_and_base_lacks_oldest_first() {
        let mut h = History::new(c("root", 0));
        let root = h.head().to_string();
        // A merged branch of two commits, then a squash of another branch.
        let tip = h.add_branch(&[c("a1", 10), c("a2", 20)], 5).unwrap();
        let m1 = c("merge-a", 30);
        h.add(m1.clone(), vec![root.clone(), tip]);
        h.advance(m1.sha.clone(), 30);
        let s1 = c("squash-b", 40);
        h.add(s1.clone(), vec![m1.sha.clone()]);
        h.advance(s1.sha.clone(), 40);

        let cmp = h.compare(&root, &s1.sha).unwrap();
        assert_eq!(cmp.status, "ahead");
        let want: Vec<String> = ["a1", "a2", "merge-a", "squash-b"]
            .iter()
            .map(|s| super::super::sha_for(s))
            .collect();
        assert_eq!(cmp.commits, want);
        assert_eq!(cmp.merge_base.as_deref(), Some(root.as_str()));

        let back = h.compare(&s1.sha, &m1.sha).unwrap();
        assert_eq!((back.status, back.behind_by), ("behind", 1));
        assert!(back.commits.is_empty());
        assert_eq!(h.compare(&m1.sha, &m1.sha).unwrap().status, "identical");
        assert_eq!(h.compare(&m1.sha[..7], &s1.sha).unwrap().commits.len(), 1);
        assert!(h.compare("0000000", &s1.sha).is_none());
        assert_eq!(h.head_at(35), m1.sha);
        assert_eq!(h.head_at(-1), root);
    }

    #[test]
    fn an_unmerged_branch_diverges_from_the_branch_it_left() {
        let mut h = History::new(c("root", 0));
        let root = h.head().to_string();
        let tip = h.add_branch(&[c("x", 10)], 5).unwrap();
        let s = c("squash-y", 20);
        h.add(s.clone(), vec![root.clone()]);
        h.advance(s.sha.clone(), 20);
        let cmp = h.compare(&s.sha, &tip).unwrap();
        assert_eq!((cmp.status, cmp.behind_by), ("diverged", 1));
        assert_eq!(cmp.commits, vec![tip]);
        assert_eq!(cmp.merge_base, Some(root));
    }
}
