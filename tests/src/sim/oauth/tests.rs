//! The parts of OAuth that need no server: PKCE, scopes, error answers, Basic auth.

use super::replies::{V, oauth_error, oauth_error_with};
use super::*;
use serde_json::Value;

#[test]
fn s256_matches_rfc_7636_appendix_b() {
    assert_eq!(
        s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn scopes_split_on_spaces_and_commas_without_repeats() {
    assert_eq!(
        parse_scopes("repo read:org,repo  user"),
        vec!["repo", "read:org", "user"]
    );
    assert!(parse_scopes("").is_empty());
}

#[test]
fn errors_are_http_200_form_encoded_unless_json_is_asked_for() {
    let form = oauth_error(false, "bad_verification_code");
    assert_eq!(form.status, 200);
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&form.body)
        .into_owned()
        .collect();
    assert_eq!(fields["error"], "bad_verification_code");
    assert!(fields["error_uri"].starts_with("https://docs.github.com/"));
    let js = oauth_error_with(true, "slow_down", vec![("interval", V::N(10))]);
    let v: Value = serde_json::from_slice(&js.body).unwrap();
    assert_eq!(v["error"], "slow_down");
    assert_eq!(v["interval"], 10);
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
}

#[test]
fn basic_auth_decodes_form_encoded_parts() {
    let req = Request {
        method: "POST".into(),
        path: "/".into(),
        query: Vec::new(),
        headers: vec![(
            "authorization".into(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("Iv1.x:s%2Fecret")
            ),
        )],
        body: Vec::new(),
    };
    assert_eq!(basic_auth(&req), Some(("Iv1.x".into(), "s/ecret".into())));
}
