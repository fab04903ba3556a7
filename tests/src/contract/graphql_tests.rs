use super::*;
use serde_json::json;

fn errors(document: &str, variables: Value) -> Vec<Value> {
    validate(document, &variables).expect_err("the document should be refused")
}

const GOOD: &str = r#"query Pages($o: String!, $n: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $o, name: $n) {
    databaseId
    pullRequests(first: 50, after: $after, orderBy: {field: UPDATED_AT, direction: ASC}, states: [OPEN, MERGED]) {
      pageInfo { hasNextPage endCursor }
      nodes { ...Pr }
    }
  }
}
fragment Pr on PullRequest {
  id fullDatabaseId number title state isDraft createdAt updatedAt mergedAt additions deletions
  author { __typename login ... on User { databaseId } ... on Bot { databaseId } }
  reviews(first: 100) { totalCount nodes { fullDatabaseId state submittedAt author { login } } }
  commits(first: 100) { nodes { commit { oid authoredDate author { email user { login } } } } }
  timelineItems(first: 25, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
    nodes { __typename ... on ReadyForReviewEvent { createdAt } }
  }
}
"#;

#[test]
fn a_document_tidemark_could_send_passes_with_its_variables() {
    validate(GOOD, &json!({ "o": "acme", "n": "web", "after": null })).unwrap();
    validate(
        GOOD,
        &json!({ "o": "acme", "n": "web", "after": "Y3Vyc29y" }),
    )
    .unwrap();
    assert_eq!(deprecated_fields(GOOD), Vec::<String>::new());
}

#[test]
fn an_unknown_field_is_undefined_field() {
    let e = errors("query {\n  viewer { login nope }\n}", json!({}));
    assert_eq!(
        e,
        vec![json!({
            "message": "Field 'nope' doesn't exist on type 'User'",
            "locations": [{ "line": 2, "column": 18 }],
            "extensions": { "code": "undefinedField", "typeName": "User", "fieldName": "nope" },
        })]
    );
}

#[test]
fn an_argument_the_field_does_not_take_is_argument_not_accepted() {
    let e = errors(
        "{ viewer { repositories(frist: 10) { totalCount } } }",
        json!(null),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0]["message"],
        "Field 'repositories' doesn't accept argument 'frist'"
    );
    assert_eq!(e[0]["extensions"]["code"], "argumentNotAccepted");
    assert_eq!(e[0]["extensions"]["argumentName"], "frist");
    assert_eq!(e[0]["locations"], json!([{ "line": 1, "column": 25 }]));
}

#[test]
fn an_argument_of_the_wrong_type_is_argument_literals_incompatible() {
    let e = errors(
        r#"{ viewer { repositories(first: "ten") { totalCount } } }"#,
        json!({}),
    );
    assert_eq!(
        e,
        vec![json!({
            "message": "Argument 'first' on Field 'repositories' has an invalid value (\"ten\"). Expected type 'Int'.",
            "locations": [{ "line": 1, "column": 25 }],
            "extensions": { "code": "argumentLiteralsIncompatible", "typeName": "Field",
                            "argumentName": "first" },
        })]
    );
    // An enum value that does not exist, a 64-bit Int, an input object missing a field, null
    // for a required argument: each one error on its argument.
    for (doc, arg) in [
        (
            "{ viewer { pullRequests(states: [OPEN, DRAFTY]) { totalCount } } }",
            "states",
        ),
        (
            "{ viewer { pullRequests(first: 3000000000) { totalCount } } }",
            "first",
        ),
        (
            "{ viewer { pullRequests(orderBy: {field: CREATED_AT}) { totalCount } } }",
            "orderBy",
        ),
        (r#"{ repository(owner: "a", name: null) { id } }"#, "name"),
    ] {
        let e = errors(doc, json!({}));
        assert_eq!(e.len(), 1, "{doc}: {e:?}");
        assert_eq!(
            e[0]["extensions"]["code"], "argumentLiteralsIncompatible",
            "{doc}"
        );
        assert_eq!(e[0]["extensions"]["argumentName"], arg, "{doc}");
    }
}

#[test]
fn a_missing_required_argument_is_missing_required_arguments() {
    let e = errors(r#"{ repository(owner: "acme") { id } }"#, json!({}));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0]["message"],
        "Field 'repository' is missing required arguments: name"
    );
    assert_eq!(e[0]["extensions"]["code"], "missingRequiredArguments");
}

#[test]
fn an_unused_variable_is_variable_not_used_at_its_operation() {
    let e = errors(
        "query Q($x: String) {\n  viewer { login }\n}",
        json!({ "x": "y" }),
    );
    assert_eq!(
        e,
        vec![json!({
            "message": "Variable $x is declared by Q but not used",
            "locations": [{ "line": 1, "column": 1 }],
            "extensions": { "code": "variableNotUsed", "variableName": "x" },
        })]
    );
    let e = errors("query ($x: String) { viewer { login } }", json!({}));
    assert_eq!(
        e[0]["message"],
        "Variable $x is declared by anonymous query but not used"
    );
}

#[test]
fn an_undeclared_variable_is_variable_not_defined() {
    let e = errors("query Q { user(login: $who) { id } }", json!({}));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0]["message"],
        "Variable $who is used by Q but not declared"
    );
    assert_eq!(e[0]["extensions"]["code"], "variableNotDefined");
}

