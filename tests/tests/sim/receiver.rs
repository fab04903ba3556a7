//! A webhook receiver: a tiny HTTP/1.1 server catching what the simulator sends.

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got: header names lowercased, the exact body bytes.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    pub fn event(&self) -> &str {
        self.header("x-github-event")
    }

    /// The JSON payload (from a form body's `payload` field too).
    pub fn json(&self) -> Value {
        if self.header("content-type") == "application/x-www-form-urlencoded" {
            let payload = url::form_urlencoded::parse(&self.body)
                .find(|(k, _)| k == "payload")
                .map(|(_, v)| v.into_owned())
                .expect("a payload field");
            serde_json::from_str(&payload).unwrap()
        } else {
            serde_json::from_slice(&self.body).unwrap()
        }
    }
}

/// A tiny HTTP/1.1 server on its own threads: records every request, answers `status`.
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (g, s) = (g.clone(), s.clone());
                std::thread::spawn(move || serve(stream, g, s));
            }
        });
        Receiver { url, got, status }
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Wait (at most 10 s) until `n` requests have come, then return them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let got = self.got.clone();
        wait_until(&format!("{n} deliveries"), || {
            got.lock().unwrap().len() >= n
        })
        .await;
        self.all()
    }
}

fn serve(stream: std::net::TcpStream, got: Arc<Mutex<Vec<Received>>>, status: Arc<AtomicU16>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        got.lock().unwrap().push(Received { headers, body });
        let code = status.load(Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 {code} Whatever\r\ncontent-type: text/plain\r\nx-receiver: yes\r\ncontent-length: 8\r\n\r\nreceived"
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Poll `cond` until it holds; fail after 10 s.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
