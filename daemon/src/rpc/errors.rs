//! The domain's errors as the wire words them: each service returns its own error type, and
//! only this layer knows `RpcError`.

use crate::auth::NoSuchUser;
use crate::connect::ConnectError;
use crate::store::StoreError;
use crate::sync::StartError;
use crate::teams::repos::ReposError;
use tidemark_protocol::RpcError;

pub(crate) fn store_err(e: StoreError) -> RpcError {
    match e {
        StoreError::NotFound(what) => RpcError::NotFound(what),
        StoreError::Conflict(what) => RpcError::AlreadyExists(what),
        StoreError::Invalid(e) => RpcError::invalid(e.field, e.to_string()),
        StoreError::Rejected { field, reason } => RpcError::invalid(field, reason),
        other => {
            tracing::error!(error = %other, "store error while serving a call");
            RpcError::Internal(other.to_string())
        }
    }
}

impl From<ConnectError> for RpcError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Invalid { field, reason } => RpcError::invalid(field, reason),
            ConnectError::NotFound(what) => RpcError::NotFound(what),
            ConnectError::AlreadyExists(what) => RpcError::AlreadyExists(what),
            ConnectError::NotConfigured(what) => RpcError::NotConfigured(what),
            ConnectError::Internal(what) => RpcError::Internal(what),
        }
    }
}

impl From<StartError> for RpcError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::NotConnected => RpcError::invalid("team", crate::sync::NOT_CONNECTED),
            StartError::Store(e) => RpcError::Internal(e.to_string()),
        }
    }
}

impl From<ReposError> for RpcError {
    fn from(e: ReposError) -> Self {
        match e {
            ReposError::Invalid { field, reason } => RpcError::invalid(field, reason),
            ReposError::NotFound(what) => RpcError::NotFound(what),
            ReposError::Store(e) => store_err(e),
            ReposError::GitHub(e) => RpcError::Internal(e.to_string()),
            ReposError::Token(e) => RpcError::Internal(e.to_string()),
        }
    }
}

impl From<NoSuchUser> for RpcError {
    fn from(e: NoSuchUser) -> Self {
        RpcError::invalid("user", e.to_string())
    }
}

pub(crate) fn delivery_err(e: crate::delivery::DeliveryError) -> RpcError {
    use crate::delivery::{DeliveryError, rules::RulesError};
    match e {
        DeliveryError::Rules(RulesError::UnknownRepo(repo)) => {
            RpcError::NotFound(format!("tracked repository {repo}"))
        }
        DeliveryError::Rules(r) => {
            let field = match &r {
                RulesError::Pattern { field, .. }
                | RulesError::Empty { field }
                | RulesError::TooLong { field, .. } => (*field).to_string(),
                RulesError::UnknownRepo(_) => "repository".into(),
            };
            RpcError::invalid(field, r.to_string())
        }
        DeliveryError::Window | DeliveryError::WindowTooLong | DeliveryError::TooBig { .. } => {
            RpcError::invalid("window", e.to_string())
        }
        DeliveryError::Store(e) => store_err(e),
    }
}
