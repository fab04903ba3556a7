use super::*;

/// GitHub's own example answers (from the same description), by file name.
const EXAMPLES: &[(&str, &str, u16, &str)] = &[
    (
        "actions.get-workflow-run",
        "actions/get-workflow-run",
        200,
        include_str!("../../contract/examples/rest/actions.get-workflow-run.json"),
    ),
    (
        "actions.list-workflow-runs-for-repo",
        "actions/list-workflow-runs-for-repo",
        200,
        include_str!("../../contract/examples/rest/actions.list-workflow-runs-for-repo.json"),
    ),
    (
        "issues.get",
        "issues/get",
        200,
        include_str!("../../contract/examples/rest/issues.get.json"),
    ),
    (
        "issues.list-for-repo",
        "issues/list-for-repo",
        200,
        include_str!("../../contract/examples/rest/issues.list-for-repo.json"),
    ),
    (
        "orgs.list-members",
        "orgs/list-members",
        200,
        include_str!("../../contract/examples/rest/orgs.list-members.json"),
    ),
    (
        "pulls.get",
        "pulls/get",
        200,
        include_str!("../../contract/examples/rest/pulls.get.json"),
    ),
    (
        "pulls.list",
        "pulls/list",
        200,
        include_str!("../../contract/examples/rest/pulls.list.json"),
    ),
    (
        "pulls.list-commits",
        "pulls/list-commits",
        200,
        include_str!("../../contract/examples/rest/pulls.list-commits.json"),
    ),
    (
        "pulls.list-reviews",
        "pulls/list-reviews",
        200,
        include_str!("../../contract/examples/rest/pulls.list-reviews.json"),
    ),
    (
        "rate-limit.get",
        "rate-limit/get",
        200,
        include_str!("../../contract/examples/rest/rate-limit.get.json"),
    ),
    (
        "repos.compare-commits-with-basehead",
        "repos/compare-commits-with-basehead",
        200,
        include_str!("../../contract/examples/rest/repos.compare-commits-with-basehead.json"),
    ),
    (
        "repos.create-deployment",
        "repos/create-deployment",
        201,
        include_str!("../../contract/examples/rest/repos.create-deployment.json"),
    ),
    (
        "repos.create-deployment-status",
        "repos/create-deployment-status",
        201,
        include_str!("../../contract/examples/rest/repos.create-deployment-status.json"),
    ),
    (
        "repos.get-deployment",
        "repos/get-deployment",
        200,
        include_str!("../../contract/examples/rest/repos.get-deployment.json"),
    ),
    (
        "repos.list-deployment-statuses",
        "repos/list-deployment-statuses",
        200,
        include_str!("../../contract/examples/rest/repos.list-deployment-statuses.json"),
    ),
    (
        "repos.list-deployments",
        "repos/list-deployments",
        200,
        include_str!("../../contract/examples/rest/repos.list-deployments.json"),
    ),
    (
        "repos.create-webhook",
        "repos/create-webhook",
        201,
        include_str!("../../contract/examples/rest/repos.create-webhook.json"),
    ),
    (
        "repos.list-for-org",
        "repos/list-for-org",
        200,
        include_str!("../../contract/examples/rest/repos.list-for-org.json"),
    ),
    (
        "repos.list-releases",
        "repos/list-releases",
        200,
        include_str!("../../contract/examples/rest/repos.list-releases.json"),
    ),
    (
        "repos.list-tags",
        "repos/list-tags",
        200,
        include_str!("../../contract/examples/rest/repos.list-tags.json"),
    ),
    (
        "repos.list-webhooks",
        "repos/list-webhooks",
        200,
        include_str!("../../contract/examples/rest/repos.list-webhooks.json"),
    ),
    (
        "users.get-authenticated",
        "users/get-authenticated",
        200,
        include_str!("../../contract/examples/rest/users.get-authenticated.json"),
    ),
];

/// GitHub's pull request examples predate teams' `type` (required by the schema since).
const STALE: &[&str] = &["pulls.get", "pulls.list"];

fn freshen(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(freshen),
        Value::Object(m) => {
            m.values_mut().for_each(freshen);
            if m.contains_key("slug") && m.contains_key("members_url") {
                m.entry("type").or_insert(json!("organization"));
            }
        }
        _ => {}
    }
}

fn example(name: &str) -> &'static str {
    EXAMPLES.iter().find(|e| e.0 == name).unwrap().3
}

fn pull() -> Value {
    let mut body = serde_json::from_str(example("pulls.get")).unwrap();
    freshen(&mut body);
    body
}

