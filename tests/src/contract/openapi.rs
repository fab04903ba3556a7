//! GitHub's REST description (`tests/contract/openapi.json`: the operations tidemark calls or
//! its simulator serves, dereferenced): which operation a request is, and whether an answer
//! has the documented shape for its status.

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The committed description (OpenAPI 3.0.3, dereferenced, documentation stripped).
pub const DESCRIPTION: &str = include_str!("../../contract/openapi.json");

/// One documented REST operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// GitHub's `operationId`, e.g. `repos/get-webhook`.
    pub id: String,
    /// Upper case, e.g. `GET`.
    pub method: String,
    /// The path template, e.g. `/repos/{owner}/{repo}/hooks/{hook_id}`.
    pub template: String,
}

/// The description, parsed once, with OpenAPI's `nullable` turned into JSON Schema.
fn description() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc: Value =
            serde_json::from_str(DESCRIPTION).expect("tests/contract/openapi.json is JSON");
        nullable_to_json_schema(&mut doc);
        doc
    })
}

/// Every operation in the description, in path order.
pub fn operations() -> Vec<Operation> {
    let mut out = Vec::new();
    for (template, methods) in paths() {
        for (method, op) in methods.as_object().into_iter().flatten() {
            out.push(Operation {
                id: op["operationId"].as_str().unwrap_or_default().to_string(),
                method: method.to_ascii_uppercase(),
                template: template.clone(),
            });
        }
    }
    out
}

fn paths() -> &'static Map<String, Value> {
    description()["paths"]
        .as_object()
        .expect("openapi.json has paths")
}

/// The operation a request is: `method` in any case, `path` concrete (`/repos/acme/web/hooks/12`,
/// a query string is ignored). Where several templates fit, the one with the most literal
/// segments wins (as a router would).
pub fn operation(method: &str, path: &str) -> Option<Operation> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let method = method.to_ascii_lowercase();
    let mut best: Option<(usize, &String, &Value)> = None;
    for (template, methods) in paths() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') && p.ends_with('}') {
                !s.is_empty()
            } else {
                literal += 1;
                p == s
            }
        });
        if let Some(op) = methods.get(&method).filter(|_| fits)
            && best.is_none_or(|(n, _, _)| literal > n)
        {
            best = Some((literal, template, op));
        }
    }
    best.map(|(_, template, op)| Operation {
        id: op["operationId"].as_str().unwrap_or_default().to_string(),
        method: method.to_ascii_uppercase(),
        template: template.clone(),
    })
}

/// The operation with this `operationId`.
pub fn by_id(id: &str) -> Option<Operation> {
    operations().into_iter().find(|op| op.id == id)
}

/// The documented statuses of an operation (`"200"`, `"404"`, ...).
pub fn statuses(op: &Operation) -> Vec<String> {
    responses(op)
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

fn responses(op: &Operation) -> Option<&'static Map<String, Value>> {
    paths()
        .get(&op.template)?
        .get(op.method.to_ascii_lowercase())?
        .get("responses")?
        .as_object()
}

/// Does this answer match what GitHub documents for `op` and `status`? `body` is the parsed
/// JSON body, `Value::Null` for an empty one. Errors name the JSON pointer inside the body.
pub fn validate_response(op: &Operation, status: u16, body: &Value) -> Result<(), Vec<String>> {
    let Some(responses) = responses(op) else {
        return Err(vec![format!(
            "{} {}: not in the description",
            op.method, op.template
        )]);
    };
    let key = status.to_string();
    let Some(response) = responses.get(&key).or_else(|| responses.get("default")) else {
        return Err(vec![format!(
            "{} ({} {}): status {status} is not documented (documented: {})",
            op.id,
            op.method,
            op.template,
            responses.keys().cloned().collect::<Vec<_>>().join(", ")
        )]);
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return match body {
            Value::Null => Ok(()),
            _ => Err(vec![format!(
                "{} {status}: no body is documented, got {body}",
                op.id
            )]),
        };
    };
    let Some(media) = content
        .get("application/json")
        .or_else(|| content.values().next())
    else {
        return Ok(());
    };
    let validator = validator(op, &key, &media["schema"]);
    let errors = super::schema_errors(&validator, body, &format!("{} {status}", op.id));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The validator of a schema of the description, compiled once per process.
fn validator(op: &Operation, status: &str, schema: &Value) -> Arc<Validator> {
    type Cache = Mutex<HashMap<(String, String, String), Arc<Validator>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (op.method.clone(), op.template.clone(), status.to_string());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let v = Arc::new(compile(schema));
    cache.lock().unwrap().insert(key, v.clone());
    v
}

/// A schema of the description as a validator: draft 4 (OpenAPI 3.0's schemas are a draft
/// 4/5 dialect), formats (`date-time`, `uri`, `email`) checked.
fn compile(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("GitHub's schema does not compile: {e}"))
}

/// OpenAPI 3.0's `nullable: true` is not JSON Schema: each such schema becomes
/// `anyOf [the schema, {"type": "null"}]`.
pub fn nullable_to_json_schema(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(nullable_to_json_schema),
        Value::Object(map) => {
            map.values_mut().for_each(nullable_to_json_schema);
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                let schema = Value::Object(std::mem::take(map));
                map.insert("anyOf".into(), json!([schema, { "type": "null" }]));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
