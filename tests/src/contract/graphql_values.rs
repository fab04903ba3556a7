//! Values against GitHub's schema: literals in a document (graphql-ruby's
//! `argumentLiteralsIncompatible` and `defaultValueInvalidType`), the request's variables, and
//! deprecated enum values and input fields inside values.

use super::graphql::{Site, deprecated, error, start, visit};
use apollo_compiler::ast::{self, Type};
use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};
use serde_json::{Value, json};

/// Arguments (of fields and directives) and variable defaults whose literal value does not fit
/// the type: graphql-ruby's messages, one per argument.
pub(super) fn literal_errors(schema: &Valid<Schema>, doc: &ExecutableDocument) -> Vec<Value> {
    let mut errors = Vec::new();
    let mut check = |args: &[Node<ast::Argument>],
                     defs: &[Node<ast::InputValueDefinition>],
                     kind: &str,
                     name: &str| {
        for arg in args {
            let Some(def) = defs.iter().find(|d| d.name == arg.name) else {
                continue;
            };
            if !literal_ok(schema, &arg.value, &def.ty) {
                errors.push(error(
                    format!(
                        "Argument '{}' on {kind} '{name}' has an invalid value ({}). Expected type '{}'.",
                        arg.name, arg.value, def.ty
                    ),
                    start(doc, arg),
                    json!({
                        "code": "argumentLiteralsIncompatible",
                        "typeName": kind,
                        "argumentName": arg.name.as_str(),
                    }),
                ));
            }
        }
    };
    visit(doc, &mut |site| match site {
        Site::Field { field, .. } => {
            let name = field.alias.as_ref().unwrap_or(&field.name);
            check(&field.arguments, &field.definition.arguments, "Field", name);
        }
        Site::Directives(list) => {
            for dir in list.iter() {
                if let Some(def) = schema.directive_definitions.get(&dir.name) {
                    check(&dir.arguments, &def.arguments, "Directive", &dir.name);
                }
            }
        }
    });
    for op in doc.operations.iter() {
        for var in &op.variables {
            if let Some(value) = &var.default_value
                && !literal_ok(schema, value, &var.ty)
            {
                errors.push(error(
                    format!(
                        "Default value for ${} doesn't match type {}",
                        var.name, var.ty
                    ),
                    start(doc, var),
                    json!({
                        "code": "defaultValueInvalidType",
                        "variableName": var.name.as_str(),
                        "typeName": var.ty.to_string(),
                    }),
                ));
            }
        }
    }
    errors
}

/// Can this literal be coerced to `ty`? Variables are left to the variable rules.
fn literal_ok(schema: &Schema, value: &ast::Value, ty: &Type) -> bool {
    use ast::Value as V;
    match (value, ty) {
        (V::Variable(_), _) => true,
        (V::Null, _) => !ty.is_non_null(),
        (V::List(items), Type::List(inner) | Type::NonNullList(inner)) => {
            items.iter().all(|v| literal_ok(schema, v, inner))
        }
        // Input coercion: one value where a list is expected is a list of one.
        (_, Type::List(inner) | Type::NonNullList(inner)) => literal_ok(schema, value, inner),
        (_, Type::Named(name) | Type::NonNullNamed(name)) => match schema.types.get(name) {
            Some(ExtendedType::Enum(e)) => matches!(value, V::Enum(v) if e.values.contains_key(v)),
            Some(ExtendedType::InputObject(input)) => {
                let V::Object(fields) = value else {
                    return false;
                };
                let known = fields.iter().all(|(k, v)| {
                    input
                        .fields
                        .get(k)
                        .is_some_and(|def| literal_ok(schema, v, &def.ty))
                });
                let required = input.fields.iter().all(|(k, def)| {
                    !def.ty.is_non_null()
                        || def.default_value.is_some()
                        || fields.iter().any(|(n, _)| n == k)
                });
                known && required
            }
            Some(ExtendedType::Scalar(_)) => scalar_literal_ok(name, value),
            _ => false,
        },
    }
}

fn scalar_literal_ok(name: &str, value: &ast::Value) -> bool {
    use ast::Value as V;
    match name {
        "Int" => matches!(value, V::Int(i) if i.try_to_i32().is_ok()),
        "Float" => matches!(value, V::Int(_) | V::Float(_)),
        "Boolean" => matches!(value, V::Boolean(_)),
        "ID" | "BigInt" => matches!(value, V::String(_) | V::Int(_)),
        // String and GitHub's own scalars (DateTime, URI, GitObjectID, ...): strings.
        _ => matches!(value, V::String(_)),
    }
}

