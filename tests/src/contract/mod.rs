//! GitHub's published descriptions of its APIs, committed in `tests/contract/` (see its
//! README), as validators for tests: [`graphql`] (the schema; documents and variables checked
//! as GitHub checks them, deprecated fields), [`openapi`] (REST operations and their documented
//! responses) and [`webhooks`] (payload schemas per event). The files are compiled in
//! (`include_str!`): no file or network is needed at run time. Each description is parsed once
//! per process.

pub mod graphql;
mod graphql_errors;
mod graphql_parse;
mod graphql_values;
pub mod openapi;
pub mod webhooks;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// Every way `instance` misses `validator`'s schema, one line each: `label at "/json/pointer":
/// what`. An `anyOf`/`oneOf` miss (a nullable field, a user that may be a bot) is explained by
/// its alternatives' errors, leaving out those that fail only for being another type (the
/// `null` of a nullable field); long values are cut.
pub(crate) fn schema_errors(validator: &Validator, instance: &Value, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in validator.iter_errors(instance) {
        explain(&e, label, &mut out);
    }
    out.dedup();
    out
}

fn explain(e: &ValidationError<'_>, label: &str, out: &mut Vec<String>) {
    let here = e.instance_path().as_str().to_string();
    if let ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } =
        e.kind()
    {
        let only_type = |branch: &Vec<ValidationError<'static>>| {
            branch.len() == 1
                && matches!(branch[0].kind(), ValidationErrorKind::Type { .. })
                && branch[0].instance_path().as_str() == here
        };
        let telling: Vec<&Vec<ValidationError<'static>>> =
            context.iter().filter(|b| !only_type(b)).collect();
        if !telling.is_empty() {
            for branch in telling {
                for inner in branch {
                    explain(inner, label, out);
                }
            }
            return;
        }
    }
    let mut message = e.to_string();
    if message.chars().count() > 200 {
        message = message.chars().take(200).collect::<String>() + "…";
    }
    out.push(format!("{label} at {here:?}: {message}"));
}
