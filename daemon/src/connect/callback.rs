//! The OAuth callback listener of the web flow: HTTP/1.1 by hyper on 127.0.0.1, open only while
//! a web flow waits, and never the webhook listener. It checks everything before any token
//! exchange: loopback Host, one of each parameter, sizes, and a `state` that is known, unused
//! and unexpired.
//!
//! Why not tiny_http (the design card's choice for this listener, used here until issue 15):
//! its accept thread ends at the first failed accept and panics when it cannot clone an
//! accepted socket, both when descriptors run out, and the listener then holds its port and
//! answers nobody, so a waiting web flow never hears its callback. Here accepts back off and go
//! on (`crate::accept`), each connection has a head deadline, and connections are capped.

use super::{Connector, web_callback, web_refused};
use crate::crypto::Secret;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue, REFERRER_POLICY};
use hyper::{Method, Request, Response, StatusCode};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Longest callback URL we read; GitHub's are far shorter.
const MAX_URL: usize = 4096;
const MAX_PARAM: usize = 1024;

/// The callback's path (the web flow's redirect URI is `http://127.0.0.1:PORT` + this).
pub const PATH: &str = "/oauth/callback";

/// The "Authorization callback URL" to register for the OAuth app: GitHub lets a loopback
/// redirect take any port, so the listener's ephemeral port still matches.
pub fn registered_callback_url() -> String {
    format!("http://127.0.0.1{PATH}")
}

/// The listener's port, starting it if needed. Called on the runtime (a flow's start).
pub fn ensure(conn: &Arc<Connector>) -> std::io::Result<u16> {
    let mut slot = conn
        .callback
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(l) = slot.as_ref() {
        return Ok(l.port);
    }
    let addr = conn
        .live()
        .github
        .oauth_addr
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "--oauth-addr {addr} is not a loopback address"
        )));
    }
    let weak = Arc::downgrade(conn);
    let listener = crate::loopback::open(addr, "oauth callback", move |port| {
        move |req| {
            let conn = weak.clone();
            async move { respond(&conn, port, req).await }
        }
    })?;
    let port = listener.port;
    *slot = Some(listener);
    Ok(port)
}

/// Close the listener (no web flow waits any more).
pub fn stop(c: &Connector) {
    let taken = c
        .callback
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    drop(taken);
}

/// One request: the page for the browser, with headers that keep it out of caches and
/// referrers.
async fn respond(
    conn: &Weak<Connector>,
    port: u16,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (status, page) = match conn.upgrade() {
        Some(conn) => answer(&conn, port, &req).await,
        None => (503, page("Shutting down", "tidemark is stopping.")),
    };
    let mut resp = Response::new(Full::new(Bytes::from(page)));
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

/// Validate a callback and act on it. Returns the status and the page for the browser.
async fn answer(conn: &Arc<Connector>, port: u16, req: &Request<Incoming>) -> (u16, String) {
    if req.method() != Method::GET {
        return (
            405,
            page(
                "Method not allowed",
                "This address only takes GitHub's redirect.",
            ),
        );
    }
    let url = req
        .uri()
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    if url.len() > MAX_URL {
        return (
            414,
            page("Request too long", "This is not a GitHub callback."),
        );
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if path != PATH {
        return (
            404,
            page("Not found", "This address only takes GitHub's redirect."),
        );
    }
    // DNS rebinding: a page elsewhere could point a name at 127.0.0.1; only our literal hosts.
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        tracing::warn!("OAuth callback refused: not a loopback Host header");
        return (
            400,
            page(
                "Refused",
                "This callback did not come to a loopback address.",
            ),
        );
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.iter().any(|(seen, _)| *seen == k) {
            tracing::warn!(param = %k, "OAuth callback refused: duplicated parameter");
            return (400, page("Refused", "The callback repeated a parameter."));
        }
        if v.len() > MAX_PARAM {
            return (400, page("Refused", "A callback parameter is too long."));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(state) = get("state").filter(|s| !s.is_empty()) else {
        tracing::warn!("OAuth callback refused: no state");
        return (
            400,
            page(
                "Refused",
                "The callback carried no state; nothing was done.",
            ),
        );
    };
    let Some((flow, web)) = conn.take_web(state) else {
        tracing::warn!("OAuth callback refused: unknown, used or expired state");
        return (
            400,
            page(
                "Link expired or already used",
                "This authorization is unknown, was already used, or expired. Start again from your terminal.",
            ),
        );
    };
    if let Some(error) = get("error") {
        web_refused(conn, flow, error);
        return (
            200,
            page(
                "Not connected",
                "The authorization was not granted; nothing was stored. You can close this tab.",
            ),
        );
    }
    let Some(code) = get("code").filter(|c| !c.is_empty()) else {
        web_refused(conn, flow, "no_code");
        return (
            400,
            page(
                "Refused",
                "GitHub's redirect carried no code; nothing was stored.",
            ),
        );
    };
    let code = Secret::new(code);
    // On a task of its own: the exchange finishes even if the browser goes away.
    let task_conn = conn.clone();
    let exchange = tokio::spawn(async move { web_callback(&task_conn, flow, web, code).await });
    match tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map(|joined| joined.unwrap_or_else(|e| Err(format!("the exchange failed: {e}"))))
    {
        Ok(Ok(Some(login))) => (
            200,
            page(
                "Authorized",
                &format!(
                    "GitHub signed this browser in as <b>@{}</b>. Return to your terminal and \
                     confirm that account: nothing is stored until you do.",
                    html_escape(&login)
                ),
            ),
        ),
        Ok(Ok(None)) => (
            200,
            page(
                "Authorized",
                "tidemark received GitHub's authorization. Return to your terminal to finish.",
            ),
        ),
        Ok(Err(reason)) => (
            200,
            page(
                "Not connected",
                &format!(
                    "GitHub did not complete the authorization: {}. Return to your terminal.",
                    html_escape(&reason)
                ),
            ),
        ),
        Err(_) => (
            200,
            page(
                "Still working",
                "tidemark is still talking to GitHub. Return to your terminal.",
            ),
        ),
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tidemark: {title}</title></head>\
         <body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto\">\
         <h1>{title}</h1><p>{body}</p></body></html>"
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
