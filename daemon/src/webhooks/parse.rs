//! The pure half of a delivery, with no sockets or store: the signature check the receiver
//! makes (`check_signature`) and the typed view the applier reads (`parse`). `verify_and_parse`
//! is the two in order; the fuzz target and the property tests call it, so what they exercise
//! is the production code.

use super::verify::{VerifyError, parse_header, verify};
use serde::Deserialize;

/// What the applier needs of a delivery. GitHub leaves fields out from one kind of payload to
/// another (a `pull_request_review` body's pull request has no `merged`, `additions` or
/// `deletions`), so only what is named here is read, and every part of it is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Event`, as sent.
    pub event: String,
    pub action: Option<String>,
    /// The pull request the body names: `pull_request.number`, else the top-level `number`.
    pub pull_request: Option<u64>,
    /// An `issues` event's issue number.
    pub issue: Option<u64>,
    pub repository: Option<Repository>,
    /// A `push`: the branch's head before it and the commits it lists (GitHub lists at most
    /// 2,048; the applier re-reads the pull requests these belong to, so none are missed).
    pub pushed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: u64,
    pub full_name: Option<String>,
}

/// Why a delivery is refused: its signature, the only thing checked before it is stored.
pub type Refusal = VerifyError;

/// Is `body` signed by one of `secrets`, as `signature_header` (`X-Hub-Signature-256`) says?
pub fn check_signature(
    secrets: &[&[u8]],
    signature_header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), Refusal> {
    let signature = parse_header(signature_header)?;
    verify(secrets, body, &signature)
}

/// The typed view of a verified delivery. A body that is not JSON of the expected shape names
/// nothing (the delivery still counts as received); this never refuses and never panics.
pub fn parse(event: &str, body: &[u8]) -> Delivery {
    let named: Named = serde_json::from_slice(body).unwrap_or_default();
    Delivery {
        event: event.to_string(),
        action: named.action,
        pull_request: named.pull_request.map(|p| p.number).or(named.number),
        issue: named.issue.map(|i| i.number).filter(|_| event == "issues"),
        repository: named.repository.map(|r| Repository {
            id: r.id,
            full_name: r.full_name,
        }),
        pushed: pushed_shas(named.before, named.commits),
    }
}

/// A delivery checked and then parsed: what the receiver and the applier do between them.
pub fn verify_and_parse(
    secrets: &[&[u8]],
    signature_header: Option<&[u8]>,
    event: &str,
    body: &[u8],
) -> Result<Delivery, Refusal> {
    check_signature(secrets, signature_header, body)?;
    Ok(parse(event, body))
}

