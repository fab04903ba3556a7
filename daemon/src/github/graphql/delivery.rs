//! Delivery data by GraphQL: the document that reads a repository's deployments (with their
//! statuses), releases, tags and labelled issues, and the answers it decodes into. Workflow
//! runs and compares are REST (GitHub's GraphQL has no such lists): see `github::delivery`.

use super::nodes::{Connection, Names, opt_time, time};
use serde::Deserialize;
use serde_json::{Value, json};

/// Items per page of each delivery list, on a repository's first read.
pub const DELIVERY_FIRST: u32 = 50;
/// Items per page once a repository was read: most walks stop at the first page.
pub const DELIVERY_FIRST_INCREMENTAL: u32 = 10;
/// Statuses read per deployment (GitHub keeps a handful; the last terminal one decides).
pub const STATUSES_FIRST: u32 = 10;

/// One of the lists a delivery query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Deployments,
    Releases,
    Tags,
    Issues,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::Deployments, Part::Releases, Part::Tags, Part::Issues];
}

/// What to read of one repository: each part's next page (`after` None: the first page).
pub struct DeliveryAsk<'a> {
    /// Items per page ([`DELIVERY_FIRST`] or [`DELIVERY_FIRST_INCREMENTAL`]).
    pub first: u32,
    pub owner: &'a str,
    pub name: &'a str,
    pub parts: Vec<(Part, Option<&'a str>)>,
    /// The incident label: without `issues_since`, the issues with it are read.
    pub incident_label: &'a str,
    /// Issues updated since then (RFC 3339), whatever their labels (one that lost the incident
    /// label is seen); None: every issue with the incident label.
    pub issues_since: Option<String>,
}

