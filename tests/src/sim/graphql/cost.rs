//! GitHub's static analysis of a query before it runs ("Rate limits and node limits for the
//! GraphQL API"): every connection must say `first` or `last` (at most 100) when it selects
//! items, the possible node count must stay under 500,000, and the cost is the number of
//! requests needed to fill every connection, divided by 100.
//!
//! The walk follows the operation the engine will run, resolving variables (with their
//! defaults), fragment spreads and inline fragments, and honouring `@skip`/`@include`.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensions, Name, PathSegment, Pos, ServerError, Value, Variables};
use std::collections::{HashMap, HashSet};

/// GitHub's hard limit on the nodes one query may touch.
pub const MAX_NODES: u64 = 500_000;
/// The most items one connection page may hold.
pub const MAX_PAGE: i64 = 100;

/// The fields of our schema that are connections (they take `first`/`last`).
const CONNECTIONS: &[&str] = &[
    "pullRequests",
    "reviews",
    "commits",
    "timelineItems",
    "membersWithRole",
    "repositories",
    "deployments",
    "statuses",
    "releases",
    "refs",
    "issues",
    "labels",
];

#[derive(Debug, Default)]
pub struct Analysis {
    /// Possible nodes: each connection's page size times its ancestors' page sizes.
    pub node_count: u64,
    /// Requests needed to fill every connection (each is its ancestors' page sizes multiplied).
    pub requests: u64,
    /// `rateLimit(dryRun: true)` was asked for: report the cost, charge nothing.
    pub dry_run: bool,
    /// Missing or excessive pagination, or the node limit: the query must not run.
    pub errors: Vec<ServerError>,
}

impl Analysis {
    /// Points charged: requests / 100, rounded to nearest, never below 1.
    pub fn cost(&self) -> u64 {
        (self.requests.saturating_add(50) / 100).max(1)
    }
}

/// Analyse the operation `operation_name` picks (None when there is nothing to analyse: the
/// engine then reports the unknown or ambiguous operation itself).
pub fn analyze(
    doc: &ExecutableDocument,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Option<Analysis> {
    let op = operation(doc, operation_name)?;
    let mut walk = Walk {
        doc,
        vars: resolved_variables(op, variables),
        seen: HashSet::new(),
        out: Analysis::default(),
        limit_hit: false,
    };
    walk.selection_set(&op.selection_set.node, 1, &mut Vec::new(), 0);
    Some(walk.out)
}

/// The operation a request runs (None when the name is unknown or required and missing).
pub fn operation<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => Some(&ops.get(name)?.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            Some(&ops.values().next()?.node)
        }
        _ => None,
    }
}

/// Non-null variables the request left out (or sent as null) with no default: GitHub refuses
/// those before running ("Variable $x of type T! was provided invalid value").
pub fn missing_variables(op: &OperationDefinition, variables: &Variables) -> Vec<ServerError> {
    op.variable_definitions
        .iter()
        .filter(|d| {
            let d = &d.node;
            !d.var_type.node.nullable
                && d.default_value.is_none()
                && variables
                    .get(&d.name.node)
                    .is_none_or(|v| *v == Value::Null)
        })
        .map(|d| {
            let msg = format!(
                "Variable ${} of type {} was provided invalid value",
                d.node.name.node, d.node.var_type.node
            );
            ServerError::new(msg, Some(d.pos))
        })
        .collect()
}

/// The request's variables, with the operation's defaults for those it left out.
fn resolved_variables(op: &OperationDefinition, variables: &Variables) -> HashMap<Name, Value> {
    let mut vars: HashMap<Name, Value> = variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for def in &op.variable_definitions {
        let name = &def.node.name.node;
        if !vars.contains_key(name)
            && let Some(default) = &def.node.default_value
        {
            vars.insert(name.clone(), default.node.clone());
        }
    }
    vars
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    vars: HashMap<Name, Value>,
    /// Connection paths already counted: fields merged by response key count once.
    seen: HashSet<Vec<String>>,
    out: Analysis,
    limit_hit: bool,
}

