//! The accept loop's limits over a real socket in this process (every connection is this test's
//! uid): the per-uid cap and what the refused client is told, the idle timeout, and a length
//! prefix over the request limit. The same against the real binary, with a flood under a low
//! fd limit: `tests/tests/e2e/rpc_limits.rs`.
#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.

use super::Fixture;
use crate::rpc::{Limits, serve_with, transport};
use std::path::Path;
use std::time::{Duration, Instant};
use tidemark_protocol::{PROTOCOL_VERSION, RpcError, TidemarkClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The daemon's accept loop on a fresh socket, with `limits`.
fn serving(fixture: &Fixture, limits: Limits) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(serve_with(listener, fixture.shared.clone(), limits));
    (dir, path)
}

async fn client(path: &Path) -> TidemarkClient {
    let stream = UnixStream::connect(path).await.unwrap();
    TidemarkClient::new(tarpc::client::Config::default(), transport(stream)).spawn()
}

async fn hello(client: &TidemarkClient) -> Result<(), RpcError> {
    client
        .hello(tarpc::context::current(), PROTOCOL_VERSION)
        .await
        .expect("an answer")
        .map(drop)
}

/// Whether the daemon closed `stream` (EOF) within `within`.
async fn closed_within(stream: &mut UnixStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn the_connection_over_the_per_uid_cap_is_told_why_and_a_freed_place_is_reused() {
    let fixture = Fixture::new();
    let limits = Limits {
        connections_per_uid: 3,
        ..Limits::DEFAULT
    };
    let (_dir, path) = serving(&fixture, limits);
    let mut open = Vec::new();
    for _ in 0..3 {
        let c = client(&path).await;
        hello(&c).await.unwrap();
        open.push(c);
    }
    let fourth = client(&path).await;
    let err = hello(&fourth).await.unwrap_err();
    let RpcError::PermissionDenied(reason) = &err else {
        panic!("{err:?}");
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert!(
        reason.starts_with(&format!(
            "the daemon already has 3 connections from uid {uid}"
        )),
        "{reason}"
    );
    // Those already in keep working.
    hello(&open[0]).await.unwrap();
    drop(open.pop());
    // Once the daemon has seen the close, a new connection gets in.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = client(&path).await;
        if hello(&c).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the freed place never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_time_and_a_pinging_one_is_not() {
    let fixture = Fixture::new();
    let limits = Limits {
        // Long enough that a loaded machine's pauses between pings stay well inside it.
        idle: Duration::from_secs(1),
        ..Limits::DEFAULT
    };
    let (_dir, path) = serving(&fixture, limits);
    let mut silent = UnixStream::connect(&path).await.unwrap();
    let pinging = client(&path).await;
    let started = Instant::now();
    // Pings well inside the idle time, for two and a half idle times: never closed.
    while started.elapsed() < limits.idle * 5 / 2 {
        hello(&pinging)
            .await
            .expect("a pinging connection stays open");
        tokio::time::sleep(limits.idle / 10).await;
    }
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "the silent connection is closed"
    );
    // A half-sent request is no request: closed too.
    let mut half = UnixStream::connect(&path).await.unwrap();
    half.write_all(&100u32.to_be_bytes()).await.unwrap();
    half.write_all(&[0; 10]).await.unwrap();
    assert!(closed_within(&mut half, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_length_prefix_over_the_request_limit_closes_the_connection_at_once() {
    let fixture = Fixture::new();
    let (_dir, path) = serving(&fixture, Limits::DEFAULT);
    let mut big = UnixStream::connect(&path).await.unwrap();
    big.write_all(&(16u32 << 20).to_be_bytes()).await.unwrap();
    assert!(
        closed_within(&mut big, Duration::from_secs(5)).await,
        "closed without waiting for the 16 MiB"
    );
    // One byte over the limit too; the limit itself is a frame like any other.
    let mut over = UnixStream::connect(&path).await.unwrap();
    let over_len = Limits::DEFAULT.request_frame as u32 + 1;
    over.write_all(&over_len.to_be_bytes()).await.unwrap();
    assert!(closed_within(&mut over, Duration::from_secs(5)).await);
    let c = client(&path).await;
    hello(&c).await.expect("others are served as before");
}

#[tokio::test]
async fn unfinished_frames_of_one_uid_are_capped_together() {
    let fixture = Fixture::new();
    let limits = Limits {
        request_frame: 64 * 1024,
        partial_bytes_per_uid: 100 * 1024,
        ..Limits::DEFAULT
    };
    let (_dir, path) = serving(&fixture, limits);
    // Each holds a frame 1 KiB short of complete: the second pushes the uid past 100 KiB.
    let mut first = UnixStream::connect(&path).await.unwrap();
    first
        .write_all(&(64u32 * 1024).to_be_bytes())
        .await
        .unwrap();
    first.write_all(&[0; 63 * 1024]).await.unwrap();
    let mut second = UnixStream::connect(&path).await.unwrap();
    second
        .write_all(&(64u32 * 1024).to_be_bytes())
        .await
        .unwrap();
    let _ = second.write_all(&[0; 63 * 1024]).await;
    assert!(closed_within(&mut second, Duration::from_secs(5)).await);
    assert!(
        !closed_within(&mut first, Duration::from_millis(200)).await,
        "the first stays: it was within the budget"
    );
}
