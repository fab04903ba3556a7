//! `POST /graphql`: the part of GitHub's GraphQL schema a pull-request sync needs, run by a real
//! GraphQL engine (async-graphql), with GitHub's cost, node limit, pagination rules, errors and
//! rate-limit accounting.
//!
//! Order of events, as on GitHub: parse → validate against the schema → static analysis
//! (`cost.rs`: pagination boundaries, node limit, cost) → charge → execute. A query refused
//! before it runs costs one point; a query whose node count passes the timeout threshold is
//! charged and then answered 502, like GitHub's timeouts.
//!
//! Validation is the engine's own, run as a pass of its own (introspection-only, so no resolver
//! runs) rather than from an engine extension: any extension takes every field resolution off
//! async-graphql's fast path, which cost a quarter of the time of a big page.

mod accounts;
mod commits;
mod cost;
mod deployments;
mod issues;
mod paging;
mod pulls;
mod refs;
mod repository;
mod schema;
#[cfg(test)]
mod tests;
mod timeline;

use super::api::{Caller, with_budget};
use super::clock;
use super::http::{Request, Response};
use super::limits::{Budget, Resource};
use super::world::{Account, Org, OrgRole, Pull, Repo};
use super::{Shared, json};
use async_graphql::{EmptyMutation, EmptySubscription, Schema, ServerError, Variables};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

type SimSchema = Schema<schema::QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema is the same for every request: build it once.
fn engine() -> &'static SimSchema {
    static SCHEMA: OnceLock<SimSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::build(schema::QueryRoot, EmptyMutation, EmptySubscription)
            .disable_suggestions()
            .finish()
    })
}

