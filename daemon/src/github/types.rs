//! GitHub's JSON, as much of it as tidemark reads. Fields GitHub may leave out are optional.

use serde::Deserialize;

/// `GET /user`.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub login: String,
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// An item of `GET /user/orgs`.
#[derive(Debug, Clone, Deserialize)]
pub struct Org {
    pub login: String,
    pub id: u64,
    #[serde(default)]
    pub description: Option<String>,
}

/// GitHub's error body: a message, and for a 422 the validation errors behind it (each an
/// object with `resource`, `code`, `field` and sometimes `message`; some endpoints give bare
/// strings).
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

impl ErrorBody {
    /// The message with what the validation errors say, e.g. `Validation Failed (Hook already
    /// exists on this repository)`: the message alone says nothing a user can act on.
    pub fn describe(&self) -> String {
        let details: Vec<String> = self
            .errors
            .iter()
            .filter_map(|e| match e {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => match o.get("message").and_then(|m| m.as_str()) {
                    Some(m) => Some(m.to_string()),
                    None => {
                        let part = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("");
                        let (code, field) = (part("code"), part("field"));
                        (!code.is_empty()).then(|| {
                            if field.is_empty() {
                                code.to_string()
                            } else {
                                format!("{field}: {code}")
                            }
                        })
                    }
                },
                _ => None,
            })
            // GitHub's text, not ours: bounded and on one line.
            .map(|d| d.chars().filter(|c| !c.is_control()).take(200).collect())
            .take(3)
            .collect();
        if details.is_empty() {
            self.message.clone()
        } else {
            format!("{} ({})", self.message, details.join("; "))
        }
    }
}

#[cfg(test)]
mod error_body_tests {
    use super::ErrorBody;

    #[test]
    fn validation_errors_are_named() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"Hook already exists on this repository"}],"documentation_url":"https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook","status":"422"}"#,
        )
        .unwrap();
        assert_eq!(
            body.describe(),
            "Validation Failed (Hook already exists on this repository)"
        );
        let body: ErrorBody = serde_json::from_str(
            r#"{"message":"Validation Failed","errors":[{"resource":"Hook","code":"invalid","field":"content_type"}]}"#,
        )
        .unwrap();
        assert_eq!(body.describe(), "Validation Failed (content_type: invalid)");
        let body: ErrorBody = serde_json::from_str(r#"{"message":"Not Found"}"#).unwrap();
        assert_eq!(body.describe(), "Not Found");
    }
}

/// A repository, as `/orgs/{org}/repos` and `/repos/{owner}/{repo}` give it.
#[derive(Debug, Clone, Deserialize)]
pub struct Repo {
    pub id: u64,
    /// The GraphQL node id: kept across renames and transfers.
    #[serde(default)]
    pub node_id: Option<String>,
    pub full_name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub pushed_at: Option<String>,
    /// What the token's user may do there (`GET /repos/{o}/{r}` and lists with a user token).
    #[serde(default)]
    pub permissions: Option<Permissions>,
}

/// A repository's `permissions` for the authenticated user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Permissions {
    #[serde(default)]
    pub admin: bool,
}

/// `GET /user/memberships/orgs/{org}`: the authenticated user's membership.
#[derive(Debug, Clone, Deserialize)]
pub struct OrgMembership {
    /// `active` or `pending`.
    pub state: String,
    /// `admin` (an owner), `member` or `billing_manager`.
    pub role: String,
}

impl OrgMembership {
    /// An active owner of the organization.
    pub fn is_owner(&self) -> bool {
        self.state == "active" && self.role == "admin"
    }
}

/// A webhook (repository or organization), as `GET .../hooks/{id}` gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct HookInfo {
    pub id: u64,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub config: HookConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HookConfig {
    #[serde(default)]
    pub url: Option<String>,
}

/// An item of `GET /repos/{o}/{r}/hooks/{id}/deliveries`.
#[derive(Debug, Clone, Deserialize)]
pub struct HookDelivery {
    pub id: u64,
    pub guid: String,
    pub delivered_at: String,
    #[serde(default)]
    pub status_code: u16,
    #[serde(default)]
    pub event: String,
}
