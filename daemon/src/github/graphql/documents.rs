//! Every GraphQL document tidemark sends, built here and nowhere else. Each is held to GitHub's
//! published schema (`tests/contract/github.graphql`) by the contract tests: every document the
//! daemon sends the simulator is validated, deprecated fields refused, and [`examples`] gives
//! one of each shape for a check without a simulator. Ids are GitHub's 64-bit
//! `fullDatabaseId`s (`BigInt`, a string on the wire), never the deprecated 32-bit `databaseId`
//! of pull requests and reviews, which answers null once an id passes 2^31.

use serde_json::{Value, json};

/// Nested pages in a pull request's main query; bigger pull requests get follow-ups.
pub const REVIEWS_FIRST: u32 = 20;
pub const COMMITS_FIRST: u32 = 40;
/// Items per follow-up page (GitHub's maximum).
pub const FOLLOW_UP_FIRST: u32 = 100;
/// Labels read of a pull request or issue (more are rare; the rest are not read).
pub const LABELS_FIRST: u32 = 20;
/// Pull requests per refetch query.
pub const REFETCH_PER_QUERY: usize = 20;

/// An author or reviewer. `User.databaseId` and `Bot.databaseId` are `Int`s that still fit
/// (accounts are about 2.5 × 10^8) and are not deprecated.
const ACTOR: &str = "__typename login ... on User { databaseId } ... on Bot { databaseId }";

fn review_fragment() -> String {
    format!(
        "fragment Review on PullRequestReview {{ fullDatabaseId state submittedAt author {{ {ACTOR} }} }}"
    )
}

const COMMIT_FRAGMENT: &str = "fragment PrCommit on PullRequestCommit { commit { oid authoredDate committedDate author { email user { databaseId login } } } }";

fn pr_fragments() -> String {
    format!(
        "{review}
{COMMIT_FRAGMENT}
fragment Pr on PullRequest {{
  id fullDatabaseId number title state isDraft createdAt updatedAt closedAt mergedAt additions deletions
  author {{ {ACTOR} }}
  mergedBy {{ {ACTOR} }}
  mergeCommit {{ oid }} baseRefName headRefName
  labels(first: {LABELS_FIRST}) {{ nodes {{ name }} }}
  reviews(first: {REVIEWS_FIRST}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ ...Review }} }}
  commits(first: {COMMITS_FIRST}) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ ...PrCommit }} }}
  timelineItems(first: 25, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {{
    nodes {{ __typename ... on ReadyForReviewEvent {{ createdAt }} ... on ConvertToDraftEvent {{ createdAt }} }}
  }}
}}",
        review = review_fragment()
    )
}

/// The organization's members, a page of 100 at a time (`$after` from the last page).
pub const MEMBERS: &str = "query Members($org: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    membersWithRole(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { databaseId login name email }
    }
  }
}";

pub fn members(org: &str, after: Option<&str>) -> (String, Value) {
    (MEMBERS.to_string(), json!({ "org": org, "after": after }))
}

/// One repository's next page of pull requests in a [`pull_request_pages`] query (alias `rN`
/// for the Nth).
pub struct RepoPage<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub first: u32,
    pub after: Option<&'a str>,
    /// Newest-updated first (a later sync), else oldest-updated first (the first walk).
    pub descending: bool,
}

/// Pages of pull requests of many repositories in one query: GitHub charges by the nodes a
/// query could return, so one query for many small pages is cheaper than one per repository.
pub fn pull_request_pages(pages: &[RepoPage<'_>]) -> (String, Value) {
    let mut params = Vec::new();
    let mut body = String::new();
    let mut vars = serde_json::Map::new();
    for (slot, page) in pages.iter().enumerate() {
        params.push(format!(
            "$o{slot}: String!, $n{slot}: String!, $c{slot}: String"
        ));
        vars.insert(format!("o{slot}"), json!(page.owner));
        vars.insert(format!("n{slot}"), json!(page.name));
        vars.insert(format!("c{slot}"), json!(page.after));
        let direction = if page.descending { "DESC" } else { "ASC" };
        body.push_str(&format!(
            "  r{slot}: repository(owner: $o{slot}, name: $n{slot}) {{ id pullRequests(first: {}, after: $c{slot}, orderBy: {{field: UPDATED_AT, direction: {direction}}}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Pr }} }} }}\n",
            page.first
        ));
    }
    let query = format!(
        "query Pages({}) {{\n  rateLimit {{ cost remaining resetAt }}\n{body}}}\n{}",
        params.join(", "),
        pr_fragments()
    );
    (query, Value::Object(vars))
}

/// Pull requests of one repository by number (alias `pN` for the Nth), whole but for the
/// reviews and commits past the first page.
pub fn pull_requests_by_number(owner: &str, name: &str, numbers: &[u64]) -> (String, Value) {
    let mut body = String::new();
    for (slot, n) in numbers.iter().enumerate() {
        body.push_str(&format!(
            "    p{slot}: pullRequest(number: {n}) {{ ...Pr }}\n"
        ));
    }
    let query = format!(
        "query Refetch($o: String!, $n: String!) {{\n  rateLimit {{ cost remaining resetAt }}\n  repository(owner: $o, name: $n) {{\n{body}  }}\n}}\n{}",
        pr_fragments()
    );
    (query, json!({ "o": owner, "n": name }))
}

const REPOSITORY_FIELDS: &str = "id databaseId nameWithOwner";

/// A repository by its node id: found whatever it is called now (renamed, transferred).
pub fn repository_by_node(node_id: &str) -> (String, Value) {
    (
        format!(
            "query RepositoryByNode($id: ID!) {{\n  rateLimit {{ cost remaining resetAt }}\n  node(id: $id) {{ __typename ... on Repository {{ {REPOSITORY_FIELDS} }} }}\n}}"
        ),
        json!({ "id": node_id }),
    )
}

/// A repository by its name (a store that has not learned its node id yet).
pub fn repository_by_name(owner: &str, name: &str) -> (String, Value) {
    (
        format!(
            "query RepositoryByName($o: String!, $n: String!) {{\n  rateLimit {{ cost remaining resetAt }}\n  repository(owner: $o, name: $n) {{ {REPOSITORY_FIELDS} }}\n}}"
        ),
        json!({ "o": owner, "n": name }),
    )
}

/// The rest of one pull request's reviews and/or commits, from where its last page ended.
pub struct FollowUp<'a> {
    pub node_id: &'a str,
    pub reviews_after: Option<&'a str>,
    pub commits_after: Option<&'a str>,
}

