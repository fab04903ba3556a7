//! GitHub's webhooks as GitHub defines them: the headers a delivery carries, and the bodies
//! that create a hook and change its events or configuration (REST "Create a repository
//! webhook", "Update a webhook configuration" and their organization twins). The receiver,
//! `doctor` and the hook keepers (`webhooks::hooks`, `org_hook`, `heal`) use these, never the
//! names themselves.

use crate::crypto::Secret;
use serde_json::{Value, json};

/// The headers of a delivery (HTTP header names are case-insensitive; these are lowercase).
pub mod headers {
    /// The event kind (`pull_request`, `ping`...).
    pub const EVENT: &str = "x-github-event";
    /// The delivery's GUID, kept by GitHub on redelivery.
    pub const DELIVERY: &str = "x-github-delivery";
    /// The id of the hook that sent it.
    pub const HOOK_ID: &str = "x-github-hook-id";
    /// Where the hook was created: `repository`, `organization`...
    pub const TARGET_TYPE: &str = "x-github-hook-installation-target-type";
    /// The id of that repository or organization.
    pub const TARGET_ID: &str = "x-github-hook-installation-target-id";
    /// `sha256=` and the HMAC-SHA256 of the body under the hook's secret.
    pub const SIGNATURE_256: &str = "x-hub-signature-256";
}

/// A hook's `config`: where it delivers, as JSON, signed with `secret`, TLS checked.
pub fn config(url: &str, secret: &Secret) -> Value {
    json!({ "url": url, "content_type": "json", "insecure_ssl": "0", "secret": secret.expose() })
}

/// The body that creates an active hook for `events`.
pub fn create(url: &str, secret: &Secret, events: &[&str]) -> Value {
    json!({ "name": "web", "active": true, "events": events, "config": config(url, secret) })
}

/// The body that sets a hook's events and makes it active.
pub fn activate(events: &[&str]) -> Value {
    json!({ "events": events, "active": true })
}

/// The body that sets a hook's events only.
pub fn events(events: &[&str]) -> Value {
    json!({ "events": events })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape GitHub documents for "Create a repository webhook".
    #[test]
    fn a_new_hook_delivers_json_to_our_url_with_tls_checked() {
        let body = create(
            "https://t.example/h",
            &Secret::new("s3".to_string()),
            &["ping"],
        );
        assert_eq!(body["name"], "web");
        assert_eq!(body["active"], true);
        assert_eq!(body["events"], json!(["ping"]));
        assert_eq!(body["config"]["url"], "https://t.example/h");
        assert_eq!(body["config"]["content_type"], "json");
        assert_eq!(body["config"]["insecure_ssl"], "0");
        assert_eq!(body["config"]["secret"], "s3");
    }
}
