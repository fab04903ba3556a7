//! GitHub's GraphQL answers as typed structs, field names as the schema spells them. A node
//! that does not read is kept as [`Lenient`]'s error, so the caller can count and report it
//! rather than drop it or fail a whole page for it.

use super::client::parse_time;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

/// A list item that may not read: the item, or why not.
#[derive(Debug, Clone)]
pub struct Lenient<T>(pub Result<T, String>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Lenient(T::deserialize(v).map_err(|e| e.to_string())))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The cursor of the next page, if there is one.
    pub fn next(&self) -> Option<String> {
        self.has_next_page
            .then(|| self.end_cursor.clone())
            .flatten()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: DeserializeOwned")]
pub struct Connection<T> {
    #[serde(default)]
    pub total_count: Option<u64>,
    pub page_info: PageInfo,
    pub nodes: Vec<Lenient<T>>,
}

/// GitHub's `BigInt` (a string on the wire; a number is taken too).
pub(super) fn big_int<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => s
            .parse()
            .map_err(|_| D::Error::custom(format!("BigInt {s:?} is not a whole number"))),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| D::Error::custom(format!("BigInt {n} is not a whole number"))),
        other => Err(D::Error::custom(format!("expected a BigInt, got {other}"))),
    }
}

pub(super) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).ok_or_else(|| D::Error::custom(format!("not an ISO 8601 time: {s:?}")))
}

pub(super) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse_time(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("not an ISO 8601 time: {s:?}"))),
    }
}

/// An `Actor`: a user, a bot, a mannequin...
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "__typename")]
    pub typename: String,
    pub login: String,
    #[serde(default)]
    pub database_id: Option<u64>,
}

impl Actor {
    pub fn is_bot(&self) -> bool {
        self.typename == "Bot"
    }

