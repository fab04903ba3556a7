//! The webhook listener's HTTP/1.1 against a daemon whose store is seeded (GitHub unreachable,
//! so deliveries stay in the inbox): keep-alive bursts, every framing HTTP allows, ambiguous
//! framing refused, a delivery from a hook id not stored yet matched by its repository,
//! refusals from the head before any body byte, and a stalled body cut after its grace.

use std::io::Write;
use std::time::Duration;
use tidemark_tests::harness::{Daemon, Sandbox};

/// A daemon whose store has a team with this webhook secret and `octo-org/hello-world` under
/// hook `HOOK`, GitHub unreachable (deliveries stay in the inbox); its listener's address.
const HOOK: u64 = 77;
const RAW_SECRET: &str = "raw-secret";

/// The body of delivery `guid`: each delivery's its own (the same body again under another
/// id is a replay, acknowledged but not stored), all of one length.
fn raw_body(guid: &str) -> Vec<u8> {
    format!(
        r#"{{"action":"opened","number":1,"repository":{{"id":1296269}},"pull_request":{{"number":1}},"zen":"{guid:<32}"}}"#
    )
    .into_bytes()
}

fn seeded_daemon() -> (Sandbox, Daemon, String) {
    use tidemark_tests::harness::seed_connected_team;
    let sandbox = Sandbox::new();
    let team = seed_connected_team(&sandbox, "platform", "gho_t", "ghr_t", RAW_SECRET);
    {
        let store = tidemark_tests::harness::open_store(&sandbox);
        store.set_repo_webhook(team, 1_296_269, Some(HOOK)).unwrap();
        store.flush().unwrap();
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| {
        cmd.env("TIDEMARK_GITHUB_API_URL", format!("http://{closed}"))
            .env("RUST_LOG", "info");
    });
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();
    (sandbox, daemon, addr)
}

/// A delivery's request head (no body), signed for `raw_body(guid)`.
fn raw_head(addr: &str, guid: &str, framing: &str) -> String {
    let signature = tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), &raw_body(guid));
    format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {framing}X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {guid}\r\n\
         X-GitHub-Hook-ID: {HOOK}\r\nX-Hub-Signature-256: {signature}\r\n\r\n"
    )
}

/// One response: its status and head (lower-cased); None if the connection ended first.
fn read_response(c: &mut std::net::TcpStream) -> Option<(u16, String)> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match c.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut rest = vec![0u8; length];
    c.read_exact(&mut rest).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

fn raw_connect(addr: &str) -> std::net::TcpStream {
    let c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}

/// Many keep-alive connections opened at once (a tunnel's pool, a burst after an outage) are all
/// served while every one of them stays open: none waits for another connection to close.
#[test]
fn a_burst_of_keep_alive_connections_is_served_at_once() {
    let (_sandbox, daemon, addr) = seeded_daemon();
    const CONNECTIONS: usize = 48;
    let all_answered = std::sync::Arc::new(std::sync::Barrier::new(CONNECTIONS));
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (addr, all_answered) = (addr.clone(), all_answered.clone());
            std::thread::spawn(move || {
                let mut c = raw_connect(&addr);
                let mut statuses = Vec::new();
                for n in 0..2 {
                    let guid = format!("burst-{i}-{n}");
                    let length = format!("Content-Length: {}\r\n", raw_body(&guid).len());
                    c.write_all(raw_head(&addr, &guid, &length).as_bytes())
                        .unwrap();
                    c.write_all(&raw_body(&guid)).unwrap();
                    statuses.push(read_response(&mut c).map(|(s, _)| s));
                    if n == 0 {
                        // Hold this connection open until every connection had its first answer.
                        all_answered.wait();
                    }
                }
                statuses
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), [Some(202), Some(202)]);
    }
    drop(daemon);
}

