//! Webhook deliveries: payloads in GitHub's shapes (`payloads.rs`), signed
//! (`X-Hub-Signature-256`), POSTed to each hook that wants the event, and recorded for the
//! deliveries API.
//!
//! As on GitHub: one attempt per delivery (failures are not retried; redelivery is by hand
//! through the API), a 10 s timeout, no redirects followed, and deliveries to one hook arrive in
//! the order their events happened (one queue per hook). Payloads are rendered when the event is
//! dispatched, under the world lock, so they show the world right after the change.
//!
//! Organization-level events (`organization`: members added and removed) go to the
//! organization's hooks only, never to a repository's, as on GitHub.

pub mod delivery;
pub mod payloads;

use super::Shared;
use super::clock;
use super::world::{Delivery, Event, ORG_LEVEL};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// GitHub gives a receiver this long to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The response body kept per delivery (GitHub keeps a prefix too).
const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// `User-Agent` of every delivery: GitHub's hookshot and a build hash.
pub const USER_AGENT: &str = "GitHub-Hookshot/5e2b9c1";

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`: `X-Hub-Signature-256`.
pub fn signature_256(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One attempt to make: everything the request needs, fixed when it was queued.
#[derive(Debug, Clone)]
pub struct Job {
    pub hook_id: u64,
    /// The repository, or [`ORG_LEVEL`] for an organization hook's delivery.
    pub repo_id: u64,
    /// The organization's id, for `X-GitHub-Hook-Installation-Target-ID` of an org hook's.
    pub org_id: u64,
    pub url: String,
    /// `json` or `form`.
    pub content_type: String,
    pub secret: Option<String>,
    pub guid: String,
    pub event: String,
    pub action: Option<String>,
    /// The JSON payload, compact, exactly as sent (inside `payload=` for a form hook).
    pub payload: Vec<u8>,
    pub redelivery: bool,
}

impl Job {
    /// The request body and its content type.
    pub fn body(&self) -> (Vec<u8>, &'static str) {
        if self.content_type == "form" {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("payload", &String::from_utf8_lossy(&self.payload));
            (
                form.finish().into_bytes(),
                "application/x-www-form-urlencoded",
            )
        } else {
            (self.payload.clone(), "application/json")
        }
    }

    /// The request headers GitHub sends, in its spelling.
    pub fn headers(&self, body: &[u8], content_type: &str) -> Vec<(String, String)> {
        let mut h = vec![
            ("Accept".to_string(), "*/*".to_string()),
            ("Content-Type".into(), content_type.into()),
            ("User-Agent".into(), USER_AGENT.into()),
            ("X-GitHub-Delivery".into(), self.guid.clone()),
            ("X-GitHub-Event".into(), self.event.clone()),
            ("X-GitHub-Hook-ID".into(), self.hook_id.to_string()),
        ];
        let (target_id, target_type) = if self.repo_id == ORG_LEVEL {
            (self.org_id, "organization")
        } else {
            (self.repo_id, "repository")
        };
        h.push((
            "X-GitHub-Hook-Installation-Target-ID".into(),
            target_id.to_string(),
        ));
        h.push((
            "X-GitHub-Hook-Installation-Target-Type".into(),
            target_type.into(),
        ));
        // Signed only when the hook has a secret, as on GitHub.
        if let Some(secret) = self.secret.as_deref().filter(|s| !s.is_empty()) {
            h.push(("X-Hub-Signature-256".into(), signature_256(secret, body)));
        }
        h
    }
}

/// What one attempt came to.
struct Outcome {
    status_code: u16,
    status: String,
    duration_ms: u64,
    delivered_at: i64,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    response_body: String,
}

/// Sends deliveries: one HTTP client for all hooks, one ordered queue (a task) per hook.
pub struct Deliverer {
    client: reqwest::Client,
    queues: Mutex<HashMap<u64, mpsc::UnboundedSender<Job>>>,
    pending: Arc<AtomicUsize>,
}

impl Deliverer {
    pub fn new() -> Deliverer {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .build()
            .expect("the webhook HTTP client builds");
        Deliverer {
            client,
            queues: Mutex::new(HashMap::new()),
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Deliveries queued or in flight.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Queue `job` behind the hook's earlier deliveries.
    pub fn enqueue(&self, shared: &Arc<Shared>, job: Job) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let job = match queues.get(&job.hook_id) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                // The queue's task is gone (the runtime it ran on ended): start another.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let hook_id = job.hook_id;
        tx.send(job).expect("the receiver is alive");
        queues.insert(hook_id, tx);
        let worker = run_queue(
            Arc::downgrade(shared),
            self.client.clone(),
            rx,
            self.pending.clone(),
        );
        // On the simulator's runtime: deliveries end with it.
        shared.spawn(worker);
    }

    /// Stop queueing for a deleted hook (its queued deliveries still go).
    pub fn forget(&self, hook_id: u64) {
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hook_id);
    }
}

impl Default for Deliverer {
    fn default() -> Self {
        Deliverer::new()
    }
}

/// One hook's queue: attempt each delivery in turn and record it.
async fn run_queue(
    shared: Weak<Shared>,
    client: reqwest::Client,
    mut rx: mpsc::UnboundedReceiver<Job>,
    pending: Arc<AtomicUsize>,
) {
    while let Some(job) = rx.recv().await {
        let outcome = attempt(&client, &job).await;
        if let Some(shared) = shared.upgrade() {
            record(&shared, &job, outcome);
        }
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// POST the delivery once.
async fn attempt(client: &reqwest::Client, job: &Job) -> Outcome {
    let (body, content_type) = job.body();
    let request_headers = job.headers(&body, content_type);
    let delivered_at = clock::now();
    let started = Instant::now();
    let mut req = client.post(&job.url);
    for (k, v) in &request_headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let result = req.body(body).send().await;
    let (status_code, status, response_headers, response_body) = match result {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = match resp.bytes().await {
                Ok(b) => String::from_utf8_lossy(&b[..b.len().min(MAX_RESPONSE_BODY)]).into_owned(),
                Err(_) => String::new(),
            };
            let status = if (200..300).contains(&code) {
                "OK".to_string()
            } else {
                format!("Invalid HTTP Response: {code}")
            };
            (code, status, headers, body)
        }
        Err(e) => {
            let status = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "failed to connect to host".to_string()
            } else if e.is_builder() {
                "invalid url".to_string()
            } else {
                "We couldn't deliver this payload: the connection failed".to_string()
            };
            (0, status, Vec::new(), String::new())
        }
    };
    Outcome {
        status_code,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        delivered_at,
        request_headers,
        response_headers,
        response_body,
    }
}

/// Keep the attempt for the deliveries API and the hook's `last_response`.
fn record(shared: &Shared, job: &Job, o: Outcome) {
    {
        // Not `world_mut`: deliveries are in no cached render, and this is the hot path.
        let mut w = shared.world();
        let id = w.next_id(crate::sim::world::IdKind::Delivery);
        let ok = (200..300).contains(&o.status_code);
        let hook = match w.hooks.get_mut(&job.hook_id) {
            Some(h) => Some(h),
            None => w.org_hooks.get_mut(&job.hook_id),
        };
        if let Some(hook) = hook {
            hook.last_response = Some(if ok {
                (o.status_code, "active".into(), "OK".into())
            } else {
                (o.status_code, "misconfigured".into(), o.status.clone())
            });
        }
        w.deliveries.push(Delivery {
            id,
            guid: job.guid.clone(),
            hook_id: job.hook_id,
            repo_id: job.repo_id,
            event: job.event.clone(),
            action: job.action.clone(),
            delivered_at: o.delivered_at,
            redelivery: job.redelivery,
            status_code: o.status_code,
            status: o.status,
            duration_ms: o.duration_ms,
            url: job.url.clone(),
            request_headers: o.request_headers,
            payload: job.payload.clone(),
            response_headers: o.response_headers,
            response_body: o.response_body,
        });
    }
    shared.stats().deliveries += 1;
}

/// A delivery GUID like GitHub's (`72d3162e-cc78-11e3-81ab-4c9367dc0958`).
pub fn new_guid(shared: &Shared) -> String {
    let h = shared.random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Deliver `events` to the hooks that want them, in order, in the background. Payloads are
/// rendered now; a `ping` goes only to the hook its payload names.
pub fn dispatch(shared: &Arc<Shared>, events: Vec<Event>) {
    let mut jobs = Vec::new();
    let mut gone = Vec::new();
    // Rendered and queued under the world lock: deliveries queue in the order the world changed,
    // even when two requests change it at once. (The change itself went through `world_mut`.)
    let mut w = shared.world();
    for event in &events {
        let only_hook = (event.name == "ping")
            .then(|| event.payload["hook_id"].as_u64())
            .flatten();
        // Repository hooks hear of their repository's events; organization-level events go
        // to the organization's hooks alone.
        let candidates: Vec<&super::world::Hook> = if event.repo_id == ORG_LEVEL {
            w.org_hooks.values().collect()
        } else {
            w.hooks_of(event.repo_id).collect()
        };
        let hooks: Vec<_> = candidates
            .into_iter()
            .filter(|h| h.wants(&event.name))
            .filter(|h| only_hook.is_none_or(|id| h.id == id))
            .cloned()
            .collect();
        if !hooks.is_empty()
            && let Some(payload) = payloads::render(&shared.urls, &w, event)
        {
            let bytes = serde_json::to_vec(&payload).expect("JSON values serialise");
            let action = payload["action"].as_str().map(String::from);
            for hook in hooks {
                jobs.push(Job {
                    hook_id: hook.id,
                    repo_id: event.repo_id,
                    org_id: w.org().id,
                    url: hook.url.clone(),
                    content_type: hook.content_type.clone(),
                    secret: hook.secret.clone(),
                    guid: new_guid(shared),
                    event: event.name.clone(),
                    action: action.clone(),
                    payload: bytes.clone(),
                    redelivery: false,
                });
            }
        }
        if event.name == "repository" && event.payload["action"] == "deleted" {
            // The repository's hooks go with it, once told.
            let ids: Vec<u64> = w.hooks_of(event.repo_id).map(|h| h.id).collect();
            for id in ids {
                w.hooks.remove(&id);
                gone.push(id);
            }
        }
    }
    for job in jobs {
        shared.deliverer.enqueue(shared, job);
    }
    drop(w);
    // Only after their last deliveries are queued, or those would start a queue of their own.
    for id in gone {
        shared.deliverer.forget(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_githubs_documented_test_vector() {
        assert_eq!(
            signature_256("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    fn job(content_type: &str, secret: Option<&str>) -> Job {
        Job {
            hook_id: 7,
            repo_id: 9,
            org_id: 3,
            url: "http://127.0.0.1:1/hook".into(),
            content_type: content_type.into(),
            secret: secret.map(String::from),
            guid: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            event: "push".into(),
            action: None,
            payload: br#"{"zen":"a & b"}"#.to_vec(),
            redelivery: false,
        }
    }

    #[test]
    fn form_hooks_get_the_json_as_a_payload_field_and_the_signature_covers_the_sent_bytes() {
        let j = job("form", Some("s3cret"));
        let (body, ct) = j.body();
        assert_eq!(ct, "application/x-www-form-urlencoded");
        let fields: Vec<(String, String)> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        assert_eq!(
            fields,
            vec![("payload".into(), r#"{"zen":"a & b"}"#.into())]
        );
        let headers = j.headers(&body, ct);
        let sig = headers
            .iter()
            .find(|(k, _)| k == "X-Hub-Signature-256")
            .map(|(_, v)| v.clone());
        assert_eq!(sig, Some(signature_256("s3cret", &body)));
    }

    #[test]
    fn headers_are_githubs_and_unsigned_without_a_secret() {
        let j = job("json", None);
        let (body, ct) = j.body();
        assert_eq!(body, j.payload);
        let headers = j.headers(&body, ct);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-GitHub-Event"), Some("push"));
        assert_eq!(get("X-GitHub-Hook-ID"), Some("7"));
        assert_eq!(
            get("X-GitHub-Hook-Installation-Target-Type"),
            Some("repository")
        );
        assert_eq!(get("X-GitHub-Hook-Installation-Target-ID"), Some("9"));
        assert_eq!(get("Content-Type"), Some("application/json"));
        let ua = get("User-Agent").unwrap();
        let hash = ua.strip_prefix("GitHub-Hookshot/").unwrap();
        assert!(hash.len() == 7 && hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(get("X-Hub-Signature-256"), None);
    }
}
