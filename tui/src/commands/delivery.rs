//! `tidemark dora` and `tidemark delivery config show|set`.

use serde::Serialize;
use tidemark_protocol::TeamRef;
use tidemark_protocol::delivery::{DeliveryConfig, DoraGroup, DoraQuery};

use super::{CliError, connect, emit};
use crate::autostart::Endpoint;
use crate::cli::{ConfigSetArgs, DoraArgs, Format};
use crate::output::delivery as out;
use crate::timefmt;

pub async fn dora(args: DoraArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let now = timefmt::now();
    let since = args
        .since
        .as_deref()
        .map(|text| timefmt::parse_since(text, now))
        .transpose()
        .map_err(CliError::InvalidSince)?;
    let conn = connect(endpoint).await?;
    let report = conn
        .dora(DoraQuery {
            team: TeamRef::parse(&args.team),
            since,
            until: None,
            by: args.by.into(),
            config: None,
            explain: args.explain || args.format.json,
        })
        .await?;
    emit(args.format, &report, || out::dora(&report, args.explain))
}

pub async fn show(team: String, format: Format, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let config = conn.delivery_config(TeamRef::parse(&team)).await?;
    emit(format, &config, || out::config(&team, &config))
}

/// The rules with the flags' changes applied.
pub fn apply(mut config: DeliveryConfig, args: &ConfigSetArgs) -> DeliveryConfig {
    let set = |field: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            field.clone_from(v);
        }
    };
    set(&mut config.production_pattern, &args.production_pattern);
    set(&mut config.workflow_pattern, &args.workflow_pattern);
    set(&mut config.tag_pattern, &args.tag_pattern);
    set(&mut config.incident_label, &args.incident_label);
    set(&mut config.hotfix_label, &args.hotfix_label);
    for (repo, signal) in &args.signals {
        config
            .signals
            .retain(|(r, _)| !r.eq_ignore_ascii_case(repo));
        if let Some(s) = signal {
            config.signals.push((repo.clone(), *s));
        }
    }
    config
}

#[derive(Serialize)]
struct ConfigChange {
    config: DeliveryConfig,
    saved: bool,
    before: DoraGroup,
    after: DoraGroup,
}

pub async fn set(args: ConfigSetArgs, endpoint: &Endpoint) -> Result<(), CliError> {
    let conn = connect(endpoint).await?;
    let team = TeamRef::parse(&args.team);
    let current = conn.delivery_config(team.clone()).await?;
    let config = apply(current, &args);
    // The preview checks the new rules too: a bad pattern is refused here, before any save.
    let (before, after) = conn.dora_preview(team.clone(), config.clone()).await?;
    let config = if args.yes {
        conn.delivery_config_set(team, config).await?
    } else {
        config
    };
    let change = ConfigChange {
        config,
        saved: args.yes,
        before,
        after,
    };
    emit(args.format, &change, || {
        format!(
            "{}{}",
            out::config(&args.team, &change.config),
            out::preview(&change.before, &change.after, change.saved)
        )
    })
}
