use serde::{Deserialize, Serialize};

/// Errors a daemon sends back over RPC. Messages are written for the person at the terminal; none
/// ever carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum RpcError {
    #[error(
        "protocol mismatch: this client speaks protocol {client}, the daemon speaks {daemon} \
         (daemon version {daemon_version}); restart the daemon from the same build as the client"
    )]
    VersionMismatch {
        client: u32,
        daemon: u32,
        daemon_version: String,
    },
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    /// Something the daemon needs is not set up (e.g. no GitHub OAuth app); the message says
    /// what, in words any client can show (protocol v10).
    #[error("{0}")]
    NotConfigured(String),
    #[error("daemon error: {0}")]
    Internal(String),
}

impl RpcError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RpcError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