#[test]
fn an_unused_fragment_is_use_and_define_fragment() {
    let e = errors(
        "query { viewer { login } }\nfragment Who on User { name }",
        json!({}),
    );
    assert_eq!(
        e,
        vec![json!({
            "message": "Fragment Who was defined, but not used",
            "locations": [{ "line": 2, "column": 1 }],
            "extensions": { "code": "useAndDefineFragment", "fragmentName": "Who" },
        })]
    );
    let e = errors("query { viewer { ...Who } }", json!({}));
    assert_eq!(e[0]["message"], "Fragment Who was used, but not defined");
    assert_eq!(e[0]["extensions"]["code"], "useAndDefineFragment");
}

#[test]
fn selections_on_scalars_and_objects_without_selections_are_selection_mismatch() {
    let e = errors("{ viewer { login { x y } } }", json!({}));
    assert_eq!(
        e[0]["message"],
        "Selections can't be made on scalars (field 'login' returns String but has selections [x, y])"
    );
    assert_eq!(e[0]["extensions"]["code"], "selectionMismatch");
    assert_eq!(e.len(), 1, "{e:?}");
    let e = errors("{ viewer }", json!({}));
    assert_eq!(
        e[0]["message"],
        "Field must have selections (field 'viewer' returns User but has no selections. Did you mean 'viewer { ... }'?)"
    );
    assert_eq!(e[0]["extensions"]["code"], "selectionMismatch");
    // Only the unknown field, although nothing is left to select on `viewer`.
    assert_eq!(errors("{ viewer { nope } }", json!({})).len(), 1);
}

#[test]
fn a_variable_of_the_wrong_type_is_variable_mismatch() {
    let e = errors(
        "query Q($n: String) { viewer { repositories(first: $n) { totalCount } } }",
        json!({}),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0]["message"],
        "Type mismatch on variable $n and argument first (String / Int)"
    );
    assert_eq!(e[0]["extensions"]["code"], "variableMismatch");
    let e = errors(
        "query Q($o: String) { repository(owner: $o, name: \"x\") { id } }",
        json!({}),
    );
    assert_eq!(
        e[0]["message"],
        "Nullability mismatch on variable $o and argument owner (String / String!)"
    );
}

#[test]
fn a_syntax_error_is_the_only_error_and_has_no_code() {
    let e = errors("query {\n  viewer { login(} }\n}", json!({}));
    assert_eq!(e.len(), 1, "{e:?}");
    let message = e[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Parse error on \"}\" (RCURLY) at [2, "),
        "{message}"
    );
    assert!(e[0].get("extensions").is_none());
    let e = errors("query { viewer { login }", json!({}));
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn variables_are_checked_against_their_definitions() {
    let doc = "query Q($o: String!, $n: Int) { viewer { repositories(first: $n) { totalCount } } \
               repository(owner: $o, name: \"x\") { id } }";
    validate(doc, &json!({ "o": "acme", "n": 10 })).unwrap();
    validate(doc, &json!({ "o": "acme" })).unwrap();
    let e = errors(doc, json!({ "n": 10 }));
    assert_eq!(
        e,
        vec![json!({
            "message": "Variable $o of type String! was provided invalid value",
            "locations": [{ "line": 1, "column": 9 }],
            "extensions": { "value": null,
                            "problems": [{ "path": [], "explanation": "Expected value to not be null" }] },
        })]
    );
    let e = errors(doc, json!({ "o": "acme", "n": "ten" }));
    assert_eq!(
        e[0]["message"],
        "Variable $n of type Int was provided invalid value"
    );
    let e = errors(doc, json!({ "o": "acme", "n": 3_000_000_000u64 }));
    assert_eq!(e.len(), 1);
    // Lists, enums and input objects, with the path to what is wrong.
    let doc = "query Q($s: [PullRequestState!], $by: IssueOrder) { viewer { \
               pullRequests(states: $s, orderBy: $by) { totalCount } } }";
    validate(
        doc,
        &json!({ "s": ["OPEN"], "by": { "field": "CREATED_AT", "direction": "ASC" } }),
    )
    .unwrap();
    validate(doc, &json!({ "s": "MERGED" })).unwrap();
    let e = errors(
        doc,
        json!({ "s": ["OPEN", "DRAFTY"], "by": { "field": "CREATED_AT" } }),
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0]["extensions"]["problems"][0]["path"], json!([1]));
    assert_eq!(
        e[1]["extensions"]["problems"][0]["path"],
        json!(["direction"])
    );
}

#[test]
fn databaseid_is_deprecated_through_fragments_and_inline_fragments_fulldatabaseid_is_not() {
    let doc = r#"query {
  repository(owner: "a", name: "b") {
    pullRequest(number: 1) {
      ...P
      fullDatabaseId
      reviews(first: 1) { nodes { ... on PullRequestReview { databaseId fullDatabaseId } } }
    }
  }
}
fragment P on PullRequest { databaseId number }
"#;
    validate(doc, &json!({})).unwrap();
    assert_eq!(
        deprecated_fields(doc),
        vec!["PullRequest.databaseId", "PullRequestReview.databaseId"]
    );
    let doc =
        "{ organization(login: \"a\") { packages(first: 1, packageType: NPM) { totalCount } } }";
    assert_eq!(deprecated_fields(doc), vec!["PackageType.NPM"]);
}

#[test]
fn small_helpers() {
    assert_eq!(
        field_type("PullRequest", "fullDatabaseId").as_deref(),
        Some("BigInt")
    );
    assert_eq!(field_type("PullRequest", "nope"), None);
    assert!(
        deprecation("PullRequest", "databaseId")
            .unwrap()
            .contains("fullDatabaseId")
    );
    assert_eq!(deprecation("PullRequest", "fullDatabaseId"), None);
    assert!(
        enum_values("PullRequestState")
            .unwrap()
            .contains(&"MERGED".to_string())
    );
}
