//! Syntax errors as graphql-ruby's parser reports them: `Parse error on "}" (RCURLY) at [2, 5]`
//! (the token where apollo-compiler's parser stopped, and its kind in graphql-ruby's lexer).

use super::graphql::error;
use apollo_compiler::parser::LineColumn;
use apollo_compiler::validation::DiagnosticList;
use serde_json::{Value, json};

/// The first syntax error, as graphql-ruby's parser reports it (`Parse error on "}" (RCURLY)
/// at [2, 5]`): GitHub stops there and reports nothing else.
pub(super) fn parse_error(source: &str, list: &DiagnosticList) -> Option<Value> {
    let diag = list
        .iter()
        .find(|d| d.error.to_string().starts_with("syntax error"))?;
    let at = diag.line_column_range().map(|r| r.start);
    let message = match at.and_then(|at| token_at(source, at)) {
        Some((text, kind)) => {
            let at = at.expect("a token has a location");
            format!(
                "Parse error on {} ({kind}) at [{}, {}]",
                json!(text),
                at.line,
                at.column
            )
        }
        None => "Unexpected end of document".to_string(),
    };
    Some(error(message, at, Value::Null))
}

/// The token at a location and graphql-ruby's name for its kind; `None` at the end.
fn token_at(source: &str, at: LineColumn) -> Option<(String, String)> {
    let line = source.split('\n').nth(at.line.checked_sub(1)?)?;
    let rest: String = line.chars().skip(at.column.saturating_sub(1)).collect();
    let rest = rest.trim_start_matches([' ', '\t', ',', '\r']);
    let first = rest.chars().next()?;
    let punct = match first {
        '{' => Some("LCURLY"),
        '}' => Some("RCURLY"),
        '(' => Some("LPAREN"),
        ')' => Some("RPAREN"),
        '[' => Some("LBRACKET"),
        ']' => Some("RBRACKET"),
        ':' => Some("COLON"),
        '$' => Some("VAR_SIGN"),
        '@' => Some("DIR_SIGN"),
        '=' => Some("EQUALS"),
        '!' => Some("BANG"),
        '|' => Some("PIPE"),
        '&' => Some("AMP"),
        _ => None,
    };
    if let Some(kind) = punct {
        return Some((first.to_string(), kind.into()));
    }
    if rest.starts_with("...") {
        return Some(("...".into(), "ELLIPSIS".into()));
    }
    if first == '"' {
        let body: String = rest[1..].chars().take_while(|&c| c != '"').collect();
        return Some((body, "STRING".into()));
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'))
        .collect();
    if word.is_empty() {
        return Some((first.to_string(), "UNKNOWN_CHAR".into()));
    }
    if first.is_ascii_digit() || first == '-' {
        let float = word.contains(['.', 'e', 'E']);
        return Some((word, if float { "FLOAT" } else { "INT" }.into()));
    }
    let name: String = word
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    // graphql-ruby's lexer names keywords by themselves: `on` is ON.
    const KEYWORDS: &[&str] = &[
        "on",
        "fragment",
        "true",
        "false",
        "null",
        "query",
        "mutation",
        "subscription",
        "schema",
        "scalar",
        "type",
        "extend",
        "implements",
        "interface",
        "union",
        "enum",
        "input",
        "directive",
        "repeatable",
    ];
    let kind = if KEYWORDS.contains(&name.as_str()) {
        name.to_ascii_uppercase()
    } else {
        "IDENTIFIER".to_string()
    };
    Some((name, kind))
}
