//! Connections: accepting under a cap, serving each with hyper's HTTP/1, closing slow and
//! idle ones, and counting the requests in flight so a stop can wait for them.
//!
//! Each connection has a [`Phase`]: waiting for or reading a request head (bounded by the
//! header timeout, from the accept or the head's first byte), busy with a request (its body
//! bounded by the body timeout, see [`crate::body::Timed`]), or idle between keep-alive
//! requests (bounded by the idle timeout). The driver closes a connection whose phase
//! outlives its limit. Past `max_connections`, the acceptor stops accepting: new
//! connections wait in the kernel's listen backlog until one closes, and are then served.

use crate::body::Timed;
use crate::tap::Tap;
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use switchyard_gateway::Gateway;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

/// The largest request head (line and headers) hyper reads; past it, 431.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The connection limits, from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header: Duration,
    pub body: Duration,
    pub idle: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn of(gateway: &Gateway) -> Limits {
        let s = gateway.server_config();
        Limits {
            header: s.header_timeout,
            body: s.body_timeout,
            idle: s.idle_timeout,
            // The stop waits for every permit with one `acquire_many(u32)`.
            max_connections: s
                .max_connections
                .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize)),
        }
    }
}

/// What the server asks of its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Run,
    /// Finish the request in progress, then close.
    Drain,
    /// Close now.
    Abort,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Head(Instant),
    Busy,
    Idle(Instant),
}

/// Where one connection is in its request cycle; see the module doc.
pub struct Phase {
    state: Mutex<State>,
    /// Wakes the driver to recompute its deadline.
    changed: Notify,
}

impl Phase {
    fn new() -> Phase {
        Phase {
            state: Mutex::new(State::Head(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn set(&self, next: State) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = next;
        self.changed.notify_one();
    }

    fn get(&self) -> State {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived. `None` while a request is in the service (they are its body); else
    /// whether they start a new head (an idle keep-alive connection's next request).
    pub fn on_read(&self) -> Option<bool> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *s {
            State::Busy => None,
            State::Head(_) => Some(false),
            State::Idle(_) => {
                *s = State::Head(Instant::now());
                drop(s);
                self.changed.notify_one();
                Some(true)
            }
        }
    }

    /// Whether no request of this connection has reached the service since its last answer:
    /// anything hyper writes now is its own answer to an unparseable head.
    pub fn awaiting_head(&self) -> bool {
        !matches!(self.get(), State::Busy)
    }

    /// When the current phase runs out; `None` while a request is in the service.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match self.get() {
            State::Head(t) => Some(t + limits.header),
            State::Idle(t) => Some(t + limits.idle),
            State::Busy => None,
        }
    }
}

/// Requests in flight across all connections, so a stop can wait until they are done.
#[derive(Default)]
pub struct InFlight {
    n: AtomicUsize,
    zero: Notify,
}

/// One request in flight; dropping it (when its answer is sent) ends it.
pub struct Work(Arc<InFlight>);

impl Drop for Work {
    fn drop(&mut self) {
        if self.0.n.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.zero.notify_waiters();
        }
    }
}

impl InFlight {
    fn enter(self: &Arc<Self>) -> Work {
        self.n.fetch_add(1, Ordering::AcqRel);
        Work(self.clone())
    }

    /// Resolves once no request is in flight.
    pub async fn settled(&self) {
        loop {
            let notified = self.zero.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.n.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// An answer's body that marks the connection idle and ends its [`Work`] when dropped, which
/// hyper does once the answer (a whole stream included) is written.
struct Answer {
    inner: Body,
    phase: Arc<Phase>,
    _work: Option<Work>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.phase.set(State::Idle(Instant::now()));
    }
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What every connection shares.
#[derive(Clone)]
pub struct Shared {
    pub router: Router,
    pub gateway: Gateway,
    pub limits: Limits,
    pub in_flight: Arc<InFlight>,
    /// Whether the model endpoints are dispatched straight to their handlers ([`crate::hot`]);
    /// off on a listener that serves only its router (the metrics listener).
    pub hot: bool,
}

/// Accepts until told to stop, holding at most `max_connections` at once. Resolves once the
/// listener is closed; `permits` is all returned when the last connection closes.
pub async fn accept(
    listener: TcpListener,
    shared: Shared,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<Stop>,
) {
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p,
            _ = stop.wait_for(|s| *s != Stop::Run) => return,
        };
        let Ok(permit) = permit else { return };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s != Stop::Run) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors or a connection reset before accept: back off briefly.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
        let (shared, stop) = (shared.clone(), stop.clone());
        tokio::spawn(async move {
            serve(stream, shared, stop).await;
            drop(permit);
        });
    }
}

/// Serves one connection until it closes, runs out of time, or the server stops.
async fn serve(stream: TcpStream, shared: Shared, mut stop: watch::Receiver<Stop>) {
    let phase = Arc::new(Phase::new());
    let limits = shared.limits;
    let io = Tap::new(stream, phase.clone());
    let service = service(shared, phase.clone());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.max_header_size(MAX_HEADER_BYTES);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        // Busy: no deadline here (the body has its own); a phase change wakes the loop.
        let wake = phase
            .deadline(&limits)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = phase.changed.notified() => {}
            () = tokio::time::sleep_until(wake) => {
                if phase.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("closing a connection that outlived its header or idle timeout");
                    return;
                }
            }
            // Still watched while draining: the grace period may end in an abort.
            changed = stop.changed() => match (changed, *stop.borrow()) {
                (Err(_), _) | (_, Stop::Abort) => return,
                (_, Stop::Drain) if !draining => {
                    conn.as_mut().graceful_shutdown();
                    draining = true;
                }
                _ => {}
            },
        }
    }
}

type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<hyper::Response<Answer>, std::convert::Infallible>> + Send>>;

/// The per-request glue: phase and in-flight bookkeeping, the body deadline, then the hot
/// endpoints directly ([`crate::hot`]) or the router.
fn service(
    shared: Shared,
    phase: Arc<Phase>,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = hyper::Response<Answer>,
    Error = std::convert::Infallible,
    Future = ServiceFuture,
> {
    hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        phase.set(State::Busy);
        let work = shared.in_flight.enter();
        // Counted only while the gateway accepts work: requests refused with 503 during a
        // stop must not hold the stop up. Counting first closes the race with the flip.
        let work = shared.gateway.is_ready().then_some(work);
        let req = req.map(|b| Body::new(Timed::new(b, shared.limits.body)));
        let hot = if shared.hot {
            crate::hot::Hot::of(&req)
        } else {
            None
        };
        let mut router = shared.router.clone();
        let gateway = shared.gateway.clone();
        let phase = phase.clone();
        let fut: ServiceFuture = Box::pin(async move {
            let mut resp = match hot {
                Some(hot) => hot.serve(gateway, req).await,
                None => match tower_service::Service::call(&mut router, req).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                },
            };
            resp.headers_mut().insert(
                axum::http::header::SERVER,
                axum::http::HeaderValue::from_static(crate::tap::SERVER_NAME),
            );
            Ok(resp.map(|inner| Answer {
                inner,
                phase,
                _work: work,
            }))
        });
        fut
    })
}
