//! Slow and stalling clients against the runtime's `serve` and the stream
//! stall timeout, over real loopback sockets: slowloris headers, a body
//! shorter than its `Content-Length`, the connection cap, and streams whose
//! client stops accepting data (HTTP/1.1, HTTP/2, WebSocket). Short timeouts
//! keep the tests quick; the checks are bounds, not exact times.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::Backend;
use gateway_e2e::serve::spawn_http_with;
use gateway_e2e::streaming::record;
use gateway_runtime::Gateway;
use gateway_runtime::serve::ServeConfig;
use gateway_runtime::streaming::WebSocketConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const STALL: Duration = Duration::from_millis(300);

fn stalling_gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .stall_timeout(Some(STALL))
        .build()
}

async fn start(backend: Backend, gateway: Gateway, config: ServeConfig) -> SocketAddr {
    spawn_http_with(common::app(backend, &gateway).await, config).await
}

/// Reads until the server closes; returns what came and when it closed.
async fn read_until_closed(tcp: &mut TcpStream, within: Duration) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within, tcp.read(&mut buf))
            .await
            .expect("the server closes the connection")
        {
            Ok(0) | Err(_) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Waits for a record (at most 25 s: under the 30 s default stall timeout,
/// well over what a busy machine needs to act on the short ones here).
async fn wait_for(tag: &str, what: impl Fn(gateway_e2e::streaming::StreamRecord) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(25);
    while !record(tag).is_some_and(&what) {
        assert!(Instant::now() < deadline, "{tag}: {:?}", record(tag));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn slowloris_headers_are_cut_off() {
    let config = ServeConfig::default().header_read_timeout(Duration::from_millis(500));
    let addr = start(Backend::InProcess, Gateway::default(), config).await;
    // 50 clients, each sending one header byte every 100 ms, forever.
    let start = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(tokio::spawn(async move {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            let line = b"GET /v1/echo/hi HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            for byte in line {
                if tcp.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut buf = [0u8; 256];
                // Closed by the server without an answer: EOF (or a reset).
                match tokio::time::timeout(Duration::from_millis(1), tcp.read(&mut buf)).await {
                    Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
                    Ok(Ok(n)) => panic!("answered: {:?}", &buf[..n]),
                    Err(_) => {}
                }
            }
            None
        }));
    }
    for client in clients {
        let closed = client
            .await
            .unwrap()
            .expect("closed before the head was done");
        let after = closed - start;
        // Never before the timeout; after it, by the configured 500 ms
        // rather than the 10 s default, with room for a busy machine.
        assert!(after >= Duration::from_millis(500), "{after:?}");
        assert!(after < Duration::from_secs(8), "{after:?}");
    }
    // A normal client is served meanwhile and after.
    let body = reqwest::get(format!("http://{addr}/v1/echo/hi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#""text":"hi""#), "{body}");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let config = ServeConfig::default().header_read_timeout(Duration::from_millis(300));
    let addr = start(Backend::InProcess, Gateway::default(), config).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(5)).await;
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "{got:?}");
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed() {
    // Before the first byte nothing tells HTTP/1.1 from HTTP/2: the header
    // timeout still applies, or silent connections would hold their slots
    // (of `max_connections`) for ever.
    let config = ServeConfig::default().header_read_timeout(Duration::from_millis(300));
    let addr = start(Backend::InProcess, Gateway::default(), config).await;
    let start = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let (got, closed) = read_until_closed(&mut tcp, Duration::from_secs(8)).await;
    assert!(got.is_empty(), "{got:?}");
    assert!(
        closed - start >= Duration::from_millis(300),
        "{:?}",
        closed - start
    );
}

#[tokio::test]
async fn request_heads_split_anywhere_are_served() {
    // The first bytes decide the protocol without being taken off the
    // socket; a head that arrives a byte at a time is HTTP/1.1 all the same,
    // and so is one that starts like HTTP/2's preface.
    let addr = start(
        Backend::InProcess,
        Gateway::default(),
        ServeConfig::default(),
    )
    .await;
    for head in [
        &b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
        &b"PRI /v1/echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
    ] {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        for byte in head {
            tcp.write_all(&[*byte]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(8)).await;
        let text = String::from_utf8_lossy(&got);
        if head.starts_with(b"GET") {
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
            assert!(text.contains(r#""text":"hi""#), "{text}");
        } else {
            // No such method route: an HTTP answer, not a dropped connection.
            assert!(text.starts_with("HTTP/1.1 405 "), "{text}");
        }
    }
}

#[tokio::test]
async fn stalled_body_gets_408() {
    let config = ServeConfig::default().body_timeout(Duration::from_millis(300));
    for backend in [Backend::InProcess, Backend::Remote] {
        let addr = start(backend, Gateway::default(), config.clone()).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        // 100 bytes announced, 10 sent.
        tcp.write_all(b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":1")
            .await
            .unwrap();
        let started = Instant::now();
        let (got, closed) = read_until_closed(&mut tcp, Duration::from_secs(10)).await;
        let text = String::from_utf8(got).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "\r\n\r\n{\"code\":4,\"message\":\"the request body sent nothing for 300ms\",\"details\":[]}"
            ),
            "{text}"
        );
        assert!(closed - started >= Duration::from_millis(300));
    }
}

#[tokio::test]
async fn request_streams_may_be_quiet_longer_than_the_body_timeout() {
    let config = ServeConfig::default().body_timeout(Duration::from_millis(200));
    let addr = start(Backend::InProcess, Gateway::default(), config).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"POST /streaming/bidi/bulk-capitalize HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\ne\r\n{\"text\":\"ab\"}\n\r\n")
        .await
        .unwrap();
    // Quiet for three body timeouts, then one more value and the end.
    tokio::time::sleep(Duration::from_millis(600)).await;
    tcp.write_all(b"e\r\n{\"text\":\"cd\"}\n\r\n0\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(10)).await;
    let text = String::from_utf8(got).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("{\"text\":\"AB\"}\n") && text.contains("{\"text\":\"CD\"}\n"),
        "{text}"
    );
}

#[tokio::test]
async fn connection_cap_holds_extra_connections_back() {
    let config = ServeConfig::default().max_connections(2);
    let addr = start(Backend::InProcess, Gateway::default(), config).await;
    async fn ask(tcp: &mut TcpStream) -> Result<bool, tokio::time::error::Elapsed> {
        tcp.write_all(b"GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf))
            .await
            .map(|n| buf[..n.unwrap()].starts_with(b"HTTP/1.1 200 OK"))
    }
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    assert_eq!(ask(&mut first).await, Ok(true));
    assert_eq!(ask(&mut second).await, Ok(true));
    // The third waits in the backlog: no answer while two are open.
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(ask(&mut third).await.is_err(), "answered past the cap");
    drop(first);
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
}

/// A socket with a small receive buffer, so that a client that does not
/// read stalls the server quickly.
async fn small_window(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// `GET path` over HTTP/1.1 on a socket nobody reads until the call was
/// cancelled; then everything that came, de-chunked.
async fn stalled_http1(addr: SocketAddr, path: &str, accept: &str, tag: &str) -> String {
    let mut tcp = small_window(addr).await;
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    wait_for(tag, |r| r.produced > 0).await;
    // The client accepts nothing: after the stall timeout the call is cancelled.
    wait_for(tag, |r| r.dropped).await;
    let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(20)).await;
    let text = String::from_utf8(got).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    // De-chunk.
    let mut out = String::new();
    let mut rest = body;
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

#[tokio::test]
async fn slow_consumer_ends_sse_and_ndjson_streams() {
    // The connection's own write timeout is long: the stream's stall
    // timeout acts first, and the connection survives to tell why.
    let config = ServeConfig::default().write_timeout(Duration::from_secs(60));
    for backend in [Backend::InProcess, Backend::Remote] {
        let addr = start(backend, stalling_gateway(), config.clone()).await;
        let tag = format!("stall-sse-{backend:?}");
        let body = stalled_http1(
            addr,
            &format!("/streaming/server/generate?count=2000000000&tag={tag}"),
            "text/event-stream",
            &tag,
        )
        .await;
        assert!(body.starts_with("data: {\"index\":0,"), "{}", &body[..100]);
        assert!(
            body.ends_with("event: failure\ndata: {\"code\":8,\"message\":\"slow consumer: the client accepted no data for 300ms\",\"details\":[]}\n\n"),
            "{backend:?}: {}",
            &body[body.len() - 200..]
        );
        let tag = format!("stall-ndjson-{backend:?}");
        let body = stalled_http1(
            addr,
            &format!("/streaming/server/generate?count=2000000000&tag={tag}"),
            "application/x-ndjson",
            &tag,
        )
        .await;
        assert!(
            body.ends_with("\n{\"error\":{\"code\":8,\"message\":\"slow consumer: the client accepted no data for 300ms\",\"details\":[]}}\n"),
            "{backend:?}: {}",
            &body[body.len() - 200..]
        );
    }
}

#[tokio::test]
async fn a_quiet_upstream_is_not_a_slow_consumer() {
    // Messages 500 ms apart, longer than the 300 ms stall timeout: the body
    // waits for its upstream, not for the client, and must not be ended.
    let addr = start(Backend::Remote, stalling_gateway(), ServeConfig::default()).await;
    for accept in ["text/event-stream", "application/x-ndjson"] {
        let tag = format!("quiet-{accept}");
        let body = reqwest::Client::new()
            .get(format!(
                "http://{addr}/streaming/server/generate?count=3&delayMs=500&tag={tag}"
            ))
            .header("accept", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let expected = if accept == "text/event-stream" {
            "data: {\"index\":2,\"id\":\"c2\",\"kind\":\"even\",\"lastEventId\":\"\"}\n\n"
        } else {
            "{\"index\":2,\"id\":\"c2\",\"kind\":\"even\",\"lastEventId\":\"\"}\n"
        };
        assert!(body.contains(expected), "{accept}: {body}");
        assert!(!body.contains("slow consumer"), "{accept}: {body}");
        assert_eq!(record(&tag).unwrap().produced, 3);
    }
}

#[tokio::test]
async fn slow_consumer_without_http2_window_is_cancelled() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let addr = start(
        Backend::InProcess,
        stalling_gateway(),
        ServeConfig::default(),
    )
    .await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    // A client that grants no stream window: nothing can be sent to it.
    let (mut send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    let tag = "stall-h2";
    let request = http::Request::get(format!(
        "http://{addr}/streaming/server/generate?count=2000000000&tag={tag}"
    ))
    .header("accept", "text/event-stream")
    .body(http_body_util::Empty::<bytes::Bytes>::new())
    .unwrap();
    let response = send.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    wait_for(tag, |r| r.produced > 0).await;
    let started = Instant::now();
    wait_for(tag, |r| r.dropped).await;
    // Cancelled after the 300 ms stall timeout (well before the 30 s
    // default, with room for a busy machine), having produced only what
    // fits in the stream's send buffer (64 KiB, about a thousand events)
    // and the hand-over buffers, not two billion.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(record(tag).unwrap().produced < 10_000, "{:?}", record(tag));
    drop(response);
}

#[tokio::test]
async fn slow_consumer_websocket_is_dropped() {
    let config = ServeConfig::default().write_timeout(Duration::from_secs(60));
    let addr = start(Backend::InProcess, stalling_gateway(), config).await;
    let mut tcp = small_window(addr).await;
    tcp.write_all(b"GET /streaming/server/generate?count=2000000000&tag=stall-ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        .await
        .unwrap();
    // An empty masked text frame: the request as the query says.
    tcp.write_all(&[0x81, 0x80, 1, 2, 3, 4]).await.unwrap();
    wait_for("stall-ws", |r| r.produced > 0).await;
    wait_for("stall-ws", |r| r.dropped).await;
    // The socket is dropped: reading drains what was sent, then the end.
    let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(20)).await;
    assert!(got.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
}

#[tokio::test]
async fn client_that_reads_nothing_is_disconnected_by_the_write_timeout() {
    // No stream stall limit: the connection's write timeout ends it.
    let gateway = Gateway::builder().stall_timeout(None).build();
    let config = ServeConfig::default().write_timeout(Duration::from_millis(300));
    let addr = start(Backend::InProcess, gateway, config).await;
    let mut tcp = small_window(addr).await;
    tcp.write_all(b"GET /streaming/server/generate?count=2000000000&tag=stall-write HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    wait_for("stall-write", |r| r.produced > 0).await;
    wait_for("stall-write", |r| r.dropped).await;
    let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(20)).await;
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

/// A connection whose reads can be switched off: a client that stops
/// reading its socket (and so never answers an HTTP/2 PING).
struct Freezable {
    inner: TcpStream,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl tokio::io::AsyncRead for Freezable {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.frozen.load(std::sync::atomic::Ordering::SeqCst) {
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Freezable {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn http2_client_that_stops_reading_is_evicted_by_keep_alive() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    // No stream stall limit and a long write timeout: only the HTTP/2
    // keep-alive can notice.
    let gateway = Gateway::builder().stall_timeout(None).build();
    let config = ServeConfig::default()
        .write_timeout(Duration::from_secs(60))
        .http2_keep_alive(Some(Duration::from_millis(200)), Duration::from_millis(300));
    let addr = start(Backend::InProcess, gateway, config).await;
    let frozen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let io = Freezable {
        inner: TcpStream::connect(addr).await.unwrap(),
        frozen: frozen.clone(),
    };
    // Large windows: the server may send a lot before flow control stops it.
    let (mut send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(16 << 20)
        .initial_connection_window_size(16 << 20)
        .handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut streams = Vec::new();
    for i in 0..4 {
        let tag = format!("h2-frozen-{i}");
        let request = http::Request::get(format!(
            "http://{addr}/streaming/server/notifications?delayMs=20&tag={tag}"
        ))
        .header("accept", "text/event-stream")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
        streams.push(send.send_request(request).await.unwrap());
        wait_for(&tag, |r| r.produced > 0).await;
    }
    frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = Instant::now();
    // PINGs go unanswered: the connection is closed, every call cancelled.
    for i in 0..4 {
        wait_for(&format!("h2-frozen-{i}"), |r| r.dropped).await;
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn small_read_buffer_limits_request_heads_to_8_kib() {
    // 10 KiB of headers: fine with hyper's default buffer, 431 with 8 KiB.
    let big = format!(
        "GET /v1/echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(10 * 1024)
    );
    for (config, status) in [
        (ServeConfig::default(), "HTTP/1.1 200 OK\r\n"),
        (
            ServeConfig::default().http1_max_buf_size(8 * 1024),
            "HTTP/1.1 431 Request Header Fields Too Large\r\n",
        ),
    ] {
        let addr = start(Backend::InProcess, Gateway::default(), config).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(big.as_bytes()).await.unwrap();
        let (got, _) = read_until_closed(&mut tcp, Duration::from_secs(10)).await;
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with(status), "{text}");
    }
}
