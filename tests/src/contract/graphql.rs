//! GitHub's GraphQL schema (`tests/contract/github.graphql`) and what a GraphQL server does with
//! a document before running it: parse, validate against the schema, check the variables.
//! Errors come back in GitHub's shape (graphql-ruby's messages and `extensions.code`s):
//!
//! ```json
//! {"message": "Field 'x' doesn't exist on type 'PullRequest'",
//!  "locations": [{"line": 3, "column": 5}],
//!  "extensions": {"code": "undefinedField", "typeName": "PullRequest", "fieldName": "x"}}
//! ```
//!
//! As on GitHub, a syntax error is the only error reported (`Parse error on "}" (RCURLY) at
//! [2, 5]`, no `extensions`), and variables are checked only once the document is valid (their
//! errors have `extensions.value` and `extensions.problems`, no `code`).

use super::graphql_errors;
use super::graphql_parse;
use super::graphql_values;
use apollo_compiler::ast::{self, DirectiveList};
use apollo_compiler::executable::{self, ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::parser::LineColumn;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::{DiagnosticList, Valid};
use apollo_compiler::{Node, Schema};
use serde_json::{Value, json};
use std::sync::OnceLock;

/// GitHub's schema as SDL (printed from `@octokit/graphql-schema`'s introspection JSON).
pub const SDL: &str = include_str!("../../contract/github.graphql");

/// The schema, parsed and validated once per process.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::parse_and_validate(SDL, "github.graphql")
            .expect("tests/contract/github.graphql is a valid schema")
    })
}