/// The request's variables against each operation's variable definitions, as graphql-ruby
/// reports them: `Variable $x of type T was provided invalid value`.
pub(super) fn variable_errors(
    schema: &Valid<Schema>,
    doc: &ExecutableDocument,
    variables: &Value,
) -> Vec<Value> {
    let empty = serde_json::Map::new();
    let given = variables.as_object().unwrap_or(&empty);
    let mut errors = Vec::new();
    for op in doc.operations.iter() {
        for var in &op.variables {
            let mut problems = Vec::new();
            match given.get(var.name.as_str()) {
                None | Some(Value::Null) if var.default_value.is_some() => {}
                None => {
                    if var.ty.is_non_null() {
                        problems.push(problem(vec![], "Expected value to not be null".into()));
                    }
                }
                Some(value) => json_ok(schema, value, &var.ty, &mut vec![], &mut problems),
            }
            if !problems.is_empty() {
                errors.push(error(
                    format!(
                        "Variable ${} of type {} was provided invalid value",
                        var.name, var.ty
                    ),
                    start(doc, var),
                    json!({
                        "value": given.get(var.name.as_str()).cloned().unwrap_or(Value::Null),
                        "problems": problems,
                    }),
                ));
            }
        }
    }
    errors
}

fn problem(path: Vec<Value>, explanation: String) -> Value {
    json!({ "path": path, "explanation": explanation })
}

/// A JSON variable value against a type; each misfit becomes a problem at its path.
fn json_ok(schema: &Schema, value: &Value, ty: &Type, path: &mut Vec<Value>, out: &mut Vec<Value>) {
    if value.is_null() {
        if ty.is_non_null() {
            out.push(problem(
                path.clone(),
                "Expected value to not be null".into(),
            ));
        }
        return;
    }
    let name = match ty {
        Type::List(inner) | Type::NonNullList(inner) => {
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push(json!(i));
                        json_ok(schema, item, inner, path, out);
                        path.pop();
                    }
                }
                other => json_ok(schema, other, inner, path, out),
            }
            return;
        }
        Type::Named(name) | Type::NonNullNamed(name) => name,
    };
    let bad = |out: &mut Vec<Value>, path: &[Value]| {
        out.push(problem(
            path.to_vec(),
            format!("Could not coerce value {value} to {name}"),
        ));
    };
    match schema.types.get(name) {
        Some(ExtendedType::Enum(e)) => {
            if !value.as_str().is_some_and(|v| e.values.contains_key(v)) {
                let all: Vec<&str> = e.values.keys().map(|k| k.as_str()).collect();
                out.push(problem(
                    path.clone(),
                    format!("Expected {value} to be one of: {}", all.join(", ")),
                ));
            }
        }
        Some(ExtendedType::InputObject(input)) => {
            let Some(fields) = value.as_object() else {
                return bad(out, path);
            };
            for (k, v) in fields {
                path.push(json!(k));
                match input.fields.get(k.as_str()) {
                    Some(def) => json_ok(schema, v, &def.ty, path, out),
                    None => out.push(problem(
                        path.clone(),
                        format!("Field is not defined on {name}"),
                    )),
                }
                path.pop();
            }
            for (k, def) in &input.fields {
                if def.ty.is_non_null()
                    && def.default_value.is_none()
                    && !fields.contains_key(k.as_str())
                {
                    path.push(json!(k.as_str()));
                    out.push(problem(
                        path.clone(),
                        "Expected value to not be null".into(),
                    ));
                    path.pop();
                }
            }
        }
        Some(ExtendedType::Scalar(_)) => {
            let ok = match name.as_str() {
                "Int" => value.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
                "Float" => value.is_number(),
                "Boolean" => value.is_boolean(),
                "ID" => value.is_string() || value.is_i64() || value.is_u64(),
                "BigInt" => {
                    value.is_i64()
                        || value.is_u64()
                        || value.as_str().is_some_and(|s| {
                            let digits = s.strip_prefix('-').unwrap_or(s);
                            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                        })
                }
                _ => value.is_string(),
            };
            if !ok {
                bad(out, path);
            }
        }
        _ => bad(out, path),
    }
}

/// Deprecated enum values (`Enum.VALUE`) and input fields (`Input.field`) inside a literal.
pub(super) fn deprecated_in_value(
    schema: &Schema,
    value: &ast::Value,
    ty: &Type,
    found: &mut Vec<String>,
) {
    use ast::Value as V;
    match (value, ty) {
        (V::List(items), Type::List(inner) | Type::NonNullList(inner)) => {
            for item in items {
                deprecated_in_value(schema, item, inner, found);
            }
        }
        (_, Type::List(inner) | Type::NonNullList(inner)) => {
            deprecated_in_value(schema, value, inner, found)
        }
        (_, Type::Named(name) | Type::NonNullNamed(name)) => {
            match (schema.types.get(name), value) {
                (Some(ExtendedType::Enum(e)), V::Enum(v))
                    if e.values.get(v).is_some_and(|d| deprecated(&d.directives)) =>
                {
                    found.push(format!("{name}.{v}"));
                }
                (Some(ExtendedType::InputObject(input)), V::Object(fields)) => {
                    for (k, v) in fields {
                        if let Some(def) = input.fields.get(k) {
                            if deprecated(&def.directives) {
                                found.push(format!("{name}.{k}"));
                            }
                            deprecated_in_value(schema, v, &def.ty, found);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
