//! Each tracked repository's GraphQL node id. GitHub keeps a node id across renames and
//! transfers, and its published REST description has no lookup by database id, so this is how
//! a repository is found again when its name no longer answers. Learned when a repository is
//! tracked and from every sync page; a store from before it learns them at its next sync.

use super::keys::{Key, Kind, TeamId};
use super::{Result, Store};

fn repo_node_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::RepoNode).u64(repo)
}

impl Store {
    pub fn repo_node_id(&self, team: TeamId, repo: u64) -> Result<Option<String>> {
        self.get(Kind::RepoNode, repo_node_key(team, repo))
    }

    /// Remember node ids (repository id, node id); unchanged ones are not written again.
    pub fn put_repo_node_ids(&self, team: TeamId, nodes: &[(u64, String)]) -> Result<()> {
        let mut w = self.writer();
        let mut changed = false;
        for (repo, node) in nodes {
            if self.repo_node_id(team, *repo)?.as_deref() != Some(node.as_str()) {
                w.put(repo_node_key(team, *repo), node);
                changed = true;
            }
        }
        if changed {
            w.commit()?;
        }
        Ok(())
    }
}
