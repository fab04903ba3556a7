//! apollo-compiler's diagnostics as GitHub words them. GitHub runs graphql-ruby: its static
//! validation rules have a message and an `extensions.code` each (`undefinedField`,
//! `argumentNotAccepted`, `variableNotUsed`, `useAndDefineFragment`, ...). A diagnostic with no
//! counterpart keeps apollo's (graphql-js style) message and gets no code.

use super::graphql::{Site, ast_field_at, error, start, visit};
use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::parser::LineColumn;
use apollo_compiler::validation::DiagnosticList;
use apollo_compiler::{Schema, ast};
use serde_json::{Value, json};

/// Diagnostics about literal values, which `graphql_values::literal_errors` reports in
/// graphql-ruby's way (one per argument) instead.
const VALUE_DIAGNOSTICS: &[&str] = &[
    "UnsupportedValueType",
    "IntCoercionError",
    "FloatCoercionError",
    "UndefinedEnumValue",
    "UndefinedInputValue",
    "RequiredField",
    "UniqueInputValue",
];

/// All other diagnostics, mapped. `literals_checked`: literal values were reported by
/// `literal_errors`, so apollo's own value diagnostics are dropped (kept otherwise, so that no
/// error is lost).
pub(super) fn map(
    schema: &Schema,
    doc: &ExecutableDocument,
    source: &str,
    list: &DiagnosticList,
    literals_checked: bool,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    // Missing required arguments: one error per field, listing them all.
    let mut missing: Vec<(Option<LineColumn>, String, String, Vec<String>)> = Vec::new();
    for diag in list.iter() {
        let name = diag.error.unstable_error_name().unwrap_or("");
        let message = diag
            .error
            .unstable_compat_message()
            .unwrap_or_else(|| diag.error.to_string());
        let q = quoted(&message);
        let q = |i: usize| q.get(i).cloned().unwrap_or_default();
        let at = diag.line_column_range().map(|r| r.start);
        let e = |message: String, extensions: Value| error(message, at, extensions);
        out.push(match name {
            "UndefinedField" => e(
                format!("Field '{}' doesn't exist on type '{}'", q(0), q(1)),
                json!({ "code": "undefinedField", "typeName": q(1), "fieldName": q(0) }),
            ),
            "UndefinedArgument" => {
                let (kind, owner) = coordinate_owner(&q(1));
                e(
                    format!("{kind} '{owner}' doesn't accept argument '{}'", q(0)),
                    json!({ "code": "argumentNotAccepted", "name": owner, "typeName": kind,
                            "argumentName": q(0) }),
                )
            }
            "RequiredArgument" => {
                let kind = if message.starts_with("Directive") {
                    "Directive"
                } else {
                    "Field"
                };
                let owner = q(0).trim_start_matches('@').to_string();
                // `arg: null` is there but null: an invalid literal, reported as such.
                let given = at
                    .filter(|_| kind == "Field")
                    .and_then(|at| ast_field_at(source, at))
                    .is_some_and(|f| f.arguments.iter().any(|a| a.name == q(1).as_str()));
                if !given {
                    match missing.iter_mut().find(|m| m.0 == at && m.2 == owner) {
                        Some(m) => m.3.push(q(1)),
                        None => missing.push((at, kind.to_string(), owner, vec![q(1)])),
                    }
                }
                continue;
            }
            "UnusedVariable" => {
                let (op_at, op) = enclosing(doc, at);
                let var = q(0).trim_start_matches('$').to_string();
                error(
                    format!("Variable ${var} is declared by {op} but not used"),
                    op_at.or(at),
                    json!({ "code": "variableNotUsed", "variableName": var }),
                )
            }
            "UndefinedVariable" => {
                let (_, by) = enclosing(doc, at);
                let var = q(0).trim_start_matches('$').to_string();
                e(
                    format!("Variable ${var} is used by {by} but not declared"),
                    json!({ "code": "variableNotDefined", "variableName": var }),
                )
            }
            "UnusedFragment" => e(
                format!("Fragment {} was defined, but not used", q(0)),
                json!({ "code": "useAndDefineFragment", "fragmentName": q(0) }),
            ),
            "UndefinedFragment" => e(
                format!("Fragment {} was used, but not defined", q(0)),
                json!({ "code": "useAndDefineFragment", "fragmentName": q(0) }),
            ),
            "MissingSubselection" => {
                // apollo drops selections it could not build (an unknown field, say), then finds
                // their parent empty: not what was written, and not an error GitHub reports.
                let written = at.and_then(|at| ast_field_at(source, at));
                if written.is_some_and(|f| !f.selection_set.is_empty()) {
                    continue;
                }
                let returns = schema
                    .type_field(&q(1), &q(0))
                    .map(|f| f.ty.inner_named_type().to_string())
                    .unwrap_or_else(|_| q(1));
                e(
                    format!(
                        "Field must have selections (field '{0}' returns {returns} but has no \
                         selections. Did you mean '{0} {{ ... }}'?)",
                        q(0)
                    ),
                    json!({ "code": "selectionMismatch", "nodeName": format!("field '{}'", q(0)),
                            "typeName": returns }),
                )
            }
            "SubselectionOnScalarType" | "SubselectionOnEnumType" => {
                let what = if name.ends_with("ScalarType") {
                    "scalars"
                } else {
                    "enums"
                };
                let names = at
                    .and_then(|at| ast_field_at(source, at))
                    .map(|f| selection_names(&f.selection_set))
                    .unwrap_or_default();
                e(
                    format!(
                        "Selections can't be made on {what} (field '{}' returns {} but has \
                         selections [{}])",
                        q(0),
                        q(1),
                        names.join(", ")
                    ),
                    json!({ "code": "selectionMismatch", "nodeName": format!("field '{}'", q(0)),
                            "typeName": q(1) }),
                )
            }
            "UndefinedTypeInNamedFragmentTypeCondition"
            | "UndefinedTypeInInlineFragmentTypeCondition" => e(
                format!("No such type {}, so it can't be a fragment condition", q(0)),
                json!({ "code": "undefinedType", "typeName": q(0) }),
            ),
            "UndefinedDefinition" => match variable_at(doc, at) {
                Some(var) => e(
                    format!("{} isn't a defined input type (on ${var})", q(0)),
                    json!({ "code": "variableRequiresValidType", "typeName": q(0),
                            "variableName": var }),
                ),
                None => e(
                    message,
                    json!({ "code": "undefinedType", "typeName": q(0) }),
                ),
            },
            "VariableInputType" => {
                let var = q(0).trim_start_matches('$').to_string();
                let ty: String = q(1).chars().filter(|c| !"[]!".contains(*c)).collect();
                e(
                    format!("{ty} isn't a valid input type (on ${var})"),
                    json!({ "code": "variableRequiresValidType", "typeName": ty,
                            "variableName": var }),
                )
            }
            "InvalidFragmentSpread" => {
                let (fragment, parent, cond) = if message.starts_with("Fragment \"") {
                    (Some(q(0)), q(1), q(2))
                } else {
                    (None, q(0), q(1))
                };
                let named = fragment
                    .as_ref()
                    .map(|f| format!(" {f}"))
                    .unwrap_or_default();
                e(
                    format!("Fragment{named} on {cond} can't be spread inside {parent}"),
                    json!({ "code": "cannotSpreadFragment", "typeName": cond,
                            "fragmentName": fragment.unwrap_or_else(|| "unknown".into()),
                            "parentName": parent }),
                )
            }
            "InvalidFragmentTarget" => {
                let ty = quoted(&message).pop().unwrap_or_default();
                e(
                    format!("Invalid fragment on type {ty} (must be Union, Interface or Object)"),
                    json!({ "code": "fragmentOnNonCompositeType", "typeName": ty }),
                )
            }
            "DisallowedVariableUsage" => {
                let var = q(0).trim_start_matches('$').to_string();
                let (var_ty, arg_ty) = (q(1), q(2));
                let bare = |t: &str| t.replace('!', "");
                let inner = |t: &str| t.replace(['!', '[', ']'], "");
                let kind = if bare(&var_ty) == bare(&arg_ty) {
                    "Nullability mismatch"
                } else if inner(&var_ty) == inner(&arg_ty) {
                    "List dimension mismatch"
                } else {
                    "Type mismatch"
                };
                let arg = argument_at(doc, at).unwrap_or_default();
                e(
                    format!("{kind} on variable ${var} and argument {arg} ({var_ty} / {arg_ty})"),
                    json!({ "code": "variableMismatch", "variableName": var, "typeName": var_ty,
                            "argumentName": arg, "errorMessage": kind }),
                )
            }
            "UndefinedDirective" => {
                let dir = q(0).trim_start_matches('@').to_string();
                e(
                    format!("Directive @{dir} is not defined"),
                    json!({ "code": "undefinedDirective", "directiveName": dir }),
                )
            }
            "UnsupportedLocation" => e(message, json!({ "code": "directiveCannotBeApplied" })),
            "UniqueDirective" => e(
                format!(
                    "The directive \"{}\" can only be used once at this location.",
                    q(0).trim_start_matches('@')
                ),
                json!({ "code": "directiveNotUniqueForLocation" }),
            ),
            "UniqueArgument" => e(
                format!("There can be only one argument named \"{}\"", q(0)),
                json!({ "code": "argumentNotUnique", "name": q(0) }),
            ),
            "UniqueVariable" => e(
                format!(
                    "There can only be one variable named \"{}\"",
                    q(0).trim_start_matches('$')
                ),
                json!({ "code": "variableNotUnique" }),
            ),
            "OperationNameCollision" => e(
                format!("Operation name \"{}\" must be unique", q(0)),
                json!({ "code": "uniquelyNamedOperations", "operationName": q(0) }),
            ),
            "AmbiguousAnonymousOperation" => e(
                "Operation name is required when multiple operations are present".into(),
                json!({ "code": "uniquelyNamedOperations" }),
            ),
            "FragmentNameCollision" => e(
                format!("Fragment name \"{}\" must be unique", q(0)),
                json!({ "code": "fragmentNotUnique", "fragmentName": q(0) }),
            ),
            "RecursiveFragmentDefinition" => e(
                format!("Fragment {} contains an infinite loop", q(0)),
                json!({ "code": "infiniteLoop", "fragmentName": q(0) }),
            ),
            "UndefinedRootOperation" => {
                let (what, code) = match q(0).as_str() {
                    "mutation" => ("mutations", "missingMutationConfiguration"),
                    "subscription" => ("subscriptions", "missingSubscriptionConfiguration"),
                    _ => ("queries", "missingQueryConfiguration"),
                };
                e(
                    format!("Schema is not configured for {what}"),
                    json!({ "code": code }),
                )
            }
            "ConflictingFieldType" | "ConflictingFieldName" | "ConflictingFieldArgument" => {
                e(message, json!({ "code": "fieldConflict" }))
            }
            n if VALUE_DIAGNOSTICS.contains(&n) => {
                if literals_checked {
                    continue;
                }
                e(message, json!({ "code": "argumentLiteralsIncompatible" }))
            }
            _ => e(message, Value::Null),
        });
    }
    for (at, kind, owner, args) in missing {
        let args = args.join(", ");
        out.push(error(
            format!("{kind} '{owner}' is missing required arguments: {args}"),
            at,
            json!({ "code": "missingRequiredArguments", "className": kind, "name": owner,
                    "arguments": args }),
        ));
    }
    out
}

