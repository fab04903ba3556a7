//! SIGTERM while webhook deliveries pour in: the daemon exits within 5 s, and every delivery it
//! acknowledged (2xx) is in the store afterwards.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tidemark_daemon::lifecycle::store_dir;
use tidemark_daemon::store::Store;
use tidemark_tests::harness::{
    Daemon, Sandbox, seed_connected_team, signal, use_simulator, wait_until,
};
use tidemark_tests::sim::{Sim, SimConfig};

const SECRET: &str = "shutdown-test-webhook-secret";
const REPO_ID: u64 = 1_296_269;

/// POST one signed delivery (a body of its own: the same body again would be a replay,
/// acknowledged but not stored); Some(status) when an HTTP answer came back.
fn deliver(addr: &str, guid: &str) -> Option<u16> {
    let body = format!(
        r#"{{"zen":"Keep it logically awesome ({guid}).","hook_id":1,"repository":{{"id":{REPO_ID},"full_name":"octo-org/hello-world"}}}}"#
    );
    let sig = tidemark_daemon::webhooks::verify::sign(SECRET.as_bytes(), body.as_bytes());
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .ok()?;
    let request = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: ping\r\nX-GitHub-Delivery: {guid}\r\nX-Hub-Signature-256: {sig}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn sigterm_during_deliveries_exits_within_5_s_and_loses_no_acknowledged_delivery() {
    // GitHub calls the daemon makes (applying, healing) go to a simulator, never the network.
    let sim = Sim::start(SimConfig::default(), "127.0.0.1:0").unwrap();
    let sandbox = Sandbox::new();
    let team = seed_connected_team(
        &sandbox,
        "platform",
        "gho_shutdown_a",
        "ghr_shutdown_b",
        SECRET,
    );
    let daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let (acked, stop, addr) = (acked.clone(), stop.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let guid = format!("shutdown-{t}-{i}");
                    i += 1;
                    match deliver(&addr, &guid) {
                        Some(s) if (200..300).contains(&s) => acked.lock().unwrap().push(guid),
                        Some(_) => {}
                        // Refused: the listener is closed.
                        None => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        })
        .collect();
    wait_until(
        Duration::from_secs(30),
        "200 acknowledged deliveries",
        || (acked.lock().unwrap().len() >= 200).then_some(()),
    );
    let sent_at = Instant::now();
    let mut daemon = daemon;
    signal(daemon.pid(), libc::SIGTERM);
    let status = wait_until(Duration::from_secs(20), "tidemarkd to exit", || {
        daemon.child.try_wait().unwrap()
    });
    let took = sent_at.elapsed();
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().unwrap();
    }
    assert!(
        status.success(),
        "exit status {status}: {}",
        daemon.log_text()
    );
    assert!(took < Duration::from_secs(5), "took {took:?} to stop");

    let acked = acked.lock().unwrap().clone();
    let store = Store::open(&store_dir(&sandbox.data_dir())).unwrap();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|g| !store.delivery_seen(team, g).unwrap())
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged deliveries lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        lost.first()
    );
    eprintln!(
        "{} deliveries acknowledged; stopped in {took:?}",
        acked.len()
    );
}

/// Threads of `pid` named `name` (the receiver names each delivery's thread `webhook`).
/// The listener has read a request's head and is reading its body (the harness runs daemons
/// with RUST_LOG=trace).
fn in_hand(daemon: &Daemon) -> bool {
    daemon.log_text().contains("webhook request: head read")
}

#[test]
fn a_delivery_half_sent_at_sigterm_is_finished_stored_and_acknowledged() {
    let sim = Sim::start(SimConfig::default(), "127.0.0.1:0").unwrap();
    let sandbox = Sandbox::new();
    let team = seed_connected_team(&sandbox, "platform", "gho_half_a", "ghr_half_b", SECRET);
    let mut daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();
    // Half of the body is sent, then SIGTERM, then the rest.
    let zen = "z".repeat(4096);
    let body = format!(r#"{{"zen":"{zen}","hook_id":1,"repository":{{"id":{REPO_ID}}}}}"#);
    let sig = tidemark_daemon::webhooks::verify::sign(SECRET.as_bytes(), body.as_bytes());
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: {addr}\r\nX-GitHub-Event: ping\r\n\
         X-GitHub-Delivery: half-sent\r\nX-Hub-Signature-256: {sig}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    wait_until(
        Duration::from_secs(10),
        "the listener to have the delivery in hand",
        || in_hand(&daemon).then_some(()),
    );
    let sent_at = Instant::now();
    signal(daemon.pid(), libc::SIGTERM);
    wait_until(
        Duration::from_secs(5),
        "the daemon to begin shutting down",
        || {
            daemon
                .log_text()
                .contains("SIGTERM: shutting down")
                .then_some(())
        },
    );
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 202"),
        "the delivery in hand was not finished: {answer:?}\n{}",
        daemon.log_text()
    );
    let status = wait_until(Duration::from_secs(20), "tidemarkd to exit", || {
        daemon.child.try_wait().unwrap()
    });
    assert!(status.success());
    assert!(sent_at.elapsed() < Duration::from_secs(5));
    // New deliveries are refused once it stops.
    assert!(deliver(&addr, "after-stop").is_none());
    let store = Store::open(&store_dir(&sandbox.data_dir())).unwrap();
    assert!(store.delivery_seen(team, "half-sent").unwrap());
}

#[test]
fn a_stalled_sender_does_not_hold_up_the_exit_beyond_5_s() {
    let sim = Sim::start(SimConfig::default(), "127.0.0.1:0").unwrap();
    let sandbox = Sandbox::new();
    seed_connected_team(&sandbox, "platform", "gho_stall_a", "ghr_stall_b", SECRET);
    let mut daemon = Daemon::start_with(&sandbox, 0, |cmd| use_simulator(cmd, &sim, false));
    let addr = daemon
        .webhook_url()
        .trim_start_matches("http://")
        .to_string();
    // Promises 64 KiB, sends 2 KiB, then nothing. (A well-formed signature: one that is no
    // signature at all is refused from the head, before the body.)
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: ping\r\n\
         X-GitHub-Delivery: stalled\r\nX-Hub-Signature-256: sha256={}\r\n\
         Content-Length: 65536\r\n\r\n",
        "0".repeat(64)
    );
    stalled.write_all(head.as_bytes()).unwrap();
    stalled.write_all(&[b'x'; 2048]).unwrap();
    wait_until(
        Duration::from_secs(10),
        "the listener to have the delivery in hand",
        || in_hand(&daemon).then_some(()),
    );
    let sent_at = Instant::now();
    signal(daemon.pid(), libc::SIGTERM);
    let status = wait_until(Duration::from_secs(20), "tidemarkd to exit", || {
        daemon.child.try_wait().unwrap()
    });
    let took = sent_at.elapsed();
    assert!(status.success(), "{}", daemon.log_text());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        daemon
            .log_text()
            .contains("deliveries still being received"),
        "{}",
        daemon.log_text()
    );
    drop(stalled);
}
