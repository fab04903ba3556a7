//! Pages a browser returns to through the daemon's public URL (the webhook listener, which the
//! tunnel reaches): an OAuth redirect that must be https, such as Slack's. A service registers
//! its path and handler here, so the receiver serves it without knowing the service. The
//! handler gets the query string (bounded by the receiver's head limits) and answers a status
//! and an HTML page; it must refuse an unknown `state` cheaply, as anyone can call it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

pub type ReturnPage = Pin<Box<dyn Future<Output = (u16, String)> + Send>>;
pub type ReturnHandler = Arc<dyn Fn(String) -> ReturnPage + Send + Sync>;

#[derive(Default)]
pub struct Returns {
    handlers: Mutex<Vec<(&'static str, ReturnHandler)>>,
}

impl Returns {
    pub fn register(&self, path: &'static str, handler: ReturnHandler) {
        let mut h = self
            .handlers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        h.retain(|(p, _)| *p != path);
        h.push((path, handler));
    }

    pub fn get(&self, path: &str) -> Option<ReturnHandler> {
        self.handlers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, h)| h.clone())
    }
}
