//! Delivery (DORA) metrics: the team's rules ([`rules`]), the measures computed from the stored
//! deployments, pull requests and incidents ([`engine`]), and the calls the RPC layer makes:
//! a report, the rules, and setting them (after a preview of their effect).

mod classify;
pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod rules;

use crate::store::{self, Store, StoreError, TeamId};
use engine::{RepoInput, Window};
use rules::{Rules, RulesError};
use std::collections::HashMap;
use tidemark_protocol::delivery::{DeliveryConfig, DoraQuery, DoraReport};
use tidemark_protocol::metrics::dora::WEEK;

/// The window a report covers when none is asked: the last 12 weeks.
pub const DEFAULT_WEEKS: i64 = 12;
/// The longest window a report may cover (two years of weeks).
pub const MAX_WINDOW: i64 = 104 * WEEK;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error("the window ends before it starts")]
    Window,
    #[error("the window is longer than two years")]
    WindowTooLong,
    /// The items of a report (`explain`) are more than one answer may carry.
    #[error(
        "the report lists {deployments} deployments, {changes} changes and {failures} failures \
         ({mb} MB), more than one answer carries ({max_mb} MB): ask for a shorter window, or \
         for the figures without their items"
    )]
    TooBig {
        deployments: usize,
        changes: usize,
        failures: usize,
        mb: u64,
        max_mb: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `owner/repo` (lower-cased) → id, and id → `owner/repo`.
type RepoNames = (HashMap<String, u64>, HashMap<u64, String>);

/// The names of the team's tracked repositories, both ways.
fn repo_names(store: &Store, team: TeamId) -> Result<RepoNames, StoreError> {
    let repos = store.tracked_repos(team)?;
    Ok((
        repos
            .iter()
            .map(|r| (r.full_name.to_lowercase(), r.github_repo_id))
            .collect(),
        repos
            .iter()
            .map(|r| (r.github_repo_id, r.full_name.clone()))
            .collect(),
    ))
}

/// The team's rules as a config (the defaults until it saves its own).
pub fn config(store: &Store, team: TeamId) -> Result<DeliveryConfig, StoreError> {
    let (_, names) = repo_names(store, team)?;
    Ok(rules::config_of(
        store.delivery_settings(team)?.as_ref(),
        &names,
    ))
}

/// Check and save the team's rules; returns them as saved.
pub fn set_config(
    store: &Store,
    team: TeamId,
    config: &DeliveryConfig,
) -> Result<DeliveryConfig, DeliveryError> {
    let (by_name, names) = repo_names(store, team)?;
    let rules = Rules::compile(config, &by_name)?;
    let settings = rules::settings_of(team, config, &rules, store::now());
    store.set_delivery_settings(&settings)?;
    Ok(rules::config_of(Some(&settings), &names))
}

/// The saved rules, compiled (the defaults until the team saves its own).
pub fn saved_rules(store: &Store, team: TeamId) -> Result<Rules, DeliveryError> {
    let (by_name, _) = repo_names(store, team)?;
    Ok(Rules::compile(&config(store, team)?, &by_name)?)
}

/// One repository's records, as the engine reads them, with the compares it wants that are
/// stored.
pub fn repo_input(
    store: &Store,
    team: TeamId,
    repo: &store::TrackedRepository,
    rules: &Rules,
) -> Result<RepoInput, StoreError> {
    let id = repo.github_repo_id;
    let mut input = RepoInput {
        id,
        name: repo.full_name.clone(),
        default_branch: store.delivery_sync(team, id)?.default_branch,
        deploys: store.deploys(team, id)?,
        prs: store.pull_requests(team, Some(id))?,
        issues: store.issues(team, id)?,
        compares: HashMap::new(),
    };
    for (base, head) in engine::wanted_compares(rules, &input) {
        if let Some(c) = store.compare(team, id, &base, &head)? {
            input.compares.insert((base, head), c);
        }
    }
    Ok(input)
}

/// Every tracked repository's records, as the engine reads them.
pub fn inputs(store: &Store, team: TeamId, rules: &Rules) -> Result<Vec<RepoInput>, StoreError> {
    store
        .tracked_repos(team)?
        .iter()
        .map(|repo| repo_input(store, team, repo, rules))
        .collect()
}

/// What one answer may carry of a report: well under the socket's frame cap
/// (`protocol::transport::MAX_FRAME`), for the rest of the frame and an older client's cap.
pub const MAX_REPORT_BYTES: u64 = 12 * 1024 * 1024;

/// Refuse a report too big for one answer, with the advice the error gives.
pub fn fits_one_answer(report: &DoraReport) -> Result<(), DeliveryError> {
    let bytes = bincode::serialized_size(report).unwrap_or(u64::MAX);
    if bytes <= MAX_REPORT_BYTES {
        return Ok(());
    }
    Err(DeliveryError::TooBig {
        deployments: report.deployments.len(),
        changes: report.changes.len(),
        failures: report.failures.len(),
        mb: bytes.div_ceil(1024 * 1024),
        max_mb: MAX_REPORT_BYTES / (1024 * 1024),
    })
}

/// The DORA report a query asks for, with the saved rules or the query's own (a preview).
pub fn report(
    store: &Store,
    team: TeamId,
    team_name: &str,
    query: &DoraQuery,
    now: i64,
) -> Result<DoraReport, DeliveryError> {
    // The window ends after this second: what GitHub dated now (whole seconds) is in it.
    let until = query.until.unwrap_or(now + 1);
    let since = query.since.unwrap_or(until - DEFAULT_WEEKS * WEEK);
    if until <= since {
        return Err(DeliveryError::Window);
    }
    if until - since > MAX_WINDOW {
        return Err(DeliveryError::WindowTooLong);
    }
    let (by_name, _) = repo_names(store, team)?;
    let config = match &query.config {
        Some(c) => c.clone(),
        None => config(store, team)?,
    };
    let rules = Rules::compile(&config, &by_name)?;
    let inputs = inputs(store, team, &rules)?;
    let mut report = engine::evaluate(
        team_name,
        &rules,
        &inputs,
        Window { since, until },
        query.by,
    );
    if !query.explain {
        report.deployments = Vec::new();
        report.changes = Vec::new();
        report.failures = Vec::new();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_protocol::delivery::{DeployOutcome, DeploymentItem, Signal};

    fn big_report(items: usize) -> DoraReport {
        let item = DeploymentItem {
            repo: "acme/api".into(),
            signal: Signal::Deployments,
            id: "DE_kwDOABCDEFGH".into(),
            sha: "a".repeat(40),
            name: "production".into(),
            at: 0,
            outcome: DeployOutcome::Success,
            rule: "r".repeat(200),
            failed_by: Vec::new(),
            rework_by: Vec::new(),
            shipped: vec![1, 2, 3],
        };
        DoraReport {
            edition: String::new(),
            since: 0,
            until: 1,
            repos: Vec::new(),
            groups: Vec::new(),
            deployments: vec![item; items],
            changes: Vec::new(),
            failures: Vec::new(),
        }
    }

    #[test]
    fn a_report_too_big_for_one_answer_is_refused_with_advice() {
        assert!(fits_one_answer(&big_report(1_000)).is_ok());
        let err = fits_one_answer(&big_report(60_000))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the report lists 60000 deployments, 0 changes and 0 failures (")
                && err
                    .ends_with("ask for a shorter window, or for the figures without their items"),
            "{err}"
        );
    }

    #[test]
    fn without_explain_the_items_are_left_out_and_the_figures_kept() {
        let fx = crate::context::testing::TwoTeams::new();
        let store = &fx.ctx.store;
        let query = |explain| DoraQuery {
            team: tidemark_protocol::TeamRef::Id(fx.a),
            since: Some(1_699_000_000),
            until: Some(1_701_000_000),
            by: tidemark_protocol::delivery::DoraGrouping::Team,
            config: None,
            explain,
        };
        let full = report_of(store, fx.a, &query(true));
        let figures = report_of(store, fx.a, &query(false));
        // The seeded team's one merged pull request stands in for a deployment (the proxy).
        assert_eq!(full.deployments.len(), 1);
        assert!(figures.deployments.is_empty() && figures.changes.is_empty());
        assert_eq!(figures.groups, full.groups);
    }

    fn report_of(store: &Store, team: TeamId, q: &DoraQuery) -> DoraReport {
        super::report(store, team, "alpha", q, 1_701_000_000).unwrap()
    }
}
