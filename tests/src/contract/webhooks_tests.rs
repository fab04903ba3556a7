use super::*;

macro_rules! examples {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../contract/examples/webhooks/", $name, ".json")))),*]
    };
}

/// `@octokit/webhooks-examples` 7.6.1 bodies, `EVENT.ACTION` (`none`: no action).
const EXAMPLES: &[(&str, &str)] = examples![
    "deployment.created",
    "deployment_status.created",
    "issues.labeled",
    "issues.opened",
    "issues.reopened",
    "issues.unlabeled",
    "member.added",
    "organization.member_added",
    "ping.none",
    "pull_request.closed",
    "pull_request.converted_to_draft",
    "pull_request.labeled",
    "pull_request.opened",
    "pull_request.ready_for_review",
    "pull_request.reopened",
    "pull_request.review_requested",
    "pull_request.synchronize",
    "pull_request.unlabeled",
    "pull_request_review.dismissed",
    "pull_request_review.submitted",
    "push.none",
    "release.created",
    "release.deleted",
    "release.edited",
    "release.prereleased",
    "release.released",
    "repository.created",
    "workflow_run.requested",
];

fn example(name: &str) -> Value {
    let (_, body) = EXAMPLES.iter().find(|(n, _)| *n == name).unwrap();
    let mut body = serde_json::from_str(body).unwrap();
    freshen(&mut body);
    body
}

/// Examples older than the schemas of the same release: they lack fields GitHub added since
/// (a repository's `is_template`, `topics`, `visibility`, `custom_properties`,
/// `web_commit_signoff_required`; a pull request's `auto_merge`, `active_lock_reason`, `draft`;
/// a hook's `deliveries_url`; a deployment's `workflow` and `workflow_run`), which the schemas
/// require.
const STALE: &[&str] = &[
    "deployment.created",
    "deployment_status.created",
    "member.added",
    "ping.none",
    "pull_request.opened",
    "pull_request_review.submitted",
    "push.none",
];

/// Add what the stale examples lack, with neutral values (the files stay as published).
fn freshen(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(freshen),
        Value::Object(m) => {
            m.values_mut().for_each(freshen);
            let mut added: Vec<(&str, Value)> = Vec::new();
            if m.contains_key("full_name") && m.contains_key("forks_count") {
                let private = m["private"] == json!(true);
                added.extend([
                    ("is_template", json!(false)),
                    ("web_commit_signoff_required", json!(false)),
                    ("topics", json!([])),
                    (
                        "visibility",
                        json!(if private { "private" } else { "public" }),
                    ),
                    ("custom_properties", json!({})),
                ]);
            }
            if m.contains_key("head") && m.contains_key("merge_commit_sha") {
                added.extend([
                    ("auto_merge", Value::Null),
                    ("active_lock_reason", Value::Null),
                    ("draft", json!(false)),
                ]);
            }
            if m.contains_key("deployment") && !m.contains_key("deployment_status") {
                added.extend([("workflow", Value::Null), ("workflow_run", Value::Null)]);
            }
            if let Some(url) = m.get("ping_url").and(m.get("url")).and_then(Value::as_str) {
                added.push(("deliveries_url", json!(format!("{url}/deliveries"))));
            }
            for (k, v) in added {
                m.entry(k).or_insert(v);
            }
        }
        _ => {}
    }
}

#[test]
fn githubs_examples_validate() {
    for (name, body) in EXAMPLES {
        let event = name.split('.').next().unwrap();
        let mut body: Value = serde_json::from_str(body).unwrap();
        let raw = validate(event, &body);
        assert_eq!(raw.is_err(), STALE.contains(name), "{name}: {raw:#?}");
        freshen(&mut body);
        validate(event, &body).unwrap_or_else(|e| panic!("{name}: {e:#?}"));
    }
}

#[test]
fn a_broken_body_fails_and_names_where() {
    let mut body = example("pull_request.opened");
    body["number"] = json!("1");
    let e = validate("pull_request", &body).unwrap_err();
    assert!(e.iter().any(|e| e.contains("\"/number\"")), "{e:?}");
    let mut body = example("pull_request.opened");
    body["pull_request"].as_object_mut().unwrap().remove("head");
    assert!(validate("pull_request", &body).is_err());
    let mut body = example("pull_request_review.submitted");
    body["review"]["state"] = json!("APPROVED");
    assert!(
        validate("pull_request_review", &body).is_err(),
        "webhook states are lower case"
    );
    let mut body = example("push.none");
    body["commits"] = json!({});
    assert!(validate("push", &body).is_err());
}

#[test]
fn unknown_actions_and_events_fail() {
    let mut body = example("pull_request.opened");
    body["action"] = json!("exploded");
    let e = validate("pull_request", &body).unwrap_err();
    assert!(e[0].contains("exploded"), "{e:?}");
    // The right body for another event.
    assert!(validate("pull_request_review", &example("pull_request.opened")).is_err());
    assert!(validate("issues", &example("pull_request.opened")).is_err());
    assert!(validate("check_run", &example("pull_request.opened")).is_err());
}

#[test]
fn the_events_kept_and_their_actions() {
    assert_eq!(
        events(),
        [
            "deployment",
            "deployment_status",
            "issues",
            "member",
            "membership",
            "organization",
            "ping",
            "pull_request",
            "pull_request_review",
            "pull_request_review_comment",
            "push",
            "release",
            "repository",
            "workflow_run",
        ]
    );
    assert_eq!(actions("deployment"), ["created"]);
    assert_eq!(actions("deployment_status"), ["created"]);
    assert_eq!(
        actions("workflow_run"),
        ["completed", "in_progress", "requested"]
    );
    assert!(actions("pull_request").contains(&"ready_for_review".to_string()));
    assert_eq!(
        actions("pull_request_review"),
        ["dismissed", "edited", "submitted"]
    );
    assert!(actions("push").is_empty());
}
