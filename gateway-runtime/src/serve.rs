//! Serving an app with the timeouts and limits a server facing untrusted
//! clients needs, which `axum::serve` does not set: a deadline for request
//! headers (slowloris), for a stalled request body and for a connection
//! whose writes make no progress, a connection cap, TCP_NODELAY, and HTTP/2
//! keep-alive pings and a smaller per-stream send buffer. HTTP/1.1 and h2c
//! on one port, with upgrades and HTTP/2 extended CONNECT (WebSocket over
//! HTTP/2) on.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! gateway_runtime::serve::serve(listener, app, gateway_runtime::serve::ServeConfig::default())
//!     .await
//! # }
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::ServiceExt as _;

use crate::drain::Drain;

/// Settings of [`serve`]; the defaults suit a server on the internet.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) tcp_nodelay: bool,
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    pub(crate) http2_keep_alive_timeout: Duration,
    pub(crate) http2_max_send_buf_size: usize,
    pub(crate) http1_max_buf_size: Option<usize>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 1000,
            tcp_nodelay: true,
            http2_keep_alive_interval: Some(Duration::from_secs(20)),
            http2_keep_alive_timeout: Duration::from_secs(20),
            // hyper's default is 400 KiB per stream: a client that stops
            // reading pins that much for each of its streams.
            http2_max_send_buf_size: 64 * 1024,
            http1_max_buf_size: None,
        }
    }
}

impl ServeConfig {
    /// How long a client may take to send a request's headers, counted from
    /// when the connection is ready for the next request, so that it also
    /// ends idle keep-alive connections (default 10 s). HTTP/1.1.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a request body may send nothing while it is being read
    /// (default 30 s): a body shorter than its `Content-Length` then fails
    /// with 408 instead of waiting forever. Request streams (NDJSON bodies of
    /// client and bidi streaming calls) are exempt: their clients may rightly
    /// be quiet for long.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How long a write to a connection may make no progress before the
    /// connection is closed (default 30 s): a client that stops reading its
    /// socket, whatever it was sent (a stream, a WebSocket, a large answer).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Most connections open at once (default 1000); more wait in the
    /// listen backlog. Keep it below the process's file-descriptor limit.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Whether to set TCP_NODELAY on accepted connections (default true):
    /// with Nagle's algorithm, small streamed messages wait for the peer's
    /// delayed ACK.
    pub fn tcp_nodelay(mut self, on: bool) -> Self {
        self.tcp_nodelay = on;
        self
    }

    /// Interval of HTTP/2 PING frames (default 20 s; `None`: none), and how
    /// long an unanswered one may stay before the connection is closed
    /// (default 20 s): this ends connections of clients that stopped reading.
    pub fn http2_keep_alive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.http2_keep_alive_interval = interval;
        self.http2_keep_alive_timeout = timeout;
        self
    }

    /// Largest amount of data buffered per HTTP/2 stream for a client that
    /// does not take it (default 64 KiB).
    pub fn http2_max_send_buf_size(mut self, size: usize) -> Self {
        self.http2_max_send_buf_size = size;
        self
    }

    /// Largest read buffer of an HTTP/1.1 connection (default: hyper's,
    /// about 400 KiB); a request head (request line and headers) must fit
    /// in it, or the request gets 431. The smallest value is 8 KiB (smaller
    /// values are raised to it). A connection starts with an 8 KiB buffer
    /// and keeps it unless a request needs more, whatever this limit
    /// (docs/benchmarks.md measures open streams with both).
    pub fn http1_max_buf_size(mut self, size: usize) -> Self {
        self.http1_max_buf_size = Some(size.max(8 * 1024));
        self
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        if let Some(size) = self.http1_max_buf_size {
            builder.http1().max_buf_size(size);
        }
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.http2_keep_alive_interval)
            .keep_alive_timeout(self.http2_keep_alive_timeout)
            .max_send_buf_size(self.http2_max_send_buf_size)
            // Browsers open WebSockets on HTTP/2 connections this way.
            .enable_connect_protocol();
        builder
    }

    /// The HTTP/1.1 half of [`ServeConfig::builder`], for connections whose
    /// first bytes are not HTTP/2's preface.
    fn http1_builder(&self) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        if let Some(size) = self.http1_max_buf_size {
            builder.max_buf_size(size);
        }
        builder
    }
}

/// The first bytes of an HTTP/2 connection without TLS (h2c with prior
/// knowledge).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a connection's first bytes say about its protocol.
#[derive(Debug, PartialEq, Eq)]
enum FirstBytes {
    /// Not HTTP/2's preface: HTTP/1.
    Http1,
    /// HTTP/2's preface, or a beginning of it: hyper-util's auto builder
    /// reads on and decides.
    MaybeHttp2,
    /// Nothing within the header timeout, or the connection closed.
    Nothing,
}

