//! `POST /graphql`: the part of GitHub's GraphQL schema a pull-request sync needs, run by a real
//! GraphQL engine (async-graphql), with GitHub's cost, node limit, pagination rules, errors and
//! rate-limit accounting.
//!
//! Order of events, as on GitHub: parse → validate against the schema → static analysis
//! (`cost.rs`: pagination boundaries, node limit, cost) → charge → execute. The analysis and the
//! charge run inside an engine extension so that they see the document the engine parsed and
//! only happen to queries the engine found valid. A query whose node count passes the timeout
//! threshold is charged and then answered 502, like GitHub's timeouts.

mod cost;
mod paging;
mod pulls;
mod schema;
#[cfg(test)]
mod tests;

use super::api::{Caller, with_budget};
use super::clock;
use super::http::{Request, Response};
use super::limits::{Budget, Resource};
use super::world::{Account, Org, OrgRole, Pull, Repo};
use super::{Shared, json};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    EmptyMutation, EmptySubscription, Schema, ServerError, ServerResult, ValidationResult,
    Variables,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

type SimSchema = Schema<schema::QueryRoot, EmptyMutation, EmptySubscription>;

/// The schema is the same for every request: build it once.
fn engine() -> &'static SimSchema {
    static SCHEMA: OnceLock<SimSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::build(schema::QueryRoot, EmptyMutation, EmptySubscription)
            .extension(Analyze)
            .disable_suggestions()
            .finish()
    })
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
        let r = Response::json(400, &serde_json::json!({"message": "Problems parsing JSON"}));
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

    let env = Arc::new(Env::new(shared, caller, operation_name.clone()));
    let mut request = async_graphql::Request::new(query)
        .variables(variables)
        .data(env.clone());
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    let response = engine().execute(request).await;

    let run = std::mem::take(&mut *env.run());
    let (budget, points) = match &run.charge {
        Some(c) => (c.budget, c.points),
        // Refused before it could run (parse, validation, analysis): one point, GitHub's minimum.
        None => {
            let b = shared
                .limits()
                .charge(caller.user_id, Resource::Graphql, limit, 1, clock::now());
            (b, 1)
        }
    };
    shared.stats().graphql_points += points;
    if run.timed_out {
        return with_budget(timeout(), &budget);
    }
    let errors: Vec<serde_json::Value> = response
        .errors
        .iter()
        .map(|e| github_error(e, run.parse_failed.then_some(query)))
        .collect();
    // Errors from before execution have no `data`, except the analysis' (GitHub: `"data": null`).
    let data = (!run.parse_failed && !run.invalid).then_some(&response.data);
    let body = serde_json::to_vec(&Body { data, errors }).unwrap_or_default();
    with_budget(
        Response::text(200, "application/json; charset=utf-8", body),
        &budget,
    )
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

/// An engine error in GitHub's shape: `type` at the top level (NOT_FOUND, …) rather than in
/// `extensions`, and graphql-ruby's wording for the parse and validation errors clients see most.
fn github_error(e: &ServerError, parse_failed_in: Option<&str>) -> serde_json::Value {
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
    if let Some(query) = parse_failed_in {
        let (line, column) = e
            .locations
            .first()
            .map_or((1, 1), |p| (p.line, p.column));
        let token = token_at(query, line, column);
        obj.insert(
            "message".into(),
            format!("Parse error on {token} at [{line}, {column}]").into(),
        );
        obj.insert("type".into(), "PARSE".into());
    } else if let Some((field, ty)) = quoted_pair(&e.message, "Unknown field \"", "\" on type \"")
    {
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
/// caller, and what the analysis decided.
pub(crate) struct Env {
    pub shared: Arc<Shared>,
    pub caller: Caller,
    pub operation_name: Option<String>,
    pub org: Org,
    pub accounts: BTreeMap<u64, Account>,
    pub members: BTreeMap<u64, OrgRole>,
    pub repos: BTreeMap<u64, Repo>,
    run: Mutex<Run>,
}

#[derive(Default)]
struct Run {
    analysis: Option<cost::Analysis>,
    parse_failed: bool,
    /// Refused by validation or analysis (nothing ran).
    invalid: bool,
    charge: Option<Charge>,
    timed_out: bool,
}

/// What this query cost, for the headers and `rateLimit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Charge {
    pub budget: Budget,
    pub cost: u64,
    pub node_count: u64,
    /// Points actually taken (0 for a dry run).
    pub points: u64,
}

impl Env {
    fn new(shared: &Arc<Shared>, caller: &Caller, operation_name: Option<String>) -> Env {
        let w = shared.world();
        Env {
            shared: shared.clone(),
            caller: caller.clone(),
            operation_name,
            org: w.org().clone(),
            accounts: w.accounts.clone(),
            members: w.members.clone(),
            repos: w.repos.clone(),
            run: Mutex::new(Run::default()),
        }
    }

    fn run(&self) -> MutexGuard<'_, Run> {
        self.run.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn charge(&self) -> Option<Charge> {
        self.run().charge
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

    /// Parse-and-validation passed: refuse what the analysis refused, else charge, and stop a
    /// query that would time out (charged all the same).
    fn admit(&self) -> Result<(), Vec<ServerError>> {
        let mut run = self.run();
        let Some(analysis) = run.analysis.take() else {
            return Ok(());
        };
        if !analysis.errors.is_empty() {
            run.invalid = false;
            return Err(analysis.errors);
        }
        let (user, limit, now) = (self.caller.user_id, self.shared.config.rate_limit, clock::now());
        let cost = analysis.cost();
        let mut limits = self.shared.limits();
        let before = limits.budget(user, Resource::Graphql, limit, now);
        if !analysis.dry_run && cost > before.remaining() {
            let msg = format!("API rate limit exceeded for user ID {user}.");
            let err = ServerError::new(msg, None);
            let mut err = err;
            err.extensions = Some(Default::default());
            if let Some(x) = err.extensions.as_mut() {
                x.set("type", "RATE_LIMITED");
            }
            run.charge = Some(Charge {
                budget: before,
                cost,
                node_count: analysis.node_count,
                points: 0,
            });
            return Err(vec![err]);
        }
        let (budget, points) = if analysis.dry_run {
            (before, 0)
        } else {
            (limits.charge(user, Resource::Graphql, limit, cost, now), cost)
        };
        drop(limits);
        run.charge = Some(Charge {
            budget,
            cost,
            node_count: analysis.node_count,
            points,
        });
        let threshold = self
            .shared
            .faults()
            .graphql_timeout_nodes
            .unwrap_or(self.shared.config.graphql_timeout_nodes);
        if !analysis.dry_run && analysis.node_count > threshold {
            run.timed_out = true;
            return Err(vec![ServerError::new("timeout", None)]);
        }
        Ok(())
    }
}

/// The engine extension that runs the analysis on the parsed document and admits the query.
struct Analyze;

impl ExtensionFactory for Analyze {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Analyze)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Analyze {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await;
        if let Some(env) = ctx.data_opt::<Arc<Env>>() {
            let mut run = env.run();
            match &doc {
                Ok(doc) => {
                    run.analysis = cost::analyze(doc, variables, env.operation_name.as_deref())
                }
                Err(_) => run.parse_failed = true,
            }
        }
        doc
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let env = ctx.data_opt::<Arc<Env>>();
        let result = next.run(ctx).await.inspect_err(|_| {
            if let Some(env) = env {
                env.run().invalid = true;
            }
        })?;
        if let Some(env) = env {
            env.admit()?;
        }
        Ok(result)
    }
}