/// The name a document gives its operation (`query Pages($o: ...)` → `Pages`).
fn document_name(query: &str) -> Option<String> {
    let rest = query.trim_start().strip_prefix("query")?.trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The schema in SDL (for debugging clients against it).
pub fn sdl() -> String {
    engine().sdl()
}

pub async fn handle(shared: &Arc<Shared>, req: &Request, caller: &Caller) -> Response {
    let limit = shared.config.rate_limit;
    let budget_now = || {
        shared
            .limits()
            .budget(caller.user_id, Resource::Graphql, limit, clock::now())
    };
    if req.method != "POST" {
        let r = Response::json(404, &json::error(404, "Not Found", super::api::DOCS));
        return with_budget(r, &budget_now());
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
        let r = Response::json(
            400,
            &serde_json::json!({"message": "Problems parsing JSON"}),
        );
        return with_budget(r, &budget_now());
    };
    let Some(query) = body.get("query").and_then(|q| q.as_str()) else {
        let r = errors_only("A query attribute must be specified and must be a string.");
        return with_budget(r, &budget_now());
    };
    let variables = match body.get("variables") {
        None | Some(serde_json::Value::Null) => Variables::default(),
        Some(v @ serde_json::Value::Object(_)) => Variables::from_json(v.clone()),
        // Some clients send the variables as a JSON string.
        Some(serde_json::Value::String(s)) => match serde_json::from_str(s) {
            Ok(v @ serde_json::Value::Object(_)) => Variables::from_json(v),
            _ => return with_budget(errors_only("Variables are invalid JSON."), &budget_now()),
        },
        Some(_) => return with_budget(errors_only("Variables are invalid JSON."), &budget_now()),
    };
    let operation_name = body
        .get("operationName")
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .map(String::from);

    let request = |doc: &async_graphql::parser::types::ExecutableDocument| {
        let mut r = async_graphql::Request::new(query).variables(variables.clone());
        if let Some(name) = &operation_name {
            r = r.operation_name(name.as_str());
        }
        r.set_parsed_query(doc.clone());
        r
    };
    // Refused before running: one point, GitHub's minimum.
    let refused = |body: Vec<u8>| {
        let b = shared
            .limits()
            .charge(caller.user_id, Resource::Graphql, limit, 1, clock::now());
        shared.stats().graphql_points += 1;
        with_budget(json_response(200, body), &b)
    };

    // First as GitHub does: the document against GitHub's own published schema (committed in
    // tests/contract/), with GitHub's error shapes. What passes and the simulator does not
    // implement is the engine's to refuse below (a gap in the simulator, not in the client).
    let json_variables = variables
        .clone()
        .into_value()
        .into_json()
        .unwrap_or_default();
    if let Err(errors) = crate::contract::graphql::validate(query, &json_variables) {
        return refused(
            serde_json::to_vec(&serde_json::json!({ "errors": errors })).unwrap_or_default(),
        );
    }
    let doc = match async_graphql::parser::parse_query(query) {
        Ok(doc) => doc,
        Err(e) => return refused(body_bytes(None, vec![parse_error(query, &e)])),
    };
    let checked = engine().execute(request(&doc).only_introspection()).await;
    if !checked.errors.is_empty() {
        let errors = checked.errors.iter().map(github_error).collect();
        return refused(body_bytes(None, errors));
    }
    let missing = cost::operation(&doc, operation_name.as_deref())
        .map(|op| cost::missing_variables(op, &variables))
        .unwrap_or_default();
    if !missing.is_empty() {
        return refused(body_bytes(None, missing.iter().map(github_error).collect()));
    }
    let analysis = cost::analyze(&doc, &variables, operation_name.as_deref()).unwrap_or_default();
    if !analysis.errors.is_empty() {
        let errors = analysis.errors.iter().map(github_error).collect();
        return refused(body_bytes(Some(&async_graphql::Value::Null), errors));
    }

    let op = operation_name
        .clone()
        .or_else(|| document_name(query))
        .unwrap_or_default();
    let charge = match admit(shared, caller, &analysis, &op) {
        Ok(charge) => charge,
        Err(refusal) => return refusal,
    };
    let budget = charge.budget;
    let env = Arc::new(Env::new(shared, caller, charge));
    let response = engine().execute(request(&doc).data(env)).await;
    let errors = response.errors.iter().map(github_error).collect();
    with_budget(
        json_response(200, body_bytes(Some(&response.data), errors)),
        &budget,
    )
}

/// Charge the query (unless it is a dry run), or refuse it: more than what is left (nothing
/// taken), or too big to finish (charged, then 502).
fn admit(
    shared: &Shared,
    caller: &Caller,
    analysis: &cost::Analysis,
    op: &str,
) -> Result<Charge, Response> {
    let (user, limit, now) = (caller.user_id, shared.config.rate_limit, clock::now());
    let cost = analysis.cost();
    let mut limits = shared.limits();
    let before = limits.budget(user, Resource::Graphql, limit, now);
    if !analysis.dry_run && cost > before.remaining() {
        return Err(rate_limited(user, &before));
    }
    let (budget, points) = if analysis.dry_run {
        (before, 0)
    } else {
        (
            limits.charge(user, Resource::Graphql, limit, cost, now),
            cost,
        )
    };
    drop(limits);
    {
        let mut stats = shared.stats();
        stats.graphql_points += points;
        // Per operation (`query Delivery(...)` → "Delivery"), for what each part of a sync costs.
        let e = stats.graphql_operations.entry(op.to_string()).or_default();
        e.0 += 1;
        e.1 += points;
    }
    let threshold = shared
        .faults()
        .graphql_timeout_nodes
        .unwrap_or(shared.config.graphql_timeout_nodes);
    if !analysis.dry_run && analysis.node_count > threshold {
        let forms = shared.faults().timeout_forms;
        let response = match forms.then(|| shared.next_gateway() % 3) {
            None | Some(0) => timeout(),
            // GitHub's front end gave up before the GraphQL layer answered: a bare page.
            Some(n) => super::gateway_page(n - 1),
        };
        return Err(with_budget(response, &budget));
    }
    Ok(Charge {
        budget,
        cost,
        node_count: analysis.node_count,
    })
}

/// GitHub's GraphQL primary limit: HTTP 200, `data: null` and a `RATE_LIMITED` error, the
/// budget in the headers (the body has no `rateLimit` to read a reset from).
pub fn rate_limited(user: u64, budget: &Budget) -> Response {
    let error = serde_json::json!({
        "type": "RATE_LIMITED",
        "code": "graphql_rate_limit",
        "message": format!("API rate limit already exceeded for user ID {user}."),
    });
    let body = body_bytes(Some(&async_graphql::Value::Null), vec![error]);
    with_budget(json_response(200, body), budget)
}

fn json_response(status: u16, body: Vec<u8>) -> Response {
    Response::text(status, "application/json; charset=utf-8", body)
}

/// `{"data": …, "errors": […]}`, the data serialised straight from the engine's value so the
/// fields keep the query's order. Errors from before execution have no `data`, except the
/// analysis' (GitHub: `"data": null`).
fn body_bytes(data: Option<&async_graphql::Value>, errors: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&Body { data, errors }).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<serde_json::Value>,
}

fn errors_only(message: &str) -> Response {
    Response::json(200, &serde_json::json!({"errors": [{"message": message}]}))
}

/// GitHub's answer when a query runs too long.
fn timeout() -> Response {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let id = format!(
        "{:04X}:{:04X}:{:06X}:{:06X}:{:08X}",
        std::process::id() & 0xffff,
        n & 0xffff,
        n.wrapping_mul(0x9e37) & 0xff_ffff,
        n.wrapping_mul(0x7f4a_7c15) & 0xff_ffff,
        clock::now() & 0xffff_ffff
    );
    let message = format!(
        "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include `{id}` when reporting this issue."
    );
    Response::json(
        502,
        &serde_json::json!({"data": null, "errors": [{"message": message}]}),
    )
}