    /// The login as REST and webhooks spell it: GraphQL drops a bot's `[bot]`.
    pub fn rest_login(&self) -> String {
        if self.is_bot() && !self.login.ends_with("[bot]") {
            format!("{}[bot]", self.login)
        } else {
            self.login.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PullRequestState {
    Open,
    Closed,
    Merged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewState {
    Pending,
    Commented,
    Approved,
    ChangesRequested,
    Dismissed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    #[serde(deserialize_with = "big_int")]
    pub full_database_id: u64,
    pub state: ReviewState,
    #[serde(default, deserialize_with = "opt_time")]
    pub submitted_at: Option<i64>,
    pub author: Option<Actor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitUser {
    pub database_id: Option<u64>,
    pub login: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitActor {
    pub email: Option<String>,
    pub user: Option<CommitUser>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commit {
    pub oid: String,
    #[serde(default, deserialize_with = "opt_time")]
    pub authored_date: Option<i64>,
    #[serde(default, deserialize_with = "opt_time")]
    pub committed_date: Option<i64>,
    pub author: Option<GitActor>,
}

/// A `PullRequestCommit`: the commit as part of the pull request.
#[derive(Debug, Clone, Deserialize)]
pub struct PrCommit {
    pub commit: Commit,
}

/// A ready-for-review or convert-to-draft event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftEvent {
    #[serde(rename = "__typename")]
    pub typename: String,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
}

impl DraftEvent {
    pub fn is_ready(&self) -> bool {
        self.typename == "ReadyForReviewEvent"
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DraftEvents {
    pub nodes: Vec<Lenient<DraftEvent>>,
}

/// The `Pr` fragment.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    /// The node id, for follow-up queries.
    pub id: String,
    #[serde(deserialize_with = "big_int")]
    pub full_database_id: u64,
    pub number: u64,
    pub title: String,
    pub state: PullRequestState,
    pub is_draft: bool,
    #[serde(deserialize_with = "time")]
    pub created_at: i64,
    #[serde(deserialize_with = "time")]
    pub updated_at: i64,
    #[serde(default, deserialize_with = "opt_time")]
    pub closed_at: Option<i64>,
    #[serde(default, deserialize_with = "opt_time")]
    pub merged_at: Option<i64>,
    pub additions: u64,
    pub deletions: u64,
    pub author: Option<Actor>,
    /// Who merged it (null until merged, and for a deleted account).
    #[serde(default)]
    pub merged_by: Option<Actor>,
    /// The commit its merge made on the base branch (null until merged).
    #[serde(default)]
    pub merge_commit: Option<Oid>,
    #[serde(default)]
    pub base_ref_name: Option<String>,
    #[serde(default)]
    pub head_ref_name: Option<String>,
    #[serde(default)]
    pub labels: Option<Names>,
    pub reviews: Connection<Review>,
    pub commits: Connection<PrCommit>,
    pub timeline_items: DraftEvents,
}

/// `{ oid }` of a commit.
#[derive(Debug, Clone, Deserialize)]
pub struct Oid {
    pub oid: String,
}

/// `labels(first: N) { nodes { name } }`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Names {
    #[serde(default)]
    pub nodes: Vec<Option<Named>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub name: String,
}

impl Names {
    pub fn names(&self) -> Vec<String> {
        self.nodes
            .iter()
            .flatten()
            .map(|n| n.name.clone())
            .collect()
    }
}

/// `repository { pullRequests(...) }` of a pages query.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoPulls {
    /// The repository's node id.
    pub id: String,
    pub pull_requests: Connection<PullRequest>,
}

/// A repository as `repository_by_node` and `repository_by_name` read it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryNode {
    pub id: String,
    pub database_id: u64,
    pub name_with_owner: String,
}

/// A follow-up's `node(id:) { ... on PullRequest { reviews commits } }`.
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestRest {
    #[serde(default)]
    pub reviews: Option<Connection<Review>>,
    #[serde(default)]
    pub commits: Option<Connection<PrCommit>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub database_id: u64,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgMembers {
    pub members_with_role: Connection<Member>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MembersData {
    pub organization: Option<OrgMembers>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pr(id: Value) -> Value {
        json!({
            "id": "PR_kwDOA", "fullDatabaseId": id, "number": 7, "title": "t", "state": "MERGED",
            "isDraft": false, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z",
            "closedAt": "2026-01-02T00:00:00Z", "mergedAt": "2026-01-02T00:00:00Z",
            "additions": 1, "deletions": 2,
            "author": {"__typename": "Bot", "login": "renovate", "databaseId": 29139614},
            "reviews": {"totalCount": 2, "pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [
                    {"fullDatabaseId": "3100000001", "state": "APPROVED", "submittedAt": "2026-01-01T10:00:00Z",
                     "author": {"__typename": "User", "login": "ann", "databaseId": 180000001}},
                    {"fullDatabaseId": null, "state": "APPROVED", "submittedAt": null, "author": null}
                ]},
            "commits": {"totalCount": 1, "pageInfo": {"hasNextPage": false, "endCursor": null},
                "nodes": [{"commit": {"oid": "abc", "authoredDate": "2025-12-31T23:00:00-08:00",
                    "committedDate": "2026-01-01T00:00:00Z", "author": {"email": "a@x", "user": null}}}]},
            "timelineItems": {"nodes": [{"__typename": "ReadyForReviewEvent", "createdAt": "2026-01-01T01:00:00Z"}]}
        })
    }

    #[test]
    fn ids_past_2_pow_31_read_whole_from_bigint_strings() {
        let p: PullRequest = serde_json::from_value(pr(json!("2900000001"))).unwrap();
        assert_eq!(p.full_database_id, 2_900_000_001);
        assert_eq!(
            p.reviews.nodes[0].0.as_ref().unwrap().full_database_id,
            3_100_000_001
        );
        assert_eq!(p.author.as_ref().unwrap().rest_login(), "renovate[bot]");
        assert_eq!(
            p.commits.nodes[0].0.as_ref().unwrap().commit.authored_date,
            Some(1_767_250_800)
        );
        // A number is read too; a fraction or a word is not.
        let p: PullRequest = serde_json::from_value(pr(json!(4_000_000_000u64))).unwrap();
        assert_eq!(p.full_database_id, 4_000_000_000);
        assert!(serde_json::from_value::<PullRequest>(pr(json!("12.5"))).is_err());
    }

    #[test]
    fn an_unreadable_node_is_kept_as_its_reason_not_dropped() {
        let p: PullRequest = serde_json::from_value(pr(json!("2900000001"))).unwrap();
        let bad = p.reviews.nodes[1].0.as_ref().unwrap_err();
        assert!(bad.contains("BigInt"), "{bad}");
        // A pull request without its id does not read at all.
        let err = serde_json::from_value::<PullRequest>(pr(Value::Null)).unwrap_err();
        assert!(err.to_string().contains("BigInt"), "{err}");
        let mut missing = pr(json!("1"));
        missing.as_object_mut().unwrap().remove("fullDatabaseId");
        assert!(serde_json::from_value::<PullRequest>(missing).is_err());
    }
}
