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

/// GitHub's error body.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
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