/// A syntax error as graphql-ruby words it: `Parse error on "}" at [1, 10]`.
fn parse_error(query: &str, e: &async_graphql::parser::Error) -> serde_json::Value {
    let pos = e.positions().next();
    let locations: Vec<_> = e
        .positions()
        .map(|p| serde_json::json!({"line": p.line, "column": p.column}))
        .collect();
    let message = match (e, pos) {
        (async_graphql::parser::Error::Syntax { .. }, Some(p)) => format!(
            "Parse error on {} at [{}, {}]",
            token_at(query, p.line, p.column),
            p.line,
            p.column
        ),
        _ => e.to_string(),
    };
    serde_json::json!({"type": "PARSE", "message": message, "locations": locations})
}

/// An engine error in GitHub's shape: `type` at the top level (NOT_FOUND, …) rather than in
/// `extensions`, and graphql-ruby's wording for the validation errors clients see most.
fn github_error(e: &ServerError) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| serde_json::json!({}));
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(kind) = obj
        .get_mut("extensions")
        .and_then(|x| x.as_object_mut())
        .and_then(|x| x.remove("type"))
    {
        obj.insert("type".into(), kind);
    }
    if obj
        .get("extensions")
        .and_then(|x| x.as_object())
        .is_some_and(|x| x.is_empty())
    {
        obj.remove("extensions");
    }
    if let Some((field, ty)) = quoted_pair(&e.message, "Unknown field \"", "\" on type \"") {
        obj.insert(
            "message".into(),
            format!("Field '{field}' doesn't exist on type '{ty}'").into(),
        );
        obj.insert(
            "extensions".into(),
            serde_json::json!({"code": "undefinedField", "typeName": ty, "fieldName": field}),
        );
    } else if let Some((arg, field)) =
        quoted_pair(&e.message, "Unknown argument \"", "\" on field \"")
    {
        let field = field.rsplit('.').next().unwrap_or(field);
        obj.insert(
            "message".into(),
            format!("Field '{field}' doesn't accept argument '{arg}'").into(),
        );
        obj.insert(
            "extensions".into(),
            serde_json::json!({"code": "argumentNotAccepted", "name": field, "argumentName": arg}),
        );
    }
    v
}

/// In `Unknown field "x" on type "Y".`, the two quoted names.
fn quoted_pair<'m>(message: &'m str, head: &str, middle: &str) -> Option<(&'m str, &'m str)> {
    let rest = message.strip_prefix(head)?;
    let (a, rest) = rest.split_once(middle)?;
    let (b, _) = rest.split_once('"')?;
    Some((a, b))
}

/// The text at a parse error's position, quoted, as graphql-ruby names it.
fn token_at(query: &str, line: usize, column: usize) -> String {
    let tail: String = query
        .lines()
        .nth(line.saturating_sub(1))
        .map(|l| l.chars().skip(column.saturating_sub(1)).collect())
        .unwrap_or_default();
    let token: String = tail
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    if token.is_empty() {
        "end of input".into()
    } else {
        format!("{token:?}")
    }
}

/// What one request's resolvers share: a snapshot of the small, slow-changing parts of the world
/// (pull requests are read from the live world one page at a time, see `Env::with_world`), the
/// caller, and what the query was charged.
pub(crate) struct Env {
    pub shared: Arc<Shared>,
    pub caller: Caller,
    pub charge: Charge,
    pub org: Org,
    pub accounts: BTreeMap<u64, Account>,
    pub members: BTreeMap<u64, OrgRole>,
    pub repos: BTreeMap<u64, Repo>,
}

/// What this query cost, for `rateLimit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Charge {
    pub budget: Budget,
    pub cost: u64,
    pub node_count: u64,
}

impl Env {
    fn new(shared: &Arc<Shared>, caller: &Caller, charge: Charge) -> Env {
        let w = shared.world();
        Env {
            shared: shared.clone(),
            caller: caller.clone(),
            charge,
            org: w.org().clone(),
            accounts: w.accounts.clone(),
            members: w.members.clone(),
            repos: w.repos.clone(),
        }
    }

    /// Private repositories exist only for tokens with the `repo` scope.
    pub fn can_see(&self, repo: &Repo) -> bool {
        !repo.private || self.caller.scopes.iter().any(|s| s == "repo")
    }

    pub fn repo(&self, id: u64) -> Option<&Repo> {
        self.repos.get(&id).filter(|r| self.can_see(r))
    }

    /// Read the live world briefly (never across an await): pull requests are cloned out a page
    /// at a time, so a query pays for what it returns, not for the whole org.
    pub fn with_world<T>(&self, f: impl FnOnce(&super::World) -> T) -> T {
        f(&self.shared.world())
    }

    pub fn pull_by_id(&self, id: u64) -> Option<Arc<Pull>> {
        let p = self.with_world(|w| w.pulls.values().find(|p| p.id == id).cloned())?;
        self.repo(p.repo_id).is_some().then(|| Arc::new(p))
    }

    pub fn web(&self) -> &str {
        &self.shared.urls.web
    }
}