/// The strings between double quotes in a message.
fn quoted(message: &str) -> Vec<String> {
    message
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// `Type.field(arg:)` → ("Field", "field"); `@dir(arg:)` → ("Directive", "dir").
fn coordinate_owner(coordinate: &str) -> (&'static str, String) {
    let head = coordinate.split('(').next().unwrap_or(coordinate);
    match head.strip_prefix('@') {
        Some(dir) => ("Directive", dir.to_string()),
        None => ("Field", head.rsplit('.').next().unwrap_or(head).to_string()),
    }
}

fn before(a: LineColumn, b: LineColumn) -> bool {
    (a.line, a.column) <= (b.line, b.column)
}

/// The operation or fragment a location is in: its start and how graphql-ruby names it.
fn enclosing(doc: &ExecutableDocument, at: Option<LineColumn>) -> (Option<LineColumn>, String) {
    let inside = |range: Option<std::ops::Range<LineColumn>>| {
        range
            .zip(at)
            .is_some_and(|(r, at)| before(r.start, at) && before(at, r.end))
    };
    for op in doc.operations.iter() {
        if inside(op.line_column_range(&doc.sources)) {
            let name = match &op.name {
                Some(n) => n.to_string(),
                None => format!("anonymous {}", op.operation_type),
            };
            return (start(doc, op), name);
        }
    }
    for fragment in doc.fragments.values() {
        if inside(fragment.line_column_range(&doc.sources)) {
            return (start(doc, fragment), fragment.name.to_string());
        }
    }
    (None, "anonymous query".to_string())
}

/// The variable definition a location is in.
fn variable_at(doc: &ExecutableDocument, at: Option<LineColumn>) -> Option<String> {
    let at = at?;
    doc.operations
        .iter()
        .flat_map(|op| &op.variables)
        .find_map(|var| {
            let r = var.line_column_range(&doc.sources)?;
            (before(r.start, at) && before(at, r.end)).then(|| var.name.to_string())
        })
}

/// The name of the argument (of a field or a directive) written at a location.
fn argument_at(doc: &ExecutableDocument, at: Option<LineColumn>) -> Option<String> {
    let mut found = None;
    let mut check = |args: &[apollo_compiler::Node<ast::Argument>]| {
        for arg in args {
            if found.is_none() && at.is_some() && start(doc, arg) == at {
                found = Some(arg.name.to_string());
            }
        }
    };
    visit(doc, &mut |site| match site {
        Site::Field { field, .. } => check(&field.arguments),
        Site::Directives(list) => list.iter().for_each(|d| check(&d.arguments)),
    });
    found
}

fn selection_names(set: &[ast::Selection]) -> Vec<String> {
    set.iter()
        .filter_map(|s| match s {
            ast::Selection::Field(f) => Some(f.name.to_string()),
            ast::Selection::FragmentSpread(s) => Some(s.fragment_name.to_string()),
            ast::Selection::InlineFragment(_) => None,
        })
        .collect()
}
