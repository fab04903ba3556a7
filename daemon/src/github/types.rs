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
    pub full_name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub pushed_at: Option<String>,
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
