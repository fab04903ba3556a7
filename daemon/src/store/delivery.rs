//! Delivery records: deployments from each of GitHub's signals, incident candidates (issues),
//! GitHub's compare between two deployments' commits, the team's delivery settings and where
//! each repository's delivery fetch stands. The DORA measures are computed from these at query
//! time (`delivery/`), never stored, so a change of settings applies to the whole history.

use super::keys::{Key, Kind, TeamId};
use super::{Result, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Which of GitHub's signals a deployment record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DeploySource {
    /// A GitHub Deployment, with its statuses.
    Deployment,
    /// A GitHub Actions workflow run.
    WorkflowRun,
    /// A release.
    Release,
    /// A tag.
    Tag,
}

impl DeploySource {
    pub const ALL: [DeploySource; 4] = [
        DeploySource::Deployment,
        DeploySource::WorkflowRun,
        DeploySource::Release,
        DeploySource::Tag,
    ];

    fn byte(self) -> u8 {
        match self {
            DeploySource::Deployment => 1,
            DeploySource::WorkflowRun => 2,
            DeploySource::Release => 3,
            DeploySource::Tag => 4,
        }
    }
}

/// Where a deployment stands, from GitHub's own word for it (kept in `detail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeployState {
    /// Not finished yet (queued, in progress, pending).
    Pending,
    Success,
    /// Failed: a deployment status `failure`, a run's conclusion `failure` or `timed_out`.
    Failure,
    /// A deployment status `error`.
    Error,
    /// Not a deployment to count: a cancelled or skipped run, a draft or pre-release.
    Ignored,
}

/// A deployment as one of GitHub's signals describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deploy {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub source: DeploySource,
    /// GitHub's identity for it: the node id of a deployment or release, a run's id, a tag's
    /// name.
    pub id: String,
    /// The commit it deployed.
    pub sha: String,
    /// The environment (deployment), workflow name (run) or tag name (release, tag).
    pub name: String,
    /// The deployment's ref or the run's branch.
    pub branch: Option<String>,
    pub created_at: i64,
    pub state: DeployState,
    /// When it reached its state (the status, the run's completion, the publication).
    pub finished_at: Option<i64>,
    /// GitHub's word for the state, for the explain output: "status failure", "conclusion
    /// success", "published".
    pub detail: String,
    pub updated_at: i64,
}

/// An issue that may be an incident: every issue with a label the team's rules name is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub number: u64,
    pub title: String,
    pub labels: Vec<String>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
    /// Hexadecimal words of 7 to 40 characters in its body: commits it may name.
    pub body_shas: Vec<String>,
}

/// GitHub's compare between two commits: the commits `head` has that `base` has not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compared {
    pub team_id: TeamId,
    pub repo_id: u64,
    pub base: String,
    pub head: String,
    pub commits: Vec<String>,
    /// GitHub lists at most so many; more were left out.
    pub truncated: bool,
}

/// A team's delivery rules (see `protocol::delivery::DeliveryConfig` for their meaning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySettings {
    pub team_id: TeamId,
    pub production_pattern: String,
    pub workflow_pattern: String,
    pub tag_pattern: String,
    pub incident_label: String,
    pub hotfix_label: String,
    /// Repository id and the signal chosen for it: a `DeploySource`, or None for the merged
    /// pull-request proxy.
    pub signals: Vec<(u64, Option<DeploySource>)>,
    pub updated_at: i64,
}

/// Where one repository's delivery fetch stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliverySync {
    pub team_id: TeamId,
    pub repo_id: u64,
    /// The repository's default branch, as GitHub last said.
    pub default_branch: Option<String>,
    /// Each source: the newest creation (or update) time read, for the next incremental walk.
    pub deployments_until: Option<i64>,
    pub runs_until: Option<i64>,
    pub releases_until: Option<i64>,
    pub tags_until: Option<i64>,
    pub issues_until: Option<i64>,
    /// The ETag of the workflow runs' first page, as GitHub last gave it.
    pub runs_etag: Option<String>,
    pub updated_at: i64,
}

fn deploy_key(team: TeamId, repo: u64, source: DeploySource, id: &str) -> Key {
    Key::new(team, Kind::Deploy)
        .u64(repo)
        .u8(source.byte())
        .bytes(id.as_bytes())
}

fn issue_key(team: TeamId, repo: u64, number: u64) -> Key {
    Key::new(team, Kind::Issue).u64(repo).u64(number)
}

fn compare_key(team: TeamId, repo: u64, base: &str, head: &str) -> Key {
    Key::new(team, Kind::Compare)
        .u64(repo)
        .bytes(format!("{base}...{head}").as_bytes())
}

fn settings_key(team: TeamId) -> Key {
    Key::new(team, Kind::DeliverySettings)
}

fn sync_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::DeliverySync).u64(repo)
}

/// GitHub's ids and names are short; anything longer is not GitHub's and is refused.
const MAX_ID_BYTES: usize = 512;