/// The listener's HTTP/1.1: chunked bodies, `Expect: 100-continue`, pipelined requests and
/// HTTP/1.0 are served; a request whose framing is ambiguous is refused and its connection
/// closed.
#[test]
fn deliveries_framed_every_way_http_allows() {
    let (_sandbox, daemon, addr) = seeded_daemon();
    let length = format!("Content-Length: {}\r\n", raw_body("").len());

    // Chunked, in three chunks, one with an extension; then a second request on the connection.
    let mut c = raw_connect(&addr);
    let body = raw_body("chunked");
    let (a, b) = body.split_at(10);
    let (b, d) = b.split_at(30);
    let mut req = raw_head(&addr, "chunked", "Transfer-Encoding: chunked\r\n").into_bytes();
    for (n, part) in [a, b, d].iter().enumerate() {
        req.extend_from_slice(
            format!("{:x}{}\r\n", part.len(), if n == 1 { ";ext=1" } else { "" }).as_bytes(),
        );
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    c.write_all(&req).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));
    // The same delivery again, by length: a duplicate, acknowledged.
    c.write_all(raw_head(&addr, "chunked", &length).as_bytes())
        .unwrap();
    c.write_all(&raw_body("chunked")).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(200));

    // Expect: 100-continue: the interim answer, then the body, then the final answer.
    let mut c = raw_connect(&addr);
    let expect = format!("{length}Expect: 100-continue\r\n");
    c.write_all(raw_head(&addr, "expect", &expect).as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(100));
    c.write_all(&raw_body("expect")).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));

    // Two requests in one write, answered in order.
    let mut c = raw_connect(&addr);
    let mut two = Vec::new();
    for guid in ["pipelined-1", "pipelined-2"] {
        two.extend_from_slice(raw_head(&addr, guid, &length).as_bytes());
        two.extend_from_slice(&raw_body(guid));
    }
    c.write_all(&two).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));

    // HTTP/1.0: answered, then closed.
    let mut c = raw_connect(&addr);
    let head = raw_head(&addr, "http10", &length).replacen("HTTP/1.1", "HTTP/1.0", 1);
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&raw_body("http10")).unwrap();
    let (status, _) = read_response(&mut c).unwrap();
    assert_eq!(status, 202);
    // HTTP/1.0 closes unless asked to keep alive.
    assert!(read_response(&mut c).is_none());

    // Content-Length and Transfer-Encoding both, or two lengths: 400, closed, nothing stored.
    for framing in [
        format!("{length}Transfer-Encoding: chunked\r\n"),
        format!("{length}Content-Length: 5\r\n"),
        "Transfer-Encoding: gzip\r\n".to_string(),
    ] {
        let mut c = raw_connect(&addr);
        c.write_all(raw_head(&addr, "ambiguous", &framing).as_bytes())
            .unwrap();
        c.write_all(&raw_body("ambiguous")).unwrap();
        assert_eq!(read_response(&mut c).map(|r| r.0), Some(400), "{framing:?}");
        assert!(read_response(&mut c).is_none());
    }
    // A malformed chunk size.
    let mut c = raw_connect(&addr);
    c.write_all(raw_head(&addr, "bad-chunk", "Transfer-Encoding: chunked\r\n").as_bytes())
        .unwrap();
    c.write_all(b"zz\r\n{}\r\n0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(400));

    // What was accepted is in the store; "ambiguous" and "bad-chunk" are not.
    assert!(daemon.stop().success());
    let store = tidemark_tests::harness::open_store(&_sandbox);
    let team = store.teams().unwrap()[0].id;
    let mut guids = store.inbox_guids(team).unwrap();
    guids.sort();
    assert_eq!(
        guids,
        ["chunked", "expect", "http10", "pipelined-1", "pipelined-2"]
    );
}

/// GitHub pings a new hook at once, possibly before the daemon has stored the hook's id: a
/// delivery from a hook id not known yet is matched by the repository it names, and must still
/// be signed with that team's secret.
#[test]
fn a_delivery_from_a_hook_not_recorded_yet_is_matched_by_its_repository() {
    let (_sandbox, _daemon, addr) = seeded_daemon();
    let length = format!("Content-Length: {}\r\n", raw_body("").len());
    let send = |guid: &str, body: &[u8], signature: Option<String>| {
        let mut head = raw_head(&addr, guid, &length).replace(
            &format!("X-GitHub-Hook-ID: {HOOK}"),
            "X-GitHub-Hook-ID: 4242",
        );
        if let Some(sig) = signature {
            let good =
                tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), &raw_body(guid));
            head = head.replace(&good, &sig);
        }
        let mut c = raw_connect(&addr);
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(body).unwrap();
        read_response(&mut c).map(|r| r.0)
    };
    assert_eq!(send("new-hook", &raw_body("new-hook"), None), Some(202));
    let forged = raw_body("new-hook-forged");
    let wrong = tidemark_daemon::webhooks::verify::sign(b"another secret", &forged);
    assert_eq!(send("new-hook-forged", &forged, Some(wrong)), Some(401));
    // A repository nobody tracks: refused whatever the signature.
    let other = String::from_utf8_lossy(&raw_body("untracked"))
        .replace("1296269", "1296270")
        .into_bytes();
    let signed = tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), &other);
    assert_eq!(send("untracked", &other, Some(signed)), Some(401));
    // Such a body is kept only up to 1 MiB until it names its owner (GitHub's own deliveries
    // carry the hook's target headers and never need it).
    use tidemark_daemon::webhooks::receiver::FROM_BODY_MAX;
    let big = vec![b' '; FROM_BODY_MAX + 1];
    let mut c = raw_connect(&addr);
    let head = raw_head(&addr, "big", &format!("Content-Length: {}\r\n", big.len())).replace(
        &format!("X-GitHub-Hook-ID: {HOOK}"),
        "X-GitHub-Hook-ID: 4242",
    );
    c.write_all(head.as_bytes()).unwrap();
    let _ = c.write_all(&big);
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(413));
}

