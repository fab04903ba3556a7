//! `POST /graphql`: the part of GitHub's schema a pull-request sync needs. STUB: being written.

use super::Shared;
use super::api::Caller;
use super::http::{Request, Response};
use std::sync::Arc;

pub async fn handle(_shared: &Arc<Shared>, _req: &Request, _caller: &Caller) -> Response {
    Response::json(404, &serde_json::json!({"message": "Not Found"}))
}