#[test]
fn githubs_examples_validate() {
    for (name, id, status, body) in EXAMPLES {
        let op = by_id(id).unwrap_or_else(|| panic!("{id} is in the description"));
        let mut body: Value = serde_json::from_str(body).unwrap();
        let raw = validate_response(&op, *status, &body);
        assert_eq!(raw.is_err(), STALE.contains(name), "{name}: {raw:#?}");
        freshen(&mut body);
        validate_response(&op, *status, &body).unwrap_or_else(|e| panic!("{name}: {e:#?}"));
    }
}

#[test]
fn a_wrong_type_fails_and_names_where() {
    let op = operation("GET", "/repos/acme/web/pulls/7").unwrap();
    let mut body = pull();
    body["number"] = json!("1347");
    let e = validate_response(&op, 200, &body).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("\"/number\""), "{e:?}");
    let mut body = pull();
    body.as_object_mut().unwrap().remove("merged_at");
    assert!(
        validate_response(&op, 200, &body).is_err(),
        "a required field is missing"
    );
    let mut body = pull();
    body["created_at"] = json!("yesterday");
    assert!(
        validate_response(&op, 200, &body).is_err(),
        "date-time is checked"
    );
}

#[test]
fn nullable_is_honoured() {
    let op = by_id("pulls/get").unwrap();
    let mut body = pull();
    body["body"] = Value::Null;
    body["merged_at"] = Value::Null;
    body["assignee"] = Value::Null;
    validate_response(&op, 200, &body).unwrap();
    body["body"] = json!(5);
    assert!(validate_response(&op, 200, &body).is_err());
    // Not nullable stays not nullable.
    let mut body = pull();
    body["title"] = Value::Null;
    assert!(validate_response(&op, 200, &body).is_err());
}

#[test]
fn statuses_and_bodies_must_be_documented() {
    let op = by_id("repos/delete-webhook").unwrap();
    validate_response(&op, 204, &Value::Null).unwrap();
    assert!(validate_response(&op, 204, &json!({ "x": 1 })).is_err());
    assert!(validate_response(&op, 418, &Value::Null).is_err());
    let e = validate_response(&op, 404, &json!({ "message": 5 })).unwrap_err();
    assert!(e[0].contains("/message"), "{e:?}");
    validate_response(
        &op,
        404,
        &json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest" }),
    )
    .unwrap();
}

#[test]
fn concrete_paths_find_their_operation() {
    let id = |method: &str, path: &str| operation(method, path).map(|op| op.id);
    assert_eq!(
        id("GET", "/repos/acme/web/hooks/12").as_deref(),
        Some("repos/get-webhook")
    );
    assert_eq!(
        id("delete", "/repos/acme/web/hooks/12").as_deref(),
        Some("repos/delete-webhook")
    );
    assert_eq!(
        id("PATCH", "/repos/acme/web/hooks/12/config?x=1").as_deref(),
        Some("repos/update-webhook-config-for-repo")
    );
    assert_eq!(
        id("GET", "/orgs/acme/repos?type=all&per_page=100").as_deref(),
        Some("repos/list-for-org")
    );
    assert_eq!(
        id("GET", "/user/orgs").as_deref(),
        Some("orgs/list-for-authenticated-user")
    );
    assert_eq!(
        id("GET", "/users/octocat").as_deref(),
        Some("users/get-by-username")
    );
    assert_eq!(
        id("DELETE", "/applications/Iv1.abc/token").as_deref(),
        Some("apps/delete-token")
    );
    assert_eq!(id("GET", "/").as_deref(), Some("meta/root"));
    // Not documented by GitHub (tidemarkd still calls it), or not kept here.
    assert_eq!(id("GET", "/repositories/5"), None);
    assert_eq!(id("PUT", "/repos/acme/web/hooks/12"), None);
    assert_eq!(id("GET", "/repos/acme/web/hooks/"), None);
    let op = operation("GET", "/repos/acme/web/pulls/7/reviews").unwrap();
    assert_eq!(
        op,
        Operation {
            id: "pulls/list-reviews".into(),
            method: "GET".into(),
            template: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews".into(),
        }
    );
    assert!(statuses(&op).contains(&"200".to_string()));
}

#[test]
fn every_kept_operation_is_there_once() {
    let ops = operations();
    assert!(ops.len() >= 32, "{}", ops.len());
    let mut ids: Vec<&str> = ops.iter().map(|o| o.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ops.len());
}

#[test]
fn nullable_becomes_any_of_null() {
    let mut s = json!({ "type": "object", "nullable": true,
                        "properties": { "nullable": { "type": "boolean" },
                                        "a": { "type": "string", "nullable": true } } });
    nullable_to_json_schema(&mut s);
    assert_eq!(
        s,
        json!({ "anyOf": [
            { "type": "object", "properties": {
                "nullable": { "type": "boolean" },
                "a": { "anyOf": [{ "type": "string" }, { "type": "null" }] } } },
            { "type": "null" } ] })
    );
}
