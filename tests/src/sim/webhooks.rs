//! Webhook deliveries: payloads in GitHub's shapes, signed (`X-Hub-Signature-256`), POSTed to
//! each hook that wants the event, and recorded for the deliveries API. STUB: being written.

use super::Shared;
use super::world::Event;
use std::sync::Arc;

/// Sends deliveries (one HTTP client for all hooks).
pub struct Deliverer {}

impl Deliverer {
    pub fn new() -> Deliverer {
        Deliverer {}
    }
}

impl Default for Deliverer {
    fn default() -> Self {
        Deliverer::new()
    }
}

/// Deliver `events` to the hooks that want them, in order, in the background.
pub fn dispatch(_shared: &Arc<Shared>, _events: Vec<Event>) {}