/// Looks at the first bytes without taking them off the socket.
///
/// Why not leave it to hyper-util's auto builder alone: it reads up to 24
/// bytes to decide, then hands them to hyper ahead of the rest, so hyper
/// reads the request head in two pieces and grows its read buffer from 8
/// to 16 KiB on every HTTP/1.1 connection (massif: 16 KiB per open SSE
/// stream). Served by hyper's HTTP/1 builder directly, the head is read in
/// one piece. A client that sends nothing is dropped after the header
/// timeout, as one that sends too little is by hyper.
async fn first_bytes(tcp: &TcpStream, timeout: Duration) -> FirstBytes {
    let mut buf = [0u8; 24];
    match tokio::time::timeout(timeout, tcp.peek(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {
            if buf[..n] == H2_PREFACE[..n] {
                FirstBytes::MaybeHttp2
            } else {
                FirstBytes::Http1
            }
        }
        _ => FirstBytes::Nothing,
    }
}

/// Drives a hyper connection until it ends, or until `drain` starts, then
/// lets it finish what is in flight. A macro: hyper's HTTP/1 and
/// hyper-util's auto connections share `graceful_shutdown` by name only.
macro_rules! drive {
    ($connection:expr, $drain:expr) => {{
        // Boxed: the connection task's future would otherwise be as large as
        // the larger of the two connection types (HTTP/2's), on every
        // HTTP/1.1 connection too.
        let mut connection = Box::pin($connection);
        let draining = async {
            match $drain {
                Some(drain) => drain.draining().await,
                None => std::future::pending().await,
            }
        };
        // Errors are the client's (reset, timeout, bad bytes): nothing to do.
        tokio::select! {
            _ = connection.as_mut() => {}
            () = draining => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        }
    }};
}

/// Serves `app` on `listener` until accepting fails for good, with the
/// settings of `config`. Each request carries the peer's address as
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo), from which the
/// gateway sets `x-forwarded-for`.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    config: ServeConfig,
) -> io::Result<()> {
    run(listener, app, config, None).await
}

/// [`serve`] until `drain` is started, then shuts down gracefully: stops
/// accepting, lets requests in flight finish (HTTP/1.1 connections close
/// after their response, HTTP/2 ones get GOAWAY), while the gateway ends
/// its open streams (give it the same handle with
/// [`GatewayBuilder::drain`](crate::GatewayBuilder::drain)). Returns when
/// every connection and stream is closed, or after `grace`, when the
/// connections left are dropped.
///
/// ```no_run
/// # async fn run(app: axum::Router, drain: gateway_runtime::Drain) -> std::io::Result<()> {
/// use std::time::Duration;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let config = gateway_runtime::serve::ServeConfig::default();
/// let grace = Duration::from_secs(10);
/// gateway_runtime::serve::serve_with_drain(listener, app, config, drain, grace).await
/// # }
/// ```
pub async fn serve_with_drain(
    listener: TcpListener,
    app: axum::Router,
    config: ServeConfig,
    drain: Drain,
    grace: Duration,
) -> io::Result<()> {
    run(listener, app, config, Some((drain, grace))).await
}