/// What the head alone refuses is refused before any of the body is read (issue 15): the
/// answer comes while the client has sent none of the 10 MB it promised.
#[test]
fn a_delivery_without_a_signature_headers_or_owner_is_refused_from_its_head() {
    let (_sandbox, _daemon, addr) = seeded_daemon();
    let promised = "Content-Length: 10000000\r\n";
    let signature = |guid: &str| {
        tidemark_daemon::webhooks::verify::sign(RAW_SECRET.as_bytes(), &raw_body(guid))
    };
    let cases = [
        // No signature, and one that is not `sha256=` and 64 hex digits.
        (
            raw_head(&addr, "unsigned", promised).replace(
                &format!("X-Hub-Signature-256: {}\r\n", signature("unsigned")),
                "",
            ),
            401,
        ),
        (
            raw_head(&addr, "short", promised).replace(&signature("short"), "sha256=00"),
            401,
        ),
        // No X-GitHub-Event.
        (
            raw_head(&addr, "no-event", promised).replace("X-GitHub-Event: pull_request\r\n", ""),
            400,
        ),
        // A hook we do not know, created on a repository no team tracks.
        (
            raw_head(&addr, "unknown", promised)
                .replace(
                    &format!("X-GitHub-Hook-ID: {HOOK}"),
                    "X-GitHub-Hook-ID: 4242",
                )
                .replace(
                    "\r\n\r\n",
                    "\r\nX-GitHub-Hook-Installation-Target-Type: repository\r\n\
                     X-GitHub-Hook-Installation-Target-ID: 1296270\r\n\r\n",
                ),
            401,
        ),
    ];
    for (head, want) in cases {
        let mut c = raw_connect(&addr);
        c.write_all(head.as_bytes()).unwrap();
        let got = read_response(&mut c).map(|r| r.0);
        assert_eq!(got, Some(want), "{head}");
    }
}

/// A body that stops arriving is cut once its grace is over (408, connection closed), well
/// before the overall body timeout; the listener serves the next delivery as usual.
#[test]
fn a_body_that_stops_arriving_is_cut_after_its_grace() {
    use tidemark_daemon::webhooks::receiver::BODY;
    let (_sandbox, _daemon, addr) = seeded_daemon();
    let mut c = raw_connect(&addr);
    c.set_read_timeout(Some(BODY.timeout + Duration::from_secs(5)))
        .unwrap();
    let started = std::time::Instant::now();
    c.write_all(raw_head(&addr, "trickle", "Content-Length: 100000\r\n").as_bytes())
        .unwrap();
    c.write_all(&[b' '; 100]).unwrap();
    let (status, head) = read_response(&mut c).unwrap();
    let took = started.elapsed();
    assert_eq!(status, 408);
    assert!(head.contains("connection: close"), "{head}");
    assert!(
        took >= BODY.grace && took < BODY.timeout,
        "cut after {took:?} (grace {:?})",
        BODY.grace
    );
    assert!(read_response(&mut c).is_none(), "closed");
    let mut c = raw_connect(&addr);
    let body = raw_body("after-the-trickle");
    let length = format!("Content-Length: {}\r\n", body.len());
    c.write_all(raw_head(&addr, "after-the-trickle", &length).as_bytes())
        .unwrap();
    c.write_all(&body).unwrap();
    assert_eq!(read_response(&mut c).map(|r| r.0), Some(202));
}