/// The repository id an unverified body names, read only to pick the secret to verify it
/// with (deliveries without `X-GitHub-Hook-ID`). Nothing else of the body is read.
pub fn unverified_repository_id(body: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Repo {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Body {
        repository: Option<Repo>,
    }
    Some(serde_json::from_slice::<Body>(body).ok()?.repository?.id)
}

/// The organization id an unverified body names when it names no repository (an organization
/// hook's deliveries, e.g. the `ping` GitHub sends before we have stored the new hook's id):
/// read only to pick the secret to verify it with.
pub fn unverified_organization_id(body: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Org {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Body {
        repository: Option<serde::de::IgnoredAny>,
        organization: Option<Org>,
    }
    let b = serde_json::from_slice::<Body>(body).ok()?;
    if b.repository.is_some() {
        return None;
    }
    Some(b.organization?.id)
}

#[derive(Deserialize, Default)]
struct Named {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    pull_request: Option<Numbered>,
    #[serde(default)]
    issue: Option<Numbered>,
    #[serde(default)]
    repository: Option<RepoRef>,
    // Any JSON here (no event's shape is trusted to match ours): read by `pushed_shas`.
    #[serde(default)]
    before: Option<serde_json::Value>,
    #[serde(default)]
    commits: Option<serde_json::Value>,
}

/// `before` and each `commits[].id` that are strings, not the all-zero "no commit" sha.
fn pushed_shas(
    before: Option<serde_json::Value>,
    commits: Option<serde_json::Value>,
) -> Vec<String> {
    let listed = match commits {
        Some(serde_json::Value::Array(items)) => items,
        _ => Vec::new(),
    };
    before
        .into_iter()
        .chain(
            listed
                .into_iter()
                .filter_map(|mut c| c.get_mut("id").map(serde_json::Value::take)),
        )
        .filter_map(|v| match v {
            serde_json::Value::String(sha) => Some(sha),
            _ => None,
        })
        .filter(|sha| !sha.is_empty() && sha.bytes().any(|b| b != b'0'))
        .collect()
}

#[derive(Deserialize)]
struct Numbered {
    number: u64,
}

#[derive(Deserialize)]
struct RepoRef {
    id: u64,
    #[serde(default)]
    full_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::verify::sign;

    fn repo(id: u64, name: &str) -> Option<Repository> {
        Some(Repository {
            id,
            full_name: Some(name.into()),
        })
    }

    #[test]
    fn a_review_body_names_its_pull_request_without_merged_or_sizes() {
        let body = br#"{"action":"submitted","review":{"id":9,"state":"approved"},
            "pull_request":{"number":42,"state":"open","title":"t"},
            "repository":{"id":7,"full_name":"acme/api","created_at":"2024-01-01T00:00:00Z"},
            "sender":{"login":"octocat"}}"#;
        let d = verify_and_parse(
            &[b"s"],
            Some(sign(b"s", body).as_bytes()),
            "pull_request_review",
            body,
        );
        assert_eq!(
            d,
            Ok(Delivery {
                event: "pull_request_review".into(),
                action: Some("submitted".into()),
                pull_request: Some(42),
                issue: None,
                repository: repo(7, "acme/api"),
                pushed: vec![],
            })
        );
    }

    #[test]
    fn an_issues_event_names_its_issue_and_no_pull_request() {
        let body = br#"{"action":"unlabeled","issue":{"number":12,"labels":[]},"repository":{"id":7,"full_name":"acme/api"}}"#;
        let d = parse("issues", body);
        assert_eq!((d.issue, d.pull_request), (Some(12), None));
        // Another event's `issue` (a comment's) is not an incident to read again.
        assert_eq!(parse("issue_comment", body).issue, None);
    }

    #[test]
    fn shapes_github_sends() {
        // `pull_request` events also carry the number at the top level.
        let d = parse("pull_request", br#"{"action":"closed","number":3,"pull_request":{"number":3,"merged":true,"additions":1,"deletions":2}}"#);
        assert_eq!(d.pull_request, Some(3));
        let d = parse("pull_request", br#"{"number":5}"#);
        assert_eq!(d.pull_request, Some(5));
        // A push body's repository has Unix-time integers; only id and full_name are read.
        let d = parse("push", br#"{"ref":"refs/heads/main","repository":{"id":1,"full_name":"a/b","created_at":1700000000}}"#);
        assert_eq!((d.pull_request, d.repository), (None, repo(1, "a/b")));
        // A push names the branch's previous head and the commits it lists; a new branch's
        // all-zero `before` is no commit; other shapes of these fields are ignored.
        let d = parse(
            "push",
            br#"{"before":"aaa1","after":"ccc3","commits":[{"id":"bbb2"},{"id":"ccc3"},{"id":7},{}]}"#,
        );
        assert_eq!(d.pushed, ["aaa1", "bbb2", "ccc3"]);
        let zeros = format!(
            r#"{{"before":"{}","commits":[{{"id":"d4"}}]}}"#,
            "0".repeat(40)
        );
        assert_eq!(parse("push", zeros.as_bytes()).pushed, ["d4"]);
        let d = parse("pull_request", br#"{"number":5,"commits":3,"before":null}"#);
        assert_eq!((d.pull_request, d.pushed.len()), (Some(5), 0));
        let d = parse(
            "repository",
            br#"{"action":"renamed","repository":{"id":2}}"#,
        );
        assert_eq!(d.action.as_deref(), Some("renamed"));
        assert_eq!(d.repository.map(|r| (r.id, r.full_name)), Some((2, None)));
    }

    #[test]
    fn bodies_of_another_shape_name_nothing() {
        for body in [
            &b""[..],
            b"not json",
            b"[]",
            b"null",
            br#"{"number":-1}"#,
            br#"{"pull_request":{}}"#,
            br#"{"repository":{"full_name":"a/b"}}"#,
            br#"{"action":7,"repository":{"id":1}}"#,
            b"{\"action\":\"\xff\"}",
        ] {
            let d = parse("pull_request", body);
            assert_eq!(
                d,
                Delivery {
                    event: "pull_request".into(),
                    ..Delivery::default()
                },
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_signature_is_checked_before_anything_is_parsed() {
        let body = br#"{"repository":{"id":1}}"#;
        let good = sign(b"s", body);
        assert_eq!(
            check_signature(&[b"s"], Some(good.as_bytes()), body),
            Ok(())
        );
        assert_eq!(
            verify_and_parse(&[b"t"], Some(good.as_bytes()), "push", body),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_and_parse(&[b"s"], None, "push", body),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify_and_parse(&[b"s"], Some(b"sha256=00"), "push", body),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            verify_and_parse(&[], Some(good.as_bytes()), "push", body),
            Err(VerifyError::Mismatch),
            "no secret accepts nothing"
        );
    }

    #[test]
    fn the_unverified_repository_id() {
        assert_eq!(
            unverified_repository_id(br#"{"repository":{"id":9}}"#),
            Some(9)
        );
        // Only `repository.id` is read: the rest may have any shape.
        assert_eq!(
            unverified_repository_id(br#"{"action":7,"pull_request":{},"repository":{"id":9}}"#),
            Some(9)
        );
        for body in [
            &b""[..],
            b"{}",
            br#"{"repository":null}"#,
            br#"{"repository":{"id":"9"}}"#,
        ] {
            assert_eq!(unverified_repository_id(body), None);
        }
    }

    #[test]
    fn the_unverified_organization_id_only_without_a_repository() {
        // An organization hook's delivery: no repository.
        assert_eq!(
            unverified_organization_id(
                br#"{"action":"member_added","membership":{},"organization":{"id":7}}"#
            ),
            Some(7)
        );
        // A repository hook's delivery names its org too: the repository decides.
        assert_eq!(
            unverified_organization_id(br#"{"repository":{"id":9},"organization":{"id":7}}"#),
            None
        );
        for body in [&b""[..], b"{}", br#"{"organization":{"id":"7"}}"#] {
            assert_eq!(unverified_organization_id(body), None);
        }
    }
}