async fn run(
    listener: TcpListener,
    app: axum::Router,
    config: ServeConfig,
    drain: Option<(Drain, Duration)>,
) -> io::Result<()> {
    let builder = Arc::new(config.builder());
    let http1 = Arc::new(config.http1_builder());
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    let signal = drain.as_ref().map(|(drain, _)| drain.clone());
    let draining = async move {
        match signal {
            Some(drain) => drain.draining().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(draining);
    loop {
        // A permit first: past the cap, connections wait in the backlog.
        let accepted = async {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .map_err(io::Error::other)?;
            Ok::<_, io::Error>((permit, listener.accept().await))
        };
        let (permit, accepted) = tokio::select! {
            accepted = accepted => accepted?,
            () = &mut draining => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (tcp, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        if config.tcp_nodelay {
            let _ = tcp.set_nodelay(true);
        }
        let (app, builder, http1) = (app.clone(), builder.clone(), http1.clone());
        let (body_timeout, write_timeout) = (config.body_timeout, config.write_timeout);
        let header_timeout = config.header_read_timeout;
        let drain = drain.as_ref().map(|(drain, _)| drain.clone());
        connections.spawn(async move {
            let first = first_bytes(&tcp, header_timeout).await;
            let io = TokioIo::new(WriteTimeout::new(tcp, write_timeout));
            let service =
                hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let exempt = BodyTimeoutExempt::default();
                    let mut request = request.map(|body| {
                        axum::body::Body::new(IdleBody::new(body, body_timeout, exempt.clone()))
                    });
                    request.extensions_mut().insert(ConnectInfo(remote));
                    request.extensions_mut().insert(exempt);
                    app.clone().oneshot(request)
                });
            match first {
                FirstBytes::Nothing => {}
                FirstBytes::Http1 => {
                    drive!(http1.serve_connection(io, service).with_upgrades(), &drain)
                }
                FirstBytes::MaybeHttp2 => {
                    drive!(builder.serve_connection_with_upgrades(io, service), &drain)
                }
            }
            drop(permit);
        });
    }
    // Draining: no new connection; wait for those open and the streams.
    drop(listener);
    let Some((drain, grace)) = drain else {
        return Ok(());
    };
    let closed = async {
        while connections.join_next().await.is_some() {}
        drain.streams_closed().await;
    };
    if tokio::time::timeout(grace, closed).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            streams = drain.open_streams(),
            "shutdown grace period over: dropping what is left"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Connection errors concern one client; others (out of file descriptors)
/// pass with time, as in hyper's and axum's accept loops.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The error of a request body that sent nothing for the configured time
/// (the gateway answers it with [`crate::GatewayError::BodyStalled`]).
#[derive(Debug)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body sent nothing for {:?}", self.0)
    }
}

impl std::error::Error for BodyTimeout {}

/// Set by the streaming drivers on a request whose body is a stream of
/// request messages (NDJSON client and bidi streaming): a client there may
/// rightly send nothing for a long time, so the body timeout does not apply.
#[derive(Clone, Debug, Default)]
pub(crate) struct BodyTimeoutExempt(Arc<AtomicBool>);

impl BodyTimeoutExempt {
    /// Lifts the body timeout of the request these parts belong to (when it
    /// is served by [`serve`]).
    pub(crate) fn apply(parts: &http::request::Parts) {
        if let Some(exempt) = parts.extensions.get::<BodyTimeoutExempt>() {
            exempt.0.store(true, Ordering::Relaxed);
        }
    }
}

/// A request body that fails when no frame comes for `timeout` while it is
/// being read (unless exempt).
struct IdleBody<B> {
    inner: B,
    timeout: Duration,
    exempt: BodyTimeoutExempt,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleBody<B> {
    fn new(inner: B, timeout: Duration, exempt: BodyTimeoutExempt) -> Self {
        IdleBody {
            inner,
            timeout,
            exempt,
            sleep: None,
        }
    }
}

impl<B> HttpBody for IdleBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.sleep = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending if this.exempt.0.load(Ordering::Relaxed) => Poll::Pending,
            Poll::Pending => {
                let timeout = this.timeout;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                ready!(sleep.as_mut().poll(cx));
                Poll::Ready(Some(Err(Box::new(BodyTimeout(timeout)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail with `TimedOut` once one has made no
/// progress for `timeout`: hyper then closes it.
struct WriteTimeout {
    inner: TcpStream,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl WriteTimeout {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        WriteTimeout {
            inner,
            timeout,
            sleep: None,
        }
    }

    /// Wraps a write-side poll: progress disarms the timer, waiting arms it.
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => {
                self.sleep = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                ready!(sleep.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client accepted no data",
                )))
            }
        }
    }
}

impl AsyncRead for WriteTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.guard(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.guard(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.guard(cx, |io, cx| io.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.guard(cx, |io, cx| io.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// What `first_bytes` says of a connection whose client sent `sent`,
    /// and that the bytes are still there to read afterwards.
    async fn classify(sent: &[u8]) -> FirstBytes {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        client.write_all(sent).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let first = first_bytes(&server, Duration::from_millis(200)).await;
        let mut left = vec![0u8; sent.len()];
        if !sent.is_empty() {
            tokio::io::AsyncReadExt::read_exact(&mut server, &mut left)
                .await
                .unwrap();
        }
        assert_eq!(left, sent, "peeked bytes stay on the socket");
        first
    }

    #[tokio::test]
    async fn first_bytes_tell_http1_from_http2() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n").await, FirstBytes::Http1);
        assert_eq!(classify(b"PRI / HTTP/1.1\r\n").await, FirstBytes::Http1);
        assert_eq!(classify(H2_PREFACE).await, FirstBytes::MaybeHttp2);
        assert_eq!(classify(b"PRI * HTTP/2").await, FirstBytes::MaybeHttp2);
        assert_eq!(classify(b"").await, FirstBytes::Nothing);
    }
}