/// Pages of delivery lists of several repositories in one query (alias `rN` for the Nth).
pub fn delivery_pages(asks: &[DeliveryAsk<'_>]) -> (String, Value) {
    let mut params = Vec::new();
    let mut body = String::new();
    let mut vars = serde_json::Map::new();
    for (slot, ask) in asks.iter().enumerate() {
        let first = ask.first;
        params.push(format!("$o{slot}: String!, $n{slot}: String!"));
        vars.insert(format!("o{slot}"), json!(ask.owner));
        vars.insert(format!("n{slot}"), json!(ask.name));
        let mut fields = String::from("defaultBranchRef { name } ");
        for (part, after) in &ask.parts {
            let var = match part {
                Part::Deployments => format!("d{slot}"),
                Part::Releases => format!("l{slot}"),
                Part::Tags => format!("t{slot}"),
                Part::Issues => format!("i{slot}"),
            };
            params.push(format!("${var}: String"));
            vars.insert(var.clone(), json!(after));
            let page = "pageInfo { hasNextPage endCursor }";
            fields.push_str(&match part {
                Part::Deployments => format!(
                    "deployments(first: {first}, after: ${var}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{ {page} nodes {{ id commitOid createdAt updatedAt environment state statuses(first: {STATUSES_FIRST}) {{ nodes {{ state createdAt }} }} }} }} "
                ),
                Part::Releases => format!(
                    "releases(first: {first}, after: ${var}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{ {page} nodes {{ id tagName createdAt publishedAt isDraft isPrerelease tagCommit {{ oid }} }} }} "
                ),
                Part::Tags => format!(
                    "refs(refPrefix: \"refs/tags/\", first: {first}, after: ${var}, orderBy: {{field: TAG_COMMIT_DATE, direction: DESC}}) {{ {page} nodes {{ name target {{ __typename oid ... on Commit {{ committedDate }} ... on Tag {{ tagger {{ date }} target {{ oid }} }} }} }} }} "
                ),
                Part::Issues => {
                    params.push(format!("$s{slot}: DateTime, $b{slot}: [String!]"));
                    vars.insert(format!("s{slot}"), json!(ask.issues_since));
                    let labels = ask
                        .issues_since
                        .is_none()
                        .then(|| json!([ask.incident_label]));
                    vars.insert(format!("b{slot}"), json!(labels));
                    format!(
                        "issues(first: {first}, after: ${var}, filterBy: {{labels: $b{slot}, since: $s{slot}}}, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{ {page} nodes {{ {ISSUE_FIELDS} labels(first: {}) {{ nodes {{ name }} }} }} }} ",
                        super::documents::LABELS_FIRST
                    )
                }
            });
        }
        body.push_str(&format!(
            "  r{slot}: repository(owner: $o{slot}, name: $n{slot}) {{ {fields}}}\n"
        ));
    }
    let query = format!(
        "query Delivery({}) {{\n  rateLimit {{ cost remaining resetAt }}\n{body}}}",
        params.join(", ")
    );
    (query, Value::Object(vars))
}

const ISSUE_FIELDS: &str = "number title body createdAt closedAt updatedAt";

/// Issues of one repository by number (alias `iN` for the Nth): what a webhook about an issue
/// names, read whatever its labels are now (a label taken off is seen).
pub fn issues_by_number(owner: &str, name: &str, numbers: &[u64]) -> (String, Value) {
    let mut body = String::new();
    for (slot, n) in numbers.iter().enumerate() {
        body.push_str(&format!(
            "    i{slot}: issue(number: {n}) {{ {ISSUE_FIELDS} labels(first: {}) {{ nodes {{ name }} }} }}\n",
            super::documents::LABELS_FIRST
        ));
    }
    (
        format!(
            "query Issues($o: String!, $n: String!) {{\n  rateLimit {{ cost remaining resetAt }}\n  repository(owner: $o, name: $n) {{\n{body}  }}\n}}"
        ),
        json!({ "o": owner, "n": name }),
    )
}

#[derive(Debug, Clone, Deserialize)]
pub struct BranchRef {
    pub name: String,
}

/// One repository's answer to [`delivery_pages`].
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoDelivery {
    #[serde(default)]
    pub default_branch_ref: Option<BranchRef>,
    #[serde(default)]
    pub deployments: Option<Connection<DeploymentNode>>,
    #[serde(default)]
    pub releases: Option<Connection<ReleaseNode>>,
    #[serde(default)]
    pub refs: Option<Connection<TagRef>>,
    #[serde(default)]
    pub issues: Option<Connection<IssueNode>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNode {
    /// GitHub's `DeploymentStatusState`, upper case.
    pub state: String,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatusList {
    #[serde(default)]
    pub nodes: Vec<Option<StatusNode>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentNode {
    pub id: String,
    pub commit_oid: String,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
    #[serde(deserialize_with = "time")]
    pub updated_at: i64,
    #[serde(default)]
    pub environment: Option<String>,
    /// GitHub's `DeploymentState`, upper case.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub statuses: Option<StatusList>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Oid {
    pub oid: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseNode {
    pub id: String,
    pub tag_name: String,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "opt_time")]
    pub published_at: Option<i64>,
    pub is_draft: bool,
    pub is_prerelease: bool,
    #[serde(default)]
    pub tag_commit: Option<Oid>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tagger {
    #[serde(default)]
    pub date: Option<String>,
}

/// A tag's target: the commit (a lightweight tag) or the tag object (an annotated one).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagTarget {
    #[serde(rename = "__typename")]
    pub typename: String,
    pub oid: String,
    #[serde(default, deserialize_with = "opt_time")]
    pub committed_date: Option<i64>,
    #[serde(default)]
    pub tagger: Option<Tagger>,
    /// An annotated tag's own target (the commit).
    #[serde(default)]
    pub target: Option<Oid>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TagRef {
    pub name: String,
    pub target: Option<TagTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueNode {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
    #[serde(default, deserialize_with = "opt_time")]
    pub closed_at: Option<i64>,
    #[serde(deserialize_with = "time")]
    pub updated_at: i64,
    #[serde(default)]
    pub labels: Option<Names>,
}

/// Examples of the documents, for the schema checks.
pub fn examples() -> Vec<(&'static str, String, Value)> {
    let (pages_q, pages_v) = example_pages();
    let (issues_q, issues_v) = issues_by_number("acme", "web", &[4, 9]);
    vec![
        ("delivery pages", pages_q, pages_v),
        ("issues by number", issues_q, issues_v),
    ]
}

fn example_pages() -> (String, Value) {
    delivery_pages(&[
        DeliveryAsk {
            first: DELIVERY_FIRST,
            owner: "acme",
            name: "web",
            parts: Part::ALL.iter().map(|p| (*p, None)).collect(),
            incident_label: "incident",
            issues_since: Some("2026-01-01T00:00:00Z".into()),
        },
        DeliveryAsk {
            first: DELIVERY_FIRST_INCREMENTAL,
            owner: "acme",
            name: "api",
            parts: vec![(Part::Tags, Some("Y3Vy"))],
            incident_label: "incident",
            issues_since: None,
        },
    ])
}
