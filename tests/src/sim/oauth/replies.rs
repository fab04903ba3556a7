//! How the web host answers: the token endpoint's form-or-JSON answers and its errors in GitHub's
//! words, and the HTML pages of the browser side.

use crate::sim::api::DOCS;
use crate::sim::http::Response;
use serde_json::{Map, Value};

const TOKEN_ERRORS_DOCS: &str = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
const DEVICE_ERRORS_DOCS: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

/// A value of the token endpoint's answer.
pub(super) enum V {
    S(String),
    N(u64),
}

/// The token endpoint's answer, as JSON or form, in the order GitHub writes the form.
pub(super) fn answer(json_wanted: bool, status: u16, fields: Vec<(&str, V)>) -> Response {
    if json_wanted {
        let map: Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    match v {
                        V::S(s) => Value::String(s),
                        V::N(n) => Value::from(n),
                    },
                )
            })
            .collect();
        let mut r = Response::new(status);
        r.body = serde_json::to_vec(&Value::Object(map)).expect("JSON values serialise");
        r.header("content-type", "application/json; charset=utf-8")
    } else {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            match v {
                V::S(s) => form.append_pair(k, &s),
                V::N(n) => form.append_pair(k, &n.to_string()),
            };
        }
        Response::text(
            status,
            "application/x-www-form-urlencoded; charset=utf-8",
            form.finish(),
        )
    }
}

/// An OAuth error as GitHub words it, with HTTP 200.
pub(super) fn oauth_error(json_wanted: bool, error: &str) -> Response {
    oauth_error_with(json_wanted, error, Vec::new())
}

pub(super) fn oauth_error_with(json_wanted: bool, error: &str, extra: Vec<(&str, V)>) -> Response {
    let (description, uri) = match error {
        "incorrect_client_credentials" => (
            "The client_id and/or client_secret passed are incorrect.",
            format!("{TOKEN_ERRORS_DOCS}#incorrect-client-credentials"),
        ),
        "redirect_uri_mismatch" => (
            "The redirect_uri MUST match the registered callback URL for this application.",
            format!("{TOKEN_ERRORS_DOCS}#redirect-uri-mismatch2"),
        ),
        "bad_verification_code" => (
            "The code passed is incorrect or expired.",
            format!("{TOKEN_ERRORS_DOCS}#bad-verification-code"),
        ),
        "unsupported_grant_type" => (
            "The grant type is not supported.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "authorization_pending" => (
            "The authorization request is still pending.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "slow_down" => (
            "Too many requests have been made in the same timeframe.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "expired_token" => (
            "The `device_code` has expired.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "access_denied" => (
            "The authorization request was denied.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "incorrect_device_code" => (
            "The device_code provided is not valid.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "device_flow_disabled" => (
            "Device Flow must be explicitly enabled for this App",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "bad_refresh_token" => (
            "The refresh token passed is incorrect or expired.",
            format!("{TOKEN_ERRORS_DOCS}#bad-refresh-token"),
        ),
        _ => ("", DOCS.to_string()),
    };
    let mut fields = vec![
        ("error", V::S(error.into())),
        ("error_description", V::S(description.into())),
        ("error_uri", V::S(uri)),
    ];
    fields.extend(extra);
    answer(json_wanted, 200, fields)
}

pub(super) fn page(status: u16, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Response::text(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!DOCTYPE html>\n<html><head><title>{} · GitHub</title></head><body><h1>{}</h1><p>{}</p></body></html>\n",
            esc(title),
            esc(title),
            esc(text)
        ),
    )
}

pub(super) fn not_found_page() -> Response {
    page(
        404,
        "Page not found",
        "This is not the web page you are looking for.",
    )
}
