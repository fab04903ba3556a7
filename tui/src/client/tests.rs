use super::*;
use std::sync::Arc;
use tarpc::ChannelError;

fn sock() -> PathBuf {
    PathBuf::from("/run/user/1000/tidemark/tidemark.sock")
}

#[test]
fn missing_or_refusing_socket_means_not_running() {
    for kind in [io::ErrorKind::NotFound, io::ErrorKind::ConnectionRefused] {
        let err = connect_error(&sock(), io::Error::from(kind));
        assert!(err.is_not_running(), "{kind:?}");
        let text = err.to_string();
        assert!(
            text.contains("/run/user/1000/tidemark/tidemark.sock"),
            "{text}"
        );
        assert!(text.contains("tidemark daemon"), "{text}");
    }
}

#[test]
fn permission_denied_is_its_own_error() {
    let err = connect_error(&sock(), io::Error::from(io::ErrorKind::PermissionDenied));
    assert!(matches!(err, ClientError::PermissionDenied { .. }));
    assert!(!err.is_not_running());
    assert!(
        err.to_string()
            .starts_with("permission denied on the daemon socket /run/")
    );
}

#[test]
fn version_mismatch_keeps_the_daemons_message() {
    let mismatch = RpcError::VersionMismatch {
        client: 1,
        daemon: 2,
        daemon_version: "0.2.0".into(),
    };
    let err = check_hello(&sock(), Ok(Err(mismatch.clone()))).unwrap_err();
    assert_eq!(err.to_string(), mismatch.to_string());
}

#[test]
fn a_daemon_answering_another_version_is_a_mismatch() {
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION + 1,
        daemon_version: "9.9.9".into(),
    };
    let err = check_hello(&sock(), Ok(Ok(hello))).unwrap_err();
    assert!(matches!(err, ClientError::VersionMismatch(_)));
    assert!(err.to_string().contains("9.9.9"));
}

#[test]
fn matching_hello_is_accepted() {
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        daemon_version: "0.1.0".into(),
    };
    assert_eq!(check_hello(&sock(), Ok(Ok(hello.clone()))).unwrap(), hello);
}

/// What tarpc reports when the bincode codec cannot decode the reply: the codec's InvalidData
/// error wrapped by serde_transport in an `io::Error::other`.
fn decode_failure() -> tarpc::client::RpcError {
    let codec = io::Error::new(io::ErrorKind::InvalidData, "invalid value: integer `7`");
    let wrapped: Arc<dyn StdError + Send + Sync> = Arc::new(io::Error::other(codec));
    tarpc::client::RpcError::Channel(ChannelError::Read(wrapped))
}

#[test]
fn undecodable_hello_reply_means_incompatible_protocol() {
    let err = check_hello(&sock(), Err(decode_failure())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the daemon at /run/user/1000/tidemark/tidemark.sock speaks an incompatible \
             protocol (this client speaks protocol {PROTOCOL_VERSION}); restart the daemon \
             from the same build as the client"
        )
    );
}

#[test]
fn later_decode_failures_are_a_lost_connection() {
    let err = transport_error(&sock(), decode_failure(), false);
    assert!(err.is_connection_lost(), "{err}");
}

#[test]
fn reset_connection_is_not_a_decode_failure() {
    let reset: Arc<dyn StdError + Send + Sync> = Arc::new(io::Error::other(io::Error::from(
        io::ErrorKind::ConnectionReset,
    )));
    let err = tarpc::client::RpcError::Channel(ChannelError::Read(reset));
    let err = check_hello(&sock(), Err(err)).unwrap_err();
    assert!(matches!(err, ClientError::Disconnected { .. }), "{err}");
}

#[test]
fn rpc_errors_pass_through_verbatim() {
    let err = check_hello(&sock(), Ok(Err(RpcError::NotFound("team 'x'".into())))).unwrap_err();
    assert_eq!(err.to_string(), "team 'x' not found");
}

#[tokio::test]
async fn connecting_to_a_missing_socket_reports_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nothing.sock");
    let err = Connection::connect(&socket).await.unwrap_err();
    assert!(err.is_not_running(), "{err}");
}

#[tokio::test]
async fn a_peer_speaking_garbage_is_incompatible() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("garbage.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        // A well-framed reply whose payload is not a tarpc response.
        stream
            .write_all(&[0, 0, 0, 3, 0xff, 0xff, 0xff])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let err = Connection::connect(&socket).await.unwrap_err();
    assert!(matches!(err, ClientError::Incompatible { .. }), "{err}");
}
