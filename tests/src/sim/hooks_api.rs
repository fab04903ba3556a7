//! `/repos/{owner}/{repo}/hooks[/{id}[/deliveries[/{id}[/attempts]]|/pings]]`. STUB: being written.

use super::Shared;
use super::api::Caller;
use super::http::{Request, Response};
use std::sync::Arc;

/// `rest` is the path after `/repos/{owner}/{repo}/hooks`.
pub async fn handle(
    _shared: &Arc<Shared>,
    _req: &Request,
    _caller: &Caller,
    _repo_id: u64,
    _rest: &[&str],
) -> Response {
    Response::json(404, &serde_json::json!({"message": "Not Found"}))
}
