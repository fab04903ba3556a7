//! A small HTTP/1.1 server on tokio for the simulator. Hand-written on `httparse` rather than a
//! framework because the simulator must misbehave on demand in ways frameworks prevent: reset a
//! connection mid-request, or send fewer body bytes than its `Content-Length` promised.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head we read, and largest body (GitHub's own webhook cap is 25 MB; nothing
/// we receive is bigger than a GraphQL query).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query, percent-decoding left to the router.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Path split on `/`, without empty segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The body as form fields or JSON object fields, whichever it is.
    pub fn fields(&self) -> Vec<(String, String)> {
        let json_body = self
            .header("content-type")
            .is_some_and(|c| c.contains("json"))
            || self.body.first() == Some(&b'{');
        if json_body {
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&self.body) {
                return map
                    .into_iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect();
            }
            return Vec::new();
        }
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

/// How to misbehave instead of answering properly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close with a TCP reset without answering.
    Reset,
    /// Send the head and half the body, then close.
    Truncate,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub fault: Option<Fault>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            fault: None,
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut r = Response::new(status);
        // Compact, as GitHub sends it.
        r.body = serde_json::to_vec(value).expect("JSON values serialise");
        r.header("content-type", "application/json; charset=utf-8")
    }

    /// A body that is already JSON.
    pub fn raw_json(status: u16, body: Vec<u8>) -> Response {
        Response::text(status, "application/json; charset=utf-8", body)
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        let mut r = Response::new(status);
        r.body = body.into();
        r.header("content-type", content_type)
    }

    pub fn redirect(location: &str) -> Response {
        Response::new(302).header("location", location)
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn faulty(mut self, fault: Fault) -> Response {
        self.fault = Some(fault);
        self
    }
}

pub type Handler =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// Accept connections until the task is dropped; each connection on its own task.
pub async fn serve(listener: TcpListener, handler: Handler) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
            let _ = connection(stream, handler).await;
        });
    }
}

pub fn local_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

async fn connection(mut stream: TcpStream, handler: Handler) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    loop {
        let Some((request, keep_alive, used)) = read_request(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        buf.drain(..used);
        let head_only = request.as_ref().is_ok_and(|r| r.method == "HEAD");
        let response = match request {
            Ok(req) => handler(req).await,
            Err(resp) => resp,
        };
        match response.fault {
            Some(Fault::Reset) => {
                // SO_LINGER 0: closing sends RST instead of FIN.
                let _ = socket2_linger_zero(&stream);
                return Ok(());
            }
            Some(Fault::Truncate) => {
                let head = head_bytes(&response, false);
                stream.write_all(&head).await?;
                stream
                    .write_all(&response.body[..response.body.len() / 2])
                    .await?;
                stream.flush().await?;
                return Ok(());
            }
            None => {}
        }
        let close = !keep_alive;
        let mut out = head_bytes(&response, close);
        if !head_only {
            out.extend_from_slice(&response.body);
        }
        stream.write_all(&out).await?;
        if close {
            stream.flush().await?;
            return Ok(());
        }
    }
}

fn socket2_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized linger struct.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn head_bytes(response: &Response, close: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n", response.body.len()));
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

type Parsed = (Result<Request, Response>, bool, usize);

/// Read one request. `None` when the peer closed cleanly between requests. A request we refuse
/// (too big, malformed) comes back as the error response to send, with keep-alive off.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Parsed>> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let method = req.method.unwrap_or("GET").to_string();
                    let target = req.path.unwrap_or("/").to_string();
                    let http10 = req.version == Some(0);
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let find =
                        |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    if find("transfer-encoding").is_some() {
                        let r = Response::json(
                            411,
                            &serde_json::json!({"message": "chunked request bodies are not supported; send Content-Length"}),
                        );
                        return Ok(Some((Err(r), false, buf.len())));
                    }
                    let len: usize = match find("content-length").map(|v| v.trim().parse()) {
                        None => 0,
                        Some(Ok(n)) => n,
                        Some(Err(_)) => {
                            let r = Response::json(
                                400,
                                &serde_json::json!({"message": "Problems parsing Content-Length"}),
                            );
                            return Ok(Some((Err(r), false, buf.len())));
                        }
                    };
                    if len > MAX_BODY {
                        let r = Response::json(
                            413,
                            &serde_json::json!({"message": "Request body too large"}),
                        );
                        return Ok(Some((Err(r), false, buf.len())));
                    }
                    while buf.len() < head_len + len {
                        if read_more(stream, buf).await? == 0 {
                            return Ok(None);
                        }
                    }
                    let keep_alive = match find("connection") {
                        Some(c) if c.eq_ignore_ascii_case("close") => false,
                        Some(c) if c.eq_ignore_ascii_case("keep-alive") => true,
                        _ => !http10,
                    };
                    let (path, query) = match target.split_once('?') {
                        Some((p, q)) => (p.to_string(), q),
                        None => (target.clone(), ""),
                    };
                    let query = url::form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect();
                    let body = buf[head_len..head_len + len].to_vec();
                    let req = Request {
                        method,
                        path,
                        query,
                        headers,
                        body,
                    };
                    return Ok(Some((Ok(req), keep_alive, head_len + len)));
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_HEAD {
                        let r = Response::json(
                            431,
                            &serde_json::json!({"message": "Request header fields too large"}),
                        );
                        return Ok(Some((Err(r), false, buf.len())));
                    }
                }
                Err(e) => {
                    let r = Response::json(
                        400,
                        &serde_json::json!({"message": format!("Bad request: {e}")}),
                    );
                    return Ok(Some((Err(r), false, buf.len())));
                }
            }
        }
        if read_more(stream, buf).await? == 0 {
            return Ok(None);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}