/// Validate a document and its variables as GitHub does before executing it. `variables` is
/// the request's `variables` (an object; `null` counts as none).
pub fn validate(document: &str, variables: &Value) -> Result<(), Vec<Value>> {
    let schema = schema();
    let (doc, diagnostics) = parse(schema, document);
    if let Some(list) = &diagnostics
        && let Some(e) = graphql_parse::parse_error(document, list)
    {
        return Err(vec![e]);
    }
    let literal = graphql_values::literal_errors(schema, &doc);
    let mut errors = match &diagnostics {
        Some(list) => graphql_errors::map(schema, &doc, document, list, !literal.is_empty()),
        None => Vec::new(),
    };
    errors.extend(literal);
    if errors.is_empty() {
        errors = graphql_values::variable_errors(schema, &doc, variables);
    }
    errors.sort_by_key(|e| {
        let at = &e["locations"][0];
        (at["line"].as_u64(), at["column"].as_u64())
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every deprecated thing the document uses, as schema coordinates, sorted: fields selected
/// (`PullRequest.databaseId`, through fragments and inline fragments too), arguments given
/// (`Type.field(arg:)`), enum values written as literals (`PackageType.NPM`) and input fields
/// (`InputType.field`). An invalid document is read as far as it could be understood.
pub fn deprecated_fields(document: &str) -> Vec<String> {
    let schema = schema();
    let (doc, _) = parse(schema, document);
    let mut found = Vec::new();
    visit(&doc, &mut |site| match site {
        Site::Field { parent, field } => {
            if deprecated(&field.definition.directives) {
                found.push(format!("{parent}.{}", field.name));
            }
            for arg in &field.arguments {
                if let Some(def) = field.definition.argument_by_name(&arg.name) {
                    if deprecated(&def.directives) {
                        found.push(format!("{parent}.{}({}:)", field.name, arg.name));
                    }
                    graphql_values::deprecated_in_value(schema, &arg.value, &def.ty, &mut found);
                }
            }
        }
        Site::Directives(list) => {
            for dir in list.iter() {
                let Some(def) = schema.directive_definitions.get(&dir.name) else {
                    continue;
                };
                for arg in &dir.arguments {
                    if let Some(def) = def.argument_by_name(&arg.name) {
                        graphql_values::deprecated_in_value(
                            schema, &arg.value, &def.ty, &mut found,
                        );
                    }
                }
            }
        }
    });
    for op in doc.operations.iter() {
        for var in &op.variables {
            if let Some(value) = &var.default_value {
                graphql_values::deprecated_in_value(schema, value, &var.ty, &mut found);
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The type of `type_name.field` as written in the schema (`PullRequest.fullDatabaseId` →
/// `BigInt`), or `None` when there is no such field.
pub fn field_type(type_name: &str, field: &str) -> Option<String> {
    schema()
        .type_field(type_name, field)
        .ok()
        .map(|f| f.ty.to_string())
}

/// Why `type_name.field` is deprecated (its `@deprecated(reason:)`), `None` when it is not (or
/// does not exist).
pub fn deprecation(type_name: &str, field: &str) -> Option<String> {
    let def = schema().type_field(type_name, field).ok()?;
    let dir = def.directives.get("deprecated")?;
    Some(
        dir.specified_argument_by_name("reason")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "No longer supported".to_string()),
    )
}

/// Is `name` an enum type of the schema, and what are its values?
pub fn enum_values(name: &str) -> Option<Vec<String>> {
    match schema().types.get(name)? {
        ExtendedType::Enum(e) => Some(e.values.keys().map(|k| k.to_string()).collect()),
        _ => None,
    }
}

fn parse(schema: &Valid<Schema>, document: &str) -> (ExecutableDocument, Option<DiagnosticList>) {
    match ExecutableDocument::parse_and_validate(schema, document, "query.graphql") {
        Ok(doc) => (doc.into_inner(), None),
        Err(e) => (e.partial, Some(e.errors)),
    }
}

pub(super) fn deprecated(directives: &DirectiveList) -> bool {
    directives.has("deprecated")
}

/// One error in GitHub's shape.
pub(super) fn error(message: String, at: Option<LineColumn>, extensions: Value) -> Value {
    let mut e = json!({ "message": message, "locations": [] });
    if let Some(at) = at {
        e["locations"] = json!([{ "line": at.line, "column": at.column }]);
    }
    if !extensions.is_null() {
        e["extensions"] = extensions;
    }
    e
}

/// Where a node of the document starts.
pub(super) fn start<T>(doc: &ExecutableDocument, node: &Node<T>) -> Option<LineColumn> {
    node.line_column_range(&doc.sources).map(|r| r.start)
}

/// A place in a document where values or selections are written.
pub(super) enum Site<'a> {
    /// A field selected on `parent` (the type of the selection set it is in).
    Field {
        parent: &'a str,
        field: &'a Node<executable::Field>,
    },
    /// The directives of an operation, a fragment, a field or a spread.
    Directives(&'a DirectiveList),
}

/// Every operation's and every fragment's selections, depth first, in document order
/// (fragments are visited where they are defined, not where they are spread).
pub(super) fn visit<'a>(doc: &'a ExecutableDocument, f: &mut impl FnMut(Site<'a>)) {
    for op in doc.operations.iter() {
        f(Site::Directives(&op.directives));
        for var in &op.variables {
            f(Site::Directives(&var.directives));
        }
        visit_set(&op.selection_set, f);
    }
    for fragment in doc.fragments.values() {
        f(Site::Directives(&fragment.directives));
        visit_set(&fragment.selection_set, f);
    }
}

fn visit_set<'a>(set: &'a SelectionSet, f: &mut impl FnMut(Site<'a>)) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                f(Site::Field {
                    parent: set.ty.as_str(),
                    field,
                });
                f(Site::Directives(&field.directives));
                visit_set(&field.selection_set, f);
            }
            Selection::FragmentSpread(spread) => f(Site::Directives(&spread.directives)),
            Selection::InlineFragment(inline) => {
                f(Site::Directives(&inline.directives));
                visit_set(&inline.selection_set, f);
            }
        }
    }
}

/// The field written at `at` in the source (the parsed syntax tree, whatever the schema says).
pub(super) fn ast_field_at(source: &str, at: LineColumn) -> Option<Node<ast::Field>> {
    let doc = ast::Document::parse(source, "query.graphql").unwrap_or_else(|e| e.partial);
    let mut sets: Vec<&[ast::Selection]> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            ast::Definition::OperationDefinition(op) => Some(&op.selection_set[..]),
            ast::Definition::FragmentDefinition(f) => Some(&f.selection_set[..]),
            _ => None,
        })
        .collect();
    while let Some(set) = sets.pop() {
        for selection in set {
            match selection {
                ast::Selection::Field(field) => {
                    if field.line_column_range(&doc.sources).map(|r| r.start) == Some(at) {
                        return Some(field.clone());
                    }
                    sets.push(&field.selection_set);
                }
                ast::Selection::InlineFragment(inline) => sets.push(&inline.selection_set),
                ast::Selection::FragmentSpread(_) => {}
            }
        }
    }
    None
}

#[cfg(test)]
#[path = "graphql_tests.rs"]
mod tests;
