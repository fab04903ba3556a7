//! GitHub's webhook payload schemas (`tests/contract/webhooks.json`, JSON Schema draft-07 from
//! `@octokit/webhooks-schemas`): a definition per event and action (`pull_request$opened`),
//! and per event the `oneOf` of its actions (`pull_request_event`) or, for events without
//! actions, one definition (`push$event`).

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The committed schemas: the events tidemark receives or its simulator sends.
pub const SCHEMAS: &str = include_str!("../../contract/webhooks.json");

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(SCHEMAS).expect("tests/contract/webhooks.json is JSON"))
}

fn definitions() -> &'static Map<String, Value> {
    document()["definitions"]
        .as_object()
        .expect("webhooks.json has definitions")
}

/// The definition of a whole event (all its actions).
fn event_definition(event: &str) -> Option<String> {
    [format!("{event}_event"), format!("{event}$event")]
        .into_iter()
        .find(|name| definitions().contains_key(name))
}

/// The events with a schema here (`X-GitHub-Event` values), sorted.
pub fn events() -> Vec<String> {
    let mut out: Vec<String> = definitions()
        .keys()
        .filter_map(|k| {
            k.strip_suffix("_event")
                .or_else(|| k.strip_suffix("$event"))
                .filter(|e| !e.contains('$'))
                .map(str::to_string)
        })
        .filter(|e| event_definition(e).is_some())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// An event's actions (empty for events without one, such as `push` and `ping`), sorted.
pub fn actions(event: &str) -> Vec<String> {
    let prefix = format!("{event}$");
    let mut out: Vec<String> = definitions()
        .keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter(|a| *a != "event")
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

/// Does this delivery body match GitHub's schema for `event` (the `X-GitHub-Event` header)?
/// With an `action` the event's schema for that action is used (clearer errors than the
/// event's `oneOf`); an action the event does not have fails. Errors name the JSON pointer.
pub fn validate(event: &str, body: &Value) -> Result<(), Vec<String>> {
    let Some(whole) = event_definition(event) else {
        return Err(vec![format!("no schema for the {event:?} event here")]);
    };
    let name = match body.get("action").and_then(Value::as_str) {
        Some(action) if definitions().contains_key(&format!("{event}${action}")) => {
            format!("{event}${action}")
        }
        Some(action) if !actions(event).is_empty() => {
            return Err(vec![format!(
                "{event}: no action {action:?} (GitHub's are {})",
                actions(event).join(", ")
            )]);
        }
        _ => whole,
    };
    let errors = super::schema_errors(&validator(&name), body, &name);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One definition as a validator (with all the others to resolve `$ref`s), compiled once.
fn validator(name: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    let schema = json!({
        "definitions": document()["definitions"],
        "allOf": [{ "$ref": format!("#/definitions/{}", pointer_escape(name)) }],
    });
    let v = jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the {name} schema does not compile: {e}"));
    let v = Arc::new(v);
    cache.lock().unwrap().insert(name.to_string(), v.clone());
    v
}

/// A definition name in a JSON pointer (`$` is fine in a URI fragment; `~` and `/` are not).
fn pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
mod tests;