/// Follow-up pages of several pull requests by node id (alias `pN` for the Nth).
pub fn follow_ups(items: &[FollowUp<'_>]) -> (String, Value) {
    let mut body = String::new();
    let mut params = Vec::new();
    let mut vars = serde_json::Map::new();
    for (slot, item) in items.iter().enumerate() {
        // GraphQL refuses declared variables that go unused: declare only what is asked.
        params.push(format!("$id{slot}: ID!"));
        vars.insert(format!("id{slot}"), json!(item.node_id));
        let mut fields = String::new();
        if let Some(after) = item.reviews_after {
            params.push(format!("$ra{slot}: String"));
            vars.insert(format!("ra{slot}"), json!(after));
            fields.push_str(&format!("reviews(first: {FOLLOW_UP_FIRST}, after: $ra{slot}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...Review }} }} "));
        }
        if let Some(after) = item.commits_after {
            params.push(format!("$ca{slot}: String"));
            vars.insert(format!("ca{slot}"), json!(after));
            fields.push_str(&format!("commits(first: {FOLLOW_UP_FIRST}, after: $ca{slot}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...PrCommit }} }} "));
        }
        body.push_str(&format!(
            "  p{slot}: node(id: $id{slot}) {{ ... on PullRequest {{ {fields}}} }}\n"
        ));
    }
    // An unused fragment is a validation error: send only the ones this query spreads.
    let mut fragments = Vec::new();
    if items.iter().any(|i| i.reviews_after.is_some()) {
        fragments.push(review_fragment());
    }
    if items.iter().any(|i| i.commits_after.is_some()) {
        fragments.push(COMMIT_FRAGMENT.to_string());
    }
    let query = format!(
        "query Rest({}) {{\n  rateLimit {{ cost remaining resetAt }}\n{body}}}\n{}",
        params.join(", "),
        fragments.join("\n")
    );
    (query, Value::Object(vars))
}

/// One document of every shape tidemark sends, with its variables: what a schema check
/// validates when no simulator recorded them.
pub fn examples() -> Vec<(&'static str, String, Value)> {
    let page = |descending| RepoPage {
        owner: "acme",
        name: "web",
        first: 50,
        after: Some("Y3Vyc29y"),
        descending,
    };
    let (members_q, members_v) = members("acme", None);
    let (pages_q, pages_v) = pull_request_pages(&[page(false), page(true)]);
    let (refetch_q, refetch_v) = pull_requests_by_number("acme", "web", &[1, 2, 3]);
    let both = FollowUp {
        node_id: "PR_kwDOA",
        reviews_after: Some("cmV2"),
        commits_after: Some("Y29t"),
    };
    let reviews_only = FollowUp {
        node_id: "PR_kwDOB",
        reviews_after: Some("cmV2"),
        commits_after: None,
    };
    let commits_only = FollowUp {
        node_id: "PR_kwDOC",
        reviews_after: None,
        commits_after: Some("Y29t"),
    };
    let (node_q, node_v) = repository_by_node("R_kgDOA");
    let (name_q, name_v) = repository_by_name("acme", "web");
    let (both_q, both_v) = follow_ups(&[both]);
    let (reviews_q, reviews_v) = follow_ups(&[reviews_only]);
    let (commits_q, commits_v) = follow_ups(&[commits_only]);
    let mut all = vec![
        ("members", members_q, members_v),
        ("pull request pages", pages_q, pages_v),
        ("pull requests by number", refetch_q, refetch_v),
        ("follow-ups: reviews and commits", both_q, both_v),
        ("follow-ups: reviews", reviews_q, reviews_v),
        ("follow-ups: commits", commits_q, commits_v),
        ("repository by node id", node_q, node_v),
        ("repository by name", name_q, name_v),
    ];
    all.extend(super::delivery::examples());
    all
}

// Deprecated fields are refused against GitHub's real schema by
// tests/tests/e2e/github_contract.rs (it needs the committed schema, which lives in tests/).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_variable_is_given_and_used() {
        for (what, query, vars) in examples() {
            let declared = query.split(['(', ',']).filter_map(|p| {
                let p = p.trim();
                p.strip_prefix('$')
                    .map(|v| v.split(':').next().unwrap().to_string())
            });
            for name in declared {
                assert!(vars.get(&name).is_some(), "{what}: ${name} not given");
                assert!(
                    query.matches(&format!("${name}")).count() >= 2,
                    "{what}: ${name} declared but not used"
                );
            }
        }
    }
}