impl Walk<'_> {
    fn selection_set(
        &mut self,
        set: &SelectionSet,
        mult: u64,
        path: &mut Vec<String>,
        depth: usize,
    ) {
        // Validation has already refused fragment cycles; the depth cap is only a backstop.
        if depth > 64 {
            return;
        }
        for sel in &set.items {
            match &sel.node {
                Selection::Field(f) => {
                    if self.included(&f.node.directives) {
                        self.field(&f.node, f.pos, mult, path, depth);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if self.included(&s.node.directives)
                        && let Some(frag) = self.doc.fragments.get(&s.node.fragment_name.node)
                    {
                        self.selection_set(&frag.node.selection_set.node, mult, path, depth + 1);
                    }
                }
                Selection::InlineFragment(i) => {
                    if self.included(&i.node.directives) {
                        self.selection_set(&i.node.selection_set.node, mult, path, depth + 1);
                    }
                }
            }
        }
    }

    fn field(&mut self, f: &Field, pos: Pos, mult: u64, path: &mut Vec<String>, depth: usize) {
        let name = f.name.node.as_str();
        let key = f.alias.as_ref().unwrap_or(&f.name).node.to_string();
        path.push(key);
        if name == "rateLimit" && self.arg(f, "dryRun") == Some(Value::Boolean(true)) {
            self.out.dry_run = true;
        }
        if CONNECTIONS.contains(&name) {
            self.connection(f, pos, mult, path, depth);
        } else {
            self.selection_set(&f.selection_set.node, mult, path, depth + 1);
        }
        path.pop();
    }

    fn connection(&mut self, f: &Field, pos: Pos, mult: u64, path: &mut Vec<String>, depth: usize) {
        let name = f.name.node.as_str();
        let first = self.int_arg(f, "first");
        let last = self.int_arg(f, "last");
        let mut size = 0u64;
        for (arg, value) in [("first", first), ("last", last)] {
            match value {
                Some(n) if n < 0 => self.error(
                    format!("`{arg}` on the `{name}` connection cannot be less than zero."),
                    "EXCESSIVE_PAGINATION",
                    pos,
                    path,
                ),
                Some(n) if n > MAX_PAGE => self.error(
                    format!(
                        "Requesting {n} records on the `{name}` connection exceeds the `{arg}` limit of {MAX_PAGE} records."
                    ),
                    "EXCESSIVE_PAGINATION",
                    pos,
                    path,
                ),
                Some(n) => size = size.max(n as u64),
                None => {}
            }
        }
        // Counting alone (`totalCount`, `pageInfo`) needs no page size; items do.
        if first.is_none() && last.is_none() && self.selects_items(&f.selection_set.node, 0) {
            self.error(
                format!(
                    "You must provide a `first` or `last` value to properly paginate the `{name}` connection."
                ),
                "MISSING_PAGINATION_BOUNDARIES",
                pos,
                path,
            );
        }
        if self.seen.insert(path.clone()) {
            self.out.requests = self.out.requests.saturating_add(mult);
            self.out.node_count = self
                .out
                .node_count
                .saturating_add(mult.saturating_mul(size));
            if self.out.node_count > MAX_NODES && !self.limit_hit {
                self.limit_hit = true;
                let n = group_thousands(self.out.node_count);
                self.error(
                    format!(
                        "By the time this query traverses to the {name} connection, it is requesting up to {n} possible nodes which exceeds the maximum limit of 500,000."
                    ),
                    "MAX_NODE_LIMIT_EXCEEDED",
                    pos,
                    path,
                );
            }
        }
        let mult = mult.saturating_mul(size.max(1));
        self.selection_set(&f.selection_set.node, mult, path, depth + 1);
    }

    /// Does a connection's selection ask for `nodes` or `edges` (directly or via fragments)?
    fn selects_items(&self, set: &SelectionSet, depth: usize) -> bool {
        depth < 64
            && set.items.iter().any(|sel| match &sel.node {
                Selection::Field(f) => {
                    matches!(f.node.name.node.as_str(), "nodes" | "edges")
                        && self.included(&f.node.directives)
                }
                Selection::FragmentSpread(s) => self
                    .doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|frag| {
                        self.selects_items(&frag.node.selection_set.node, depth + 1)
                    }),
                Selection::InlineFragment(i) => {
                    self.selects_items(&i.node.selection_set.node, depth + 1)
                }
            })
    }

    fn error(&mut self, message: String, kind: &str, pos: Pos, path: &[String]) {
        let err = async_graphql::Error::new(message).extend_with(|_, e| e.set("type", kind));
        let mut err = err.into_server_error(pos);
        err.path = path.iter().cloned().map(PathSegment::Field).collect();
        self.out.errors.push(err);
    }

    /// An argument's value with variables substituted (None when absent or null).
    fn arg(&self, f: &Field, name: &str) -> Option<Value> {
        let v = f.get_argument(name)?;
        let v = v
            .node
            .clone()
            .into_const_with(|var| Ok::<_, ()>(self.vars.get(&var).cloned().unwrap_or(Value::Null)))
            .ok()?;
        (v != Value::Null).then_some(v)
    }

    fn int_arg(&self, f: &Field, name: &str) -> Option<i64> {
        match self.arg(f, name)? {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// `@skip(if:)` / `@include(if:)`.
    fn included(
        &self,
        directives: &[async_graphql::Positioned<async_graphql::parser::types::Directive>],
    ) -> bool {
        directives.iter().all(|d| {
            let cond = || {
                d.node.get_argument("if").and_then(|v| {
                    match v.node.clone().into_const_with(|var| {
                        Ok::<_, ()>(self.vars.get(&var).cloned().unwrap_or(Value::Null))
                    }) {
                        Ok(Value::Boolean(b)) => Some(b),
                        _ => None,
                    }
                })
            };
            match d.node.name.node.as_str() {
                "skip" => cond() != Some(true),
                "include" => cond() != Some(false),
                _ => true,
            }
        })
    }
}

/// 1000000 → "1,000,000", as GitHub writes its limits.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, vars: serde_json::Value) -> Analysis {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        analyze(&doc, &Variables::from_json(vars), None).unwrap()
    }

    #[test]
    fn githubs_documented_examples_cost_what_the_docs_say() {
        // "Rate limits and node limits for the GraphQL API": 50 repos × 10 issues → 550 nodes.
        let a = run(
            "{ viewer { repositories(first: 50) { edges { repository: node { name
               issues: pullRequests(first: 10) { totalCount edges { node { title } } } } } } } }",
            serde_json::json!({}),
        );
        assert_eq!(a.node_count, 550);
        // 1 + 50 requests → 0.51 → 1.
        assert_eq!((a.requests, a.cost()), (51, 1));
        // The cost example: 100 repos, 50 issues each, 60 labels each → 5,101 requests → 51.
        let a = run(
            "query($n: Int = 50) { viewer { repositories(first: 100) { nodes { id
               pullRequests(first: $n) { nodes { id reviews(first: 60) { nodes { id } } } } } } } }",
            serde_json::json!({}),
        );
        assert_eq!((a.requests, a.cost()), (5101, 51));
        assert_eq!(a.node_count, 100 + 100 * 50 + 100 * 50 * 60);
        assert!(a.errors.is_empty());
    }

    #[test]
    fn fragments_variables_and_skip_are_followed() {
        let q = "query($p: Int!, $r: Int, $no: Boolean!) { repository(owner: \"a\", name: \"b\") {
                   pullRequests(first: $p) { ...Pr nodes { ... on PullRequest { number } } } } }
                 fragment Pr on PullRequestConnection { nodes { reviews(first: $r) { nodes { id } }
                   commits(first: 100) @skip(if: $no) { nodes { id } } } }";
        let a = run(q, serde_json::json!({"p": 20, "r": 5, "no": true}));
        assert_eq!((a.node_count, a.requests), (20 + 100, 21));
        let a = run(q, serde_json::json!({"p": 20, "r": 5, "no": false}));
        assert_eq!((a.node_count, a.requests), (20 + 100 + 2000, 41));
    }

    #[test]
    fn pagination_boundaries_are_enforced_but_counting_needs_none() {
        let a = run(
            "{ repository(owner: \"a\", name: \"b\") { pullRequests { nodes { id } } } }",
            serde_json::json!({}),
        );
        assert_eq!(
            a.errors[0].message,
            "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection."
        );
        let a = run(
            "{ repository(owner: \"a\", name: \"b\") { pullRequests(last: 101) { totalCount } } }",
            serde_json::json!({}),
        );
        assert_eq!(
            a.errors[0].message,
            "Requesting 101 records on the `pullRequests` connection exceeds the `last` limit of 100 records."
        );
        let a = run(
            "{ repository(owner: \"a\", name: \"b\") { pullRequests { totalCount } } }",
            serde_json::json!({}),
        );
        assert!(a.errors.is_empty());
        assert_eq!((a.node_count, a.cost()), (0, 1));
    }

    #[test]
    fn the_node_limit_names_the_connection_that_crossed_it() {
        let a = run(
            "{ organization(login: \"a\") { repositories(first: 100) { nodes {
               pullRequests(first: 100) { nodes { commits(first: 100) { nodes { id } } } } } } } }",
            serde_json::json!({}),
        );
        assert_eq!(a.node_count, 100 + 10_000 + 1_000_000);
        assert_eq!(
            a.errors[0].message,
            "By the time this query traverses to the commits connection, it is requesting up to 1,010,100 possible nodes which exceeds the maximum limit of 500,000."
        );
        assert_eq!(group_thousands(999), "999");
    }
}
