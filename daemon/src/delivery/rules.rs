//! A team's delivery rules, compiled: the saved settings (or the defaults) with their patterns
//! as regular expressions, checked once when they are set.

use crate::store::{DeliverySettings, DeploySource, TeamId};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use tidemark_protocol::delivery::{DeliveryConfig, Signal};

/// A pattern that cannot be used, with why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesError {
    #[error("{field}: `{pattern}` is not a usable pattern: {reason}")]
    Pattern {
        field: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("repository {0} is not tracked by this team")]
    UnknownRepo(String),
}

/// Patterns and labels are short; a longer one is a mistake.
const MAX_LEN: usize = 200;
/// What a compiled pattern may take (regex's own bound; the default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct Rules {
    pub production: Regex,
    pub workflow: Regex,
    pub tag: Regex,
    pub incident_label: String,
    pub hotfix_label: String,
    /// Repository id → the signal the team chose for it.
    pub signals: HashMap<u64, Signal>,
}

fn pattern(field: &'static str, p: &str) -> Result<Regex, RulesError> {
    text(field, p)?;
    RegexBuilder::new(p)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| RulesError::Pattern {
            field,
            pattern: p.to_string(),
            reason: e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string(),
        })
}

fn text(field: &'static str, t: &str) -> Result<(), RulesError> {
    if t.trim().is_empty() {
        return Err(RulesError::Empty { field });
    }
    if t.chars().count() > MAX_LEN {
        return Err(RulesError::TooLong {
            field,
            max: MAX_LEN,
        });
    }
    Ok(())
}

pub fn source_signal(source: Option<DeploySource>) -> Signal {
    match source {
        Some(DeploySource::Deployment) => Signal::Deployments,
        Some(DeploySource::WorkflowRun) => Signal::WorkflowRuns,
        Some(DeploySource::Release) => Signal::Releases,
        Some(DeploySource::Tag) => Signal::Tags,
        None => Signal::MergedPrs,
    }
}

pub fn signal_source(signal: Signal) -> Option<DeploySource> {
    match signal {
        Signal::Deployments => Some(DeploySource::Deployment),
        Signal::WorkflowRuns => Some(DeploySource::WorkflowRun),
        Signal::Releases => Some(DeploySource::Release),
        Signal::Tags => Some(DeploySource::Tag),
        Signal::MergedPrs => None,
    }
}

impl Rules {
    /// Compile a config; `repos` maps `owner/repo` (any case) to the tracked repository's id.
    pub fn compile(
        config: &DeliveryConfig,
        repos: &HashMap<String, u64>,
    ) -> Result<Rules, RulesError> {
        text("incident label", &config.incident_label)?;
        text("hotfix label", &config.hotfix_label)?;
        let mut signals = HashMap::new();
        for (name, signal) in &config.signals {
            let id = repos
                .get(&name.to_lowercase())
                .ok_or_else(|| RulesError::UnknownRepo(name.clone()))?;
            signals.insert(*id, *signal);
        }
        Ok(Rules {
            production: pattern("production pattern", &config.production_pattern)?,
            workflow: pattern("workflow pattern", &config.workflow_pattern)?,
            tag: pattern("tag pattern", &config.tag_pattern)?,
            incident_label: config.incident_label.trim().to_string(),
            hotfix_label: config.hotfix_label.trim().to_string(),
            signals,
        })
    }

    pub fn is_incident(&self, labels: &[String]) -> bool {
        labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&self.incident_label))
    }

    pub fn is_hotfix(&self, labels: &[String]) -> bool {
        labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&self.hotfix_label))
    }
}

/// The saved settings as a config (the defaults when the team never saved any); `names` maps
/// repository ids to `owner/repo`.
pub fn config_of(
    settings: Option<&DeliverySettings>,
    names: &HashMap<u64, String>,
) -> DeliveryConfig {
    let Some(s) = settings else {
        return DeliveryConfig::default();
    };
    DeliveryConfig {
        production_pattern: s.production_pattern.clone(),
        workflow_pattern: s.workflow_pattern.clone(),
        tag_pattern: s.tag_pattern.clone(),
        incident_label: s.incident_label.clone(),
        hotfix_label: s.hotfix_label.clone(),
        signals: s
            .signals
            .iter()
            .filter_map(|(id, source)| Some((names.get(id)?.clone(), source_signal(*source))))
            .collect(),
    }
}

/// A checked config as the record the store keeps.
pub fn settings_of(
    team: TeamId,
    config: &DeliveryConfig,
    rules: &Rules,
    now: i64,
) -> DeliverySettings {
    let mut signals: Vec<(u64, Option<DeploySource>)> = rules
        .signals
        .iter()
        .map(|(id, s)| (*id, signal_source(*s)))
        .collect();
    signals.sort();
    DeliverySettings {
        team_id: team,
        production_pattern: config.production_pattern.clone(),
        workflow_pattern: config.workflow_pattern.clone(),
        tag_pattern: config.tag_pattern.clone(),
        incident_label: rules.incident_label.clone(),
        hotfix_label: rules.hotfix_label.clone(),
        signals,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compile_and_match_what_the_issue_names() {
        let rules = Rules::compile(&DeliveryConfig::default(), &HashMap::new()).unwrap();
        assert!(rules.production.is_match("production") && rules.production.is_match("prod"));
        assert!(!rules.production.is_match("preproduction"));
        assert!(rules.workflow.is_match("Deploy to prod") && rules.workflow.is_match("release"));
        assert!(!rules.workflow.is_match("CI"));
        assert!(rules.tag.is_match("v1.2.3") && rules.tag.is_match("2.0"));
        assert!(rules.is_incident(&["Incident".into()]));
        assert!(!rules.is_hotfix(&["bug".into()]));
    }

    #[test]
    fn bad_choices_are_refused_with_the_field() {
        let repos = HashMap::from([("acme/api".to_string(), 7u64)]);
        let bad = |f: fn(&mut DeliveryConfig)| {
            let mut c = DeliveryConfig::default();
            f(&mut c);
            Rules::compile(&c, &repos).unwrap_err().to_string()
        };
        assert!(
            bad(|c| c.production_pattern = "(prod".into())
                .starts_with("production pattern: `(prod`")
        );
        assert_eq!(
            bad(|c| c.incident_label = " ".into()),
            "incident label must not be empty"
        );
        assert!(
            bad(|c| c.workflow_pattern = "a{1000}{1000}".into()).starts_with("workflow pattern")
        );
        assert_eq!(
            bad(|c| c.signals = vec![("acme/web".into(), Signal::Tags)]),
            "repository acme/web is not tracked by this team"
        );
        let c = DeliveryConfig {
            signals: vec![("ACME/api".into(), Signal::Releases)],
            ..DeliveryConfig::default()
        };
        assert_eq!(
            Rules::compile(&c, &repos).unwrap().signals[&7],
            Signal::Releases
        );
    }
}
