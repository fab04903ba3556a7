//! A small HTTP/1.1 server (hyper) for the browser pages the daemon serves on 127.0.0.1 while
//! an OAuth flow waits (GitHub's web flow, Slack's install): accepts back off instead of
//! spinning (`accept.rs`), connections are capped, each must send its head within a deadline
//! and is cut after a longer one. The caller answers each request.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Connections served at once: a browser makes one or two; more wait in the backlog.
const MAX_CONNECTIONS: usize = 32;
/// A request's head must arrive within this long (also the idle limit between requests).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a connection is kept, whatever it does.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Serve `listener` until the task is aborted, answering each request with `answer`.
pub async fn serve<F, Fut>(listener: tokio::net::TcpListener, what: &'static str, answer: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut backoff = crate::accept::Backoff::new();
    loop {
        // Out of descriptors, accepts fail: the loop pauses (growing) and goes on.
        let (stream, _) =
            crate::accept::accept_with(|| listener.accept(), &mut backoff, what).await;
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let answer = answer.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let answer = answer.clone();
                async move { Ok::<_, Infallible>(answer(req).await) }
            });
            let http = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(16 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, http).await {
                Ok(Err(e)) => tracing::debug!(error = %e, what, "connection ended"),
                Err(_) => tracing::debug!(what, "connection cut after its time"),
                Ok(Ok(())) => {}
            }
        });
    }
}

/// A listener open while a flow waits: closed (its task aborted, the port freed) when dropped.
pub struct Listener {
    task: tokio::task::AbortHandle,
    pub port: u16,
    what: &'static str,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
        tracing::info!(port = self.port, "{} listener closed", self.what);
    }
}

/// Bind `addr` (loopback only) and serve it; `make` gets the port bound (for the pages' Host
/// checks) and gives the answer to each request. Called on the runtime.
pub fn open<F, Fut>(
    addr: SocketAddr,
    what: &'static str,
    make: impl FnOnce(u16) -> F,
) -> std::io::Result<Listener>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "{addr} is not a loopback address"
        )));
    }
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let port = std_listener.local_addr()?.port();
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let task = tokio::spawn(serve(listener, what, make(port)));
    tracing::info!(port, "{what} listener open on 127.0.0.1");
    Ok(Listener {
        task: task.abort_handle(),
        port,
        what,
    })
}
