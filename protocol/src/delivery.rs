//! Wire types of delivery metrics: the team's choices (`DeliveryConfig`), the DORA report and
//! its explain items. Every figure carries what it counts, so a client can show, under each
//! number, the deployments, pull requests and incidents behind it and the rule for each.

use crate::TeamRef;
use crate::metrics::dora::Band;
use serde::{Deserialize, Serialize};

/// Where a repository's deployments come from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Signal {
    /// GitHub Deployments to an environment matching the production pattern.
    Deployments,
    /// GitHub Actions workflow runs on the default branch whose workflow name matches.
    WorkflowRuns,
    /// Published releases (not drafts or pre-releases).
    Releases,
    /// Tags matching the tag pattern.
    Tags,
    /// Merged pull requests into the default branch: a proxy, not a deployment.
    MergedPrs,
}

impl Signal {
    pub const ALL: [Signal; 5] = [
        Signal::Deployments,
        Signal::WorkflowRuns,
        Signal::Releases,
        Signal::Tags,
        Signal::MergedPrs,
    ];

    /// The name the CLI and config use.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Deployments => "deployments",
            Signal::WorkflowRuns => "workflow-runs",
            Signal::Releases => "releases",
            Signal::Tags => "tags",
            Signal::MergedPrs => "merged-prs",
        }
    }

    pub fn from_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_proxy(self) -> bool {
        self == Signal::MergedPrs
    }
}

/// A team's delivery choices. Patterns are regular expressions (Rust's `regex` syntax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryConfig {
    /// GitHub Deployments count when their environment matches this.
    pub production_pattern: String,
    /// Workflow runs count when their workflow's name matches this.
    pub workflow_pattern: String,
    /// Tags count when their name matches this.
    pub tag_pattern: String,
    /// An issue with this label is an incident.
    pub incident_label: String,
    /// A pull request with this label makes the deployment that ships it rework.
    pub hotfix_label: String,
    /// A signal chosen for a repository (`owner/repo`), instead of the best one it has.
    pub signals: Vec<(String, Signal)>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            production_pattern: "^prod(uction)?$".into(),
            workflow_pattern: "(?i)deploy|release".into(),
            tag_pattern: r"^v?\d+\.\d+".into(),
            incident_label: "incident".into(),
            hotfix_label: "hotfix".into(),
            signals: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoraGrouping {
    Team,
    Repo,
    Week,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoraQuery {
    pub team: TeamRef,
    /// Start of the window (Unix seconds); the daemon's default is 12 weeks back.
    pub since: Option<i64>,
    /// End of the window; now when None.
    pub until: Option<i64>,
    pub by: DoraGrouping,
    /// Evaluate with these choices instead of the saved ones (a preview before saving).
    pub config: Option<DeliveryConfig>,
    /// List the items each figure counts (`deployments`, `changes`, `failures`). Without, they
    /// are empty and the groups still hold every index and figure (a year of a big team's
    /// items is more than one answer carries).
    pub explain: bool,
}

/// The report: one group per team, repository or ISO week, and every item counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoraReport {
    /// The report edition the bands come from.
    pub edition: String,
    pub since: i64,
    pub until: i64,
    /// How each tracked repository's deployments were found.
    pub repos: Vec<RepoSignal>,
    pub groups: Vec<DoraGroup>,
    /// Every deployment in the window, in time order (groups point into it by index); empty
    /// unless the query asked to `explain`, as are `changes` and `failures`.
    pub deployments: Vec<DeploymentItem>,
    /// Every change shipped in the window.
    pub changes: Vec<ChangeItem>,
    /// Every failure that began in the window.
    pub failures: Vec<FailureItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSignal {
    pub repo: String,
    pub signal: Signal,
    /// Why: "the team's choice", or which signal was found first.
    pub rule: String,
}

/// One figure's numbers, with its band when the edition has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoraGroup {
    /// The team name, `owner/repo`, or an ISO week (`2026-W47`).
    pub key: String,
    /// The window of this group (a week's own bounds, clipped to the report's window).
    pub since: i64,
    pub until: i64,
    /// Successful deployments (indices into `DoraReport::deployments`).
    pub deployed: Vec<u32>,
    /// Deployments per week, in thousandths.
    pub per_week_milli: u64,
    pub frequency_band: Option<Band>,
    /// Changes shipped (indices into `DoraReport::changes`), and their lead times.
    pub changes: Vec<u32>,
    pub lead_time: Durations,
    pub lead_time_band: Option<Band>,
    /// Finished deployments (successful or failed) and those that failed.
    pub finished: Vec<u32>,
    pub failed: Vec<u32>,
    pub fail_rate_band: Option<Band>,
    /// Failures that began in this group (indices into `DoraReport::failures`).
    pub failures: Vec<u32>,
    pub recovery: Durations,
    pub recovery_band: Option<Band>,
    /// Rework deployments among the finished ones.
    pub rework: Vec<u32>,
}

/// count, p50 and p90 of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Durations {
    pub count: u64,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeployOutcome {
    Success,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentItem {
    pub repo: String,
    pub signal: Signal,
    /// GitHub's identity for it: a deployment's or release's node id, a run's id, a tag's name,
    /// or `#N` for a merged pull request (the proxy).
    pub id: String,
    pub sha: String,
    /// The environment, workflow, tag or pull request title.
    pub name: String,
    /// When it finished (its final status, run conclusion, publication or merge).
    pub at: i64,
    pub outcome: DeployOutcome,
    /// Why it counts as a deployment, e.g. "environment `production` matches `^prod(uction)?$`".
    pub rule: String,
    /// Why it failed, one line per reason (empty when it did not).
    pub failed_by: Vec<String>,
    /// Why it is rework (empty when it is not).
    pub rework_by: Vec<String>,
    /// Pull request numbers it shipped.
    pub shipped: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeItem {
    pub repo: String,
    pub number: u64,
    pub title: String,
    /// Where the lead time starts: the first commit, else the opening (see `rule`).
    pub started_at: i64,
    pub deployed_at: i64,
    pub lead_time: i64,
    /// Index into `DoraReport::deployments` of the deployment that shipped it.
    pub deployment: u32,
    /// How it was found in that deployment, e.g. "merge commit 1a2b3c4 is in compare 5d6e7f8...9a0b1c2".
    pub rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The deployment's own status was failure or error.
    FailedStatus,
    /// An issue with the incident label.
    Incident,
    /// A pull request reverting a shipped change.
    Revert,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureItem {
    pub repo: String,
    pub kind: FailureKind,
    /// The issue's or revert pull request's number.
    pub number: Option<u64>,
    pub title: String,
    /// Index into `DoraReport::deployments` of the failed deployment.
    pub deployment: u32,
    pub began_at: i64,
    pub recovered_at: Option<i64>,
    /// How the failure was linked and when it counts as recovered.
    pub rule: String,
}
