//! The HTTP server both hosts run (`dev` and `serve`): axum's router on hyper, with the
//! limits a public listener needs that `axum::serve` does not set, and a graceful stop
//! that lets in-flight requests finish; the stop signal that starts that stop; and the one
//! way a handler reads a request body.
//!
//! The limits: a connection must send a request's headers within
//! [`HEADER_READ_TIMEOUT`] from the moment it opens or falls idle (a silent connection, or
//! a client trickling its headers, is closed); a body must arrive within
//! [`BODY_READ_TIMEOUT`] ([`read_body`]); and at most [`MAX_CONNECTIONS`] connections are
//! open at once, those beyond it closed as soon as they are accepted. The server speaks
//! HTTP/1.1, which every client of these routes uses (the Functions host, browsers over
//! plain HTTP, load tools): sniffing for HTTP/2 would wait on a silent connection with no
//! deadline.

use axum::body::{Body, Bytes};
use axum::Router;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Time a client has to send a request's headers, counted from when the connection opens
/// or from the end of its last answer.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send a whole request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections open at once; more are closed at once (a client may retry).
pub const MAX_CONNECTIONS: usize = 1024;
/// Longest wait for in-flight requests once a stop was asked for.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(listener: TcpListener, app: Router, stop: impl Future<Output = ()>) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut last_refusal_logged: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %crate::errors::Chain(&e), "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            // At the cap: closed at once, so a flood cannot hold the process's files.
            if last_refusal_logged.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    open = MAX_CONNECTIONS,
                    "connection refused: too many open connections"
                );
                last_refusal_logged = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %crate::errors::Chain(&e), "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener); // refuse new connections at once
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("stopping with requests still in flight"),
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body did not arrive within {} seconds", BODY_READ_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the body could not be read to its end")]
    Unreadable,
}

/// Reads a request body of at most `limit` bytes, within [`BODY_READ_TIMEOUT`].
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let limited = http_body_util::Limited::new(body, limit);
    match tokio::time::timeout(BODY_READ_TIMEOUT, limited.collect()).await {
        Err(_) => Err(BodyError::TimedOut),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Ok(Err(_)) => Err(BodyError::Unreadable),
    }
}

/// SIGTERM and Ctrl-C (SIGINT), caught from the moment this is made. It is made before
/// the process says it is ready: until a handler is installed, a signal does its default
/// action and kills the process mid-start, so a stop sent right after readiness (a test,
/// a supervisor, a scale-in) would not be a clean stop.
pub struct StopSignal {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignal {
    /// Installs the handlers now (within the runtime).
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let catch = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(signal) => Some(signal),
                Err(e) => {
                    tracing::warn!(error = %crate::errors::Chain(&e), "cannot catch {name}; it will stop the process at once");
                    None
                }
            };
            StopSignal {
                terminate: catch(SignalKind::terminate(), "SIGTERM"),
                interrupt: catch(SignalKind::interrupt(), "Ctrl-C"),
            }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    /// Resolves at the first stop signal, including one caught before this was awaited.
    pub async fn received(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(self.terminate) => {},
                _ = next(self.interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
