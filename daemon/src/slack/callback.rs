//! Where Slack's "Add to Slack" redirect comes back to. With a public URL (the tunnel, https,
//! which Slack's app settings require), the webhook listener serves [`PATH`] for us (see
//! `context/returns.rs`); without one, a loopback listener here: HTTP/1.1 by hyper on
//! 127.0.0.1, open only while a Slack flow waits (Slack itself refuses http redirect URLs, so
//! that serves the simulator and tests). As for GitHub's web flow, everything is checked
//! before the code is exchanged: GET, the path, a loopback Host (loopback only), few
//! parameters, one of each, sizes, and a `state` that is known, unused and unexpired.

use super::Slack;
use crate::crypto::Secret;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue, REFERRER_POLICY};
use hyper::{Method, Request, Response, StatusCode};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};

pub const PATH: &str = "/slack/callback";
const MAX_URL: usize = 4096;
const MAX_PARAM: usize = 1024;
const MAX_PARAMS: usize = 8;

/// The listener's port, opening it if needed.
pub fn ensure(slack: &Arc<Slack>) -> std::io::Result<u16> {
    let mut slot = slack
        .listener
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(l) = slot.as_ref() {
        return Ok(l.port);
    }
    let weak = Arc::downgrade(slack);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listener = crate::loopback::open(addr, "Slack callback", move |port| {
        move |req| {
            let slack = weak.clone();
            async move { respond(&slack, port, req).await }
        }
    })?;
    let port = listener.port;
    *slot = Some(listener);
    Ok(port)
}

/// Close the listener (no flow waits any more).
pub fn stop(slack: &Slack) {
    let taken = slack
        .listener
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    drop(taken);
}

/// A status and its page.
pub(super) fn page((status, title, text): (u16, &str, &str)) -> (u16, String) {
    (
        status,
        format!(
            "<!doctype html><meta charset=utf-8><title>tidemark: {title}</title>\
             <h1>{title}</h1><p>{text}</p>"
        ),
    )
}

async fn respond(slack: &Weak<Slack>, port: u16, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let answered = match slack.upgrade() {
        Some(s) => answer(&s, port, &req).await,
        None => (503, "Shutting down", "tidemark is stopping."),
    };
    let (status, body) = page(answered);
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

async fn answer(
    slack: &Slack,
    port: u16,
    req: &Request<Incoming>,
) -> (u16, &'static str, &'static str) {
    let refused = "This address only takes Slack's redirect; nothing was done.";
    if req.method() != Method::GET {
        return (405, "Method not allowed", refused);
    }
    let url = req
        .uri()
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    if url.len() > MAX_URL {
        return (414, "Request too long", refused);
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if path != PATH {
        return (404, "Not found", refused);
    }
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        tracing::warn!("Slack callback refused: not a loopback Host header");
        return (400, "Refused", refused);
    }
    answer_query(slack, query).await
}

/// The redirect's query, wherever it came (loopback or the public URL): one of each
/// parameter, sizes, then the flow its `state` names.
pub(super) async fn answer_query(slack: &Slack, query: &str) -> (u16, &'static str, &'static str) {
    let refused = "This address only takes Slack's redirect; nothing was done.";
    if query.len() > MAX_URL {
        return (414, "Request too long", refused);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        // Slack sends two or three; anyone may call the public URL.
        if params.len() >= MAX_PARAMS
            || params.iter().any(|(seen, _)| *seen == k)
            || v.len() > MAX_PARAM
        {
            return (400, "Refused", refused);
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(state) = get("state").filter(|s| !s.is_empty()) else {
        return (400, "Refused", refused);
    };
    let code = get("code").filter(|c| !c.is_empty()).map(Secret::new);
    match slack.callback(state, code, get("error")).await {
        Ok(()) => (
            200,
            "Slack connected",
            "Return to your terminal to pick the channel. You can close this tab.",
        ),
        Err("unknown") => {
            tracing::warn!("Slack callback refused: unknown, used or expired state");
            (
                400,
                "Link expired or already used",
                "This authorization is unknown, was already used, or expired. Start again from your terminal.",
            )
        }
        Err(_) => (
            200,
            "Not connected",
            "Slack did not connect; your terminal says why. You can close this tab.",
        ),
    }
}
