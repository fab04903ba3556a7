//! The OAuth callback listener of the web flow: tiny_http on 127.0.0.1, open only while a web
//! flow waits, and never the webhook listener. It checks everything before any token exchange:
//! loopback Host, one of each parameter, sizes, and a `state` that is known, unused and unexpired.

use super::{Connector, web_callback, web_refused};
use crate::crypto::Secret;
use crate::rpc::Shared;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Longest callback URL we read; GitHub's are far shorter.
const MAX_URL: usize = 4096;
const MAX_PARAM: usize = 1024;

pub struct Listener {
    server: Arc<tiny_http::Server>,
    pub port: u16,
}

/// The listener's port, starting it if needed.
/// The "Authorization callback URL" to register for the OAuth app: GitHub lets a loopback
/// redirect take any port, so the listener's ephemeral port still matches.
/// The callback's path (the web flow's redirect URI is `http://127.0.0.1:PORT` + this).
pub const PATH: &str = "/oauth/callback";

pub fn registered_callback_url() -> String {
    format!("http://127.0.0.1{PATH}")
}

pub fn ensure(shared: &Arc<Shared>) -> std::io::Result<u16> {
    let c = &shared.connector;
    let mut slot = c.callback.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = slot.as_ref() {
        return Ok(l.port);
    }
    let addr = c
        .live()
        .github
        .oauth_addr
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "--oauth-addr {addr} is not a loopback address"
        )));
    }
    let server = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| std::io::Error::other("the callback listener has no IP address"))?;
    let server = Arc::new(server);
    let weak = Arc::downgrade(shared);
    let runtime = tokio::runtime::Handle::current();
    let srv = server.clone();
    std::thread::Builder::new()
        .name("oauth-callback".into())
        .spawn(move || serve(srv, weak, runtime, port))?;
    tracing::info!(port, "OAuth callback listener open on 127.0.0.1");
    *slot = Some(Listener { server, port });
    Ok(port)
}

/// Close the listener (no web flow waits any more).
pub fn stop(c: &Connector) {
    let taken = c.callback.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(l) = taken {
        l.server.unblock();
        tracing::info!(port = l.port, "OAuth callback listener closed");
    }
}

fn serve(
    server: Arc<tiny_http::Server>,
    shared: Weak<Shared>,
    runtime: tokio::runtime::Handle,
    port: u16,
) {
    while let Ok(req) = server.recv() {
        let Some(shared) = shared.upgrade() else {
            break;
        };
        let (status, page) = answer(&shared, &runtime, port, &req);
        let response = tiny_http::Response::from_string(page)
            .with_status_code(status)
            .with_header(
                "Content-Type: text/html; charset=utf-8"
                    .parse::<tiny_http::Header>()
                    .expect("static header"),
            )
            .with_header(
                "Cache-Control: no-store"
                    .parse::<tiny_http::Header>()
                    .expect("static header"),
            )
            .with_header(
                "Referrer-Policy: no-referrer"
                    .parse::<tiny_http::Header>()
                    .expect("static header"),
            );
        let _ = req.respond(response);
    }
}

/// Validate a callback and act on it. Returns the status and the page for the browser.
fn answer(
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
    port: u16,
    req: &tiny_http::Request,
) -> (u16, String) {
    if *req.method() != tiny_http::Method::Get {
        return (
            405,
            page(
                "Method not allowed",
                "This address only takes GitHub's redirect.",
            ),
        );
    }
    let url = req.url();
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
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_string())
        .unwrap_or_default();
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
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
    let Some((flow, web)) = shared.connector.take_web(state) else {
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
        web_refused(shared, flow, error);
        return (
            200,
            page(
                "Not connected",
                "The authorization was not granted; nothing was stored. You can close this tab.",
            ),
        );
    }
    let Some(code) = get("code").filter(|c| !c.is_empty()) else {
        web_refused(shared, flow, "no_code");
        return (
            400,
            page(
                "Refused",
                "GitHub's redirect carried no code; nothing was stored.",
            ),
        );
    };
    let code = Secret::new(code);
    let (tx, rx) = std::sync::mpsc::channel();
    let task_shared = shared.clone();
    runtime.spawn(async move {
        let _ = tx.send(web_callback(&task_shared, flow, web, code).await);
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
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