impl Store {
    /// Store deployments (new or changed) of repositories the team tracks. Returns how many
    /// changed.
    pub fn put_deploys(&self, team: TeamId, deploys: &[Deploy]) -> Result<u64> {
        let mut w = self.writer();
        let mut changed = 0;
        for d in deploys {
            if d.team_id != team || d.id.is_empty() || d.id.len() > MAX_ID_BYTES {
                return Err(StoreError::Rejected {
                    field: "deployment",
                    reason: format!("an id of {} bytes, or of another team", d.id.len()),
                });
            }
            if self.tracked_repo(team, d.repo_id)?.is_none() {
                continue;
            }
            let key = deploy_key(team, d.repo_id, d.source, &d.id);
            let old: Option<Deploy> = self.get(Kind::Deploy, &key)?;
            if old.as_ref() != Some(d) {
                w.put(&key, d);
                changed += 1;
            }
        }
        w.commit()?;
        Ok(changed)
    }

    /// A repository's deployments from every source.
    pub fn deploys(&self, team: TeamId, repo: u64) -> Result<Vec<Deploy>> {
        self.scan(Kind::Deploy, Key::new(team, Kind::Deploy).u64(repo))
    }

    pub fn deploy(
        &self,
        team: TeamId,
        repo: u64,
        source: DeploySource,
        id: &str,
    ) -> Result<Option<Deploy>> {
        self.get(Kind::Deploy, deploy_key(team, repo, source, id))
    }

    /// Store issues of a tracked repository (new or changed).
    pub fn put_issues(&self, team: TeamId, issues: &[IssueRecord]) -> Result<u64> {
        let mut w = self.writer();
        let mut changed = 0;
        for i in issues {
            if i.team_id != team || self.tracked_repo(team, i.repo_id)?.is_none() {
                continue;
            }
            let key = issue_key(team, i.repo_id, i.number);
            let old: Option<IssueRecord> = self.get(Kind::Issue, &key)?;
            if old.as_ref() != Some(i) {
                w.put(&key, i);
                changed += 1;
            }
        }
        w.commit()?;
        Ok(changed)
    }

    pub fn issues(&self, team: TeamId, repo: u64) -> Result<Vec<IssueRecord>> {
        self.scan(Kind::Issue, Key::new(team, Kind::Issue).u64(repo))
    }

    /// Keep GitHub's compare of two commits (it never changes: commits are immutable).
    pub fn put_compare(&self, c: &Compared) -> Result<()> {
        if c.base.len() > MAX_ID_BYTES || c.head.len() > MAX_ID_BYTES {
            return Err(StoreError::Rejected {
                field: "compare",
                reason: "a commit id longer than GitHub's".into(),
            });
        }
        let mut w = self.writer();
        w.put(compare_key(c.team_id, c.repo_id, &c.base, &c.head), c);
        w.commit()
    }

    pub fn compare(
        &self,
        team: TeamId,
        repo: u64,
        base: &str,
        head: &str,
    ) -> Result<Option<Compared>> {
        self.get(Kind::Compare, compare_key(team, repo, base, head))
    }

    /// The team's delivery rules, if it ever saved any.
    pub fn delivery_settings(&self, team: TeamId) -> Result<Option<DeliverySettings>> {
        self.get(Kind::DeliverySettings, settings_key(team))
    }

    pub fn set_delivery_settings(&self, settings: &DeliverySettings) -> Result<()> {
        let mut w = self.writer();
        if self.team(settings.team_id)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{}", settings.team_id)));
        }
        w.put(settings_key(settings.team_id), settings);
        w.commit()
    }

    pub fn delivery_sync(&self, team: TeamId, repo: u64) -> Result<DeliverySync> {
        Ok(self
            .get(Kind::DeliverySync, sync_key(team, repo))?
            .unwrap_or(DeliverySync {
                team_id: team,
                repo_id: repo,
                ..DeliverySync::default()
            }))
    }

    pub fn set_delivery_sync(&self, sync: &DeliverySync) -> Result<()> {
        let mut w = self.writer();
        if self.tracked_repo(sync.team_id, sync.repo_id)?.is_none() {
            return Ok(());
        }
        w.put(sync_key(sync.team_id, sync.repo_id), sync);
        w.commit()
    }
}

/// The hexadecimal words of 7 to 40 characters in a text: the commits it may name. At most 20,
/// from the first 64 KiB (an issue body is the author's text, of any size).
pub fn shas_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut end = text.len().min(64 * 1024);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if (7..=40).contains(&word.len())
            && word.bytes().all(|b| b.is_ascii_hexdigit())
            && word.bytes().any(|b| b.is_ascii_digit())
        {
            let w = word.to_ascii_lowercase();
            if !out.contains(&w) {
                out.push(w);
            }
            if out.len() == 20 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas_are_hex_words_with_a_digit() {
        assert_eq!(
            shas_in(
                "Broke in 1a2b3c4d (deploy of abc1234), see https://x/commit/DEADBEEF99; not deadbeef or 12345"
            ),
            vec!["1a2b3c4d", "abc1234", "deadbeef99"]
        );
        assert!(shas_in(&"a1".repeat(50_000)).is_empty());
    }
}
