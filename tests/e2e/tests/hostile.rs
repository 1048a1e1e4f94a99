//! Hostile input: malformed requests sent as raw bytes over loopback, each
//! with the exact answer it must get. Never a 5xx for a client's mistake.
//!
//! The matrix below is table-driven: to cover a new bad request, add one
//! `case(…)` line to [`cases`] with the raw request and the expected status
//! and body. Both backends (remote and in-process) run every line.

mod common;

use std::time::Duration;

use common::{Backend, Env};
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---------------------------------------------------------------- raw HTTP

/// An HTTP/1.1 answer as read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// Header names lower-cased, in order.
    headers: Vec<(String, String)>,
    /// The body, de-chunked.
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as is and reads the answer until the server closes
/// (requests say `Connection: close`).
async fn raw(env: &Env, request: &[u8]) -> Answer {
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut bytes))
        .await
        .expect("the server answers and closes")
        .unwrap();
    parse_answer(&bytes)
}

fn parse_answer(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").expect("chunk size");
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

/// A raw request: `head` is the request line and headers (one per line,
/// `\n`-separated); `Host`, `Connection: close` and the body length are added.
fn request(head: &str, body: &str) -> Vec<u8> {
    let mut out = String::new();
    for line in head.lines() {
        out.push_str(line.trim());
        out.push_str("\r\n");
    }
    out.push_str("Host: gateway.test\r\nConnection: close\r\n");
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

// ---------------------------------------------------------------- the matrix

/// What the answer must be.
enum Expect {
    /// This exact body.
    Body(String),
    /// A body starting with this.
    Prefix(String),
    /// A header with this value (and any body).
    Header(&'static str, &'static str),
}

struct Case {
    name: String,
    request: Vec<u8>,
    status: u16,
    expect: Vec<Expect>,
}

fn case(name: impl Into<String>, request: Vec<u8>, status: u16, expect: Vec<Expect>) -> Case {
    Case {
        name: name.into(),
        request,
        status,
        expect,
    }
}

fn body(s: &str) -> Expect {
    Expect::Body(s.to_owned())
}

/// The error body of a 400 for a bad JSON body.
fn invalid_body(message: &str) -> Expect {
    Expect::Body(format!(
        r#"{{"code":3,"message":"invalid request body: {}","details":[]}}"#,
        message.replace('"', "\\\"")
    ))
}

/// `{"a":{"a":…1…}}`, `n` objects deep.
fn structs(n: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n))
}

/// `[[…[1]…]]`, `n` arrays deep.
fn lists(n: usize) -> String {
    format!("{}1{}", "[".repeat(n), "]".repeat(n))
}

const TOO_DEEP: &str = r#"{"code":3,"message":"invalid request body: exceeded the maximum protobuf message nesting depth of 100"#;

fn echo(json: &str) -> Vec<u8> {
    request(
        "POST /v1/echo HTTP/1.1\nContent-Type: application/json",
        json,
    )
}

const UPGRADE: &str = "Connection: Upgrade\nUpgrade: websocket";
const KEY: &str = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";

/// Every bad request and its answer; add a line for a new case (one line
/// each, hence no rustfmt here).
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let bad_timeout = |value: &str| {
        format!(
            r#"{{"code":3,"message":"invalid header \"grpc-timeout\": \"{value}\" is not a timeout: 1 to 8 digits and a unit (H, M, S, m, u, n)","details":[]}}"#
        )
    };
    vec![
        // Protobuf nesting, counted as the decoder counts: each Struct level is
        // three messages (Struct, map entry, Value), each list level two.
        case("Struct 33 deep", echo(&format!(r#"{{"attrs":{}}}"#, structs(33))), 200, vec![]),
        case("Struct 34 deep", echo(&format!(r#"{{"attrs":{}}}"#, structs(34))), 400, vec![Expect::Prefix(TOO_DEEP.into())]),
        case("Struct 99 deep", echo(&format!(r#"{{"attrs":{}}}"#, structs(98))), 400, vec![Expect::Prefix(TOO_DEEP.into())]),
        case("ListValue 50 deep", echo(&format!(r#"{{"list":{}}}"#, lists(50))), 200, vec![]),
        case("ListValue 51 deep", echo(&format!(r#"{{"list":{}}}"#, lists(51))), 400, vec![Expect::Prefix(TOO_DEEP.into())]),
        case("Value 49 lists deep", echo(&format!(r#"{{"anyValue":{}}}"#, lists(49))), 200, vec![]),
        case("Value 50 lists deep", echo(&format!(r#"{{"anyValue":{}}}"#, lists(50))), 400, vec![Expect::Prefix(TOO_DEEP.into())]),
        // An Any's content is decoded on its own: its levels count from 0.
        case("Any holding a Struct 33 deep", echo(&format!(r#"{{"detail":{{"@type":"type.googleapis.com/google.protobuf.Struct","value":{}}}}}"#, structs(33))), 200, vec![]),
        case("Any holding a Struct 34 deep", echo(&format!(r#"{{"detail":{{"@type":"type.googleapis.com/google.protobuf.Struct","value":{}}}}}"#, structs(34))), 400, vec![Expect::Prefix(TOO_DEEP.into())]),
        // JSON nesting itself.
        case("JSON 101 deep", echo(&format!(r#"{{"unknown":{}}}"#, "[".repeat(100))), 400, vec![Expect::Prefix(r#"{"code":3,"message":"invalid request body: exceeded the maximum nesting depth of 100"#.into())]),
        // Duplicate keys, as Go's protojson.
        case("duplicate field", echo(r#"{"text":"a","text":"b"}"#), 400, vec![invalid_body(r#"invalid value for field "text": duplicate field "text" at line 1 column 13"#)]),
        case("field under both names", echo(r#"{"maybeI32":1,"maybe_i32":2}"#), 400, vec![invalid_body(r#"invalid value for field "maybe_i32": duplicate field "maybe_i32" at line 1 column 15"#)]),
        case("duplicate map key", echo(r#"{"labels":{"a":"1","a":"2"}}"#), 400, vec![invalid_body(r#"invalid value for field "labels[a]": duplicate map key "a" at line 1 column 24"#)]),
        case("duplicate Struct key", echo(r#"{"attrs":{"a":1,"a":2}}"#), 400, vec![invalid_body(r#"invalid value for field "attrs[a]": duplicate map key "a" at line 1 column 21"#)]),
        case("oneof member twice", echo(r#"{"choiceText":"a","choiceText":"b"}"#), 400, vec![invalid_body(r#"invalid value for field "choiceText": duplicate field "choiceText" at line 1 column 19"#)]),
        case("second member of a oneof", echo(r#"{"choiceText":"a","choiceNum":1}"#), 400, vec![invalid_body(r#"invalid value for field "choiceNum": field "choiceNum" sets oneof `choice`, which another field already set at line 1 column 31"#)]),
        case("duplicate @type in an Any", echo(r#"{"detail":{"@type":"type.googleapis.com/google.protobuf.Empty","@type":"x"}}"#), 400, vec![invalid_body(r#"invalid value for field "detail.@type": duplicate field "@type" at line 1 column 72"#)]),
        // Grpc-Timeout: a malformed value is refused, in every kind of call.
        case("Grpc-Timeout -1S, unary", request("GET /v1/echo/hi HTTP/1.1\ngrpc-timeout: -1S", ""), 400, vec![body(&bad_timeout("-1S"))]),
        case("Grpc-Timeout 11 digits, unary", request("GET /v1/echo/hi HTTP/1.1\ngrpc-timeout: 99999999999H", ""), 400, vec![body(&bad_timeout("99999999999H"))]),
        case("Grpc-Timeout abc, SSE", request("GET /streaming/server/generate?count=1 HTTP/1.1\nAccept: text/event-stream\ngrpc-timeout: abc", ""), 400, vec![body(&bad_timeout("abc"))]),
        case("Grpc-Timeout abc, NDJSON", request("GET /streaming/server/generate?count=1 HTTP/1.1\ngrpc-timeout: abc", ""), 400, vec![body(&bad_timeout("abc"))]),
        case("Grpc-Timeout 1X, client streaming", request("POST /streaming/client/add HTTP/1.1\ngrpc-timeout: 1X", "{\"value\":1}\n"), 400, vec![body(&bad_timeout("1X"))]),
        case("Grpc-Timeout abc, WebSocket", request(&format!("GET /streaming/bidi/chat HTTP/1.1\n{UPGRADE}\n{KEY}\nSec-WebSocket-Version: 13\ngrpc-timeout: abc"), ""), 400, vec![body(&bad_timeout("abc"))]),
        // WebSocket handshakes (RFC 6455 §4.2.1, §4.4).
        case("WebSocket without a key", request(&format!("GET /streaming/bidi/chat HTTP/1.1\n{UPGRADE}\nSec-WebSocket-Version: 13"), ""), 400, vec![body(r#"{"code":3,"message":"invalid WebSocket handshake: missing Sec-WebSocket-Key header","details":[]}"#)]),
        case("WebSocket key not 16 bytes", request(&format!("GET /streaming/bidi/chat HTTP/1.1\n{UPGRADE}\nSec-WebSocket-Key: abc\nSec-WebSocket-Version: 13"), ""), 400, vec![body(r#"{"code":3,"message":"invalid WebSocket handshake: Sec-WebSocket-Key must be 16 bytes in base64","details":[]}"#)]),
        case("WebSocket version 8", request(&format!("GET /streaming/bidi/chat HTTP/1.1\n{UPGRADE}\n{KEY}\nSec-WebSocket-Version: 8"), ""), 426, vec![Expect::Header("sec-websocket-version", "13"), body(r#"{"code":3,"message":"invalid WebSocket handshake: Sec-WebSocket-Version must be 13","details":[]}"#)]),
        case("WebSocket without a version", request(&format!("GET /streaming/bidi/chat HTTP/1.1\n{UPGRADE}\n{KEY}"), ""), 426, vec![Expect::Header("sec-websocket-version", "13")]),
        case("WebSocket upgrade on a POST binding", request(&format!("POST /streaming/bidi/bulk-capitalize HTTP/1.1\n{UPGRADE}\n{KEY}\nSec-WebSocket-Version: 13"), ""), 501, vec![body(r#"{"code":12,"message":"WebSocket streaming is not available for this endpoint: WebSocket needs a GET binding; this one is POST","details":[]}"#)]),
    ]
}

fn gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .build()
}

async fn run_matrix(backend: Backend) {
    let env = Env::start(backend, gateway()).await;
    let mut failures = Vec::new();
    for case in cases() {
        let answer = raw(&env, &case.request).await;
        let mut ok = answer.status == case.status;
        for expect in &case.expect {
            ok &= match expect {
                Expect::Body(b) => &answer.body == b,
                Expect::Prefix(p) => answer.body.starts_with(p.as_str()),
                Expect::Header(k, v) => answer.header(k) == Some(*v),
            };
        }
        // Never a 5xx for a client's mistake (501 only says that the
        // endpoint does not offer what was asked for).
        ok &= answer.status < 500 || answer.status == 501;
        if !ok {
            let mut shown = answer.body.clone();
            shown.truncate(400);
            failures.push(format!(
                "{}: got {} {:?} {shown}",
                case.name, answer.status, answer.headers
            ));
        }
    }
    assert!(failures.is_empty(), "{backend:?}:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn matrix_remote() {
    run_matrix(Backend::Remote).await;
}

#[tokio::test]
async fn matrix_in_process() {
    run_matrix(Backend::InProcess).await;
}

#[tokio::test]
async fn matrix_direct() {
    run_matrix(Backend::Direct).await;
}

// ------------------------------------------------ WebSocket protocol errors

/// Opens a WebSocket with a raw handshake and returns the socket after the
/// 101 head.
async fn raw_websocket(env: &Env, path: &str, extra: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        got.push(byte[0]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&got)
    );
    tcp
}

/// A masked client frame (mask 0x01020304).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mask = [1u8, 2, 3, 4];
    let mut out = vec![first, 0x80 | payload.len() as u8];
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// Server frames until the connection ends: `(opcode, payload)`.
async fn server_frames(tcp: &mut TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut bytes))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 2 {
        let (opcode, len) = (rest[0] & 0x0f, (rest[1] & 0x7f) as usize);
        let (len, start) = match len {
            126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            _ => (len, 2),
        };
        frames.push((opcode, rest[start..start + len].to_vec()));
        rest = &rest[start + len..];
    }
    frames
}

/// The close frame's code and reason, checking that it is the last frame.
fn close_of(frames: &[(u8, Vec<u8>)]) -> (u16, String) {
    let (opcode, payload) = frames.last().expect("a close frame");
    assert_eq!(*opcode, 8, "{frames:?}");
    (
        u16::from_be_bytes([payload[0], payload[1]]),
        String::from_utf8(payload[2..].to_vec()).unwrap(),
    )
}

both_backends!(
    websocket_protocol_errors_get_a_close_frame,
    gateway(),
    |env| {
        let cases: [(&str, Vec<u8>, (u16, &str)); 4] = [
            (
                "text frame that is not UTF-8",
                client_frame(0x81, &[0xff, 0xfe]),
                (1007, "text frame is not valid UTF-8"),
            ),
            (
                "unmasked frame",
                vec![0x81, 0x02, b'{', b'}'],
                (1002, "client frames must be masked"),
            ),
            (
                "reserved data opcode",
                client_frame(0x83, b""),
                (1002, "reserved opcode"),
            ),
            (
                "reserved control opcode",
                client_frame(0x8b, b""),
                (1002, "reserved opcode"),
            ),
        ];
        for (name, frame, (code, reason)) in cases {
            // Bidi: the frame reader meets the bad frame.
            let mut tcp = raw_websocket(&env, "/streaming/bidi/chat", "").await;
            tcp.write_all(&frame).await.unwrap();
            let frames = server_frames(&mut tcp).await;
            assert_eq!(close_of(&frames), (code, reason.to_owned()), "{name}");
            assert_eq!(frames.len(), 1, "{name}: only the close frame: {frames:?}");
        }
    }
);

both_backends!(
    websocket_protocol_error_cancels_the_call,
    gateway(),
    |env| {
        let tag = format!("ws-protocol-{:?}", std::thread::current().id());
        let mut tcp = raw_websocket(&env, "/streaming/server/notifications", "").await;
        tcp.write_all(&client_frame(
            0x81,
            format!(r#"{{"tag":"{tag}","delayMs":20}}"#).as_bytes(),
        ))
        .await
        .unwrap();
        wait_for(&tag, |r| r.produced >= 2).await;
        tcp.write_all(&[0x81, 0x02, b'{', b'}']).await.unwrap();
        let frames = server_frames(&mut tcp).await;
        assert_eq!(
            close_of(&frames),
            (1002, "client frames must be masked".to_owned())
        );
        wait_for(&tag, |r| r.dropped).await;
    }
);

async fn wait_for(tag: &str, what: impl Fn(gateway_e2e::streaming::StreamRecord) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !gateway_e2e::streaming::record(tag).is_some_and(&what) {
        assert!(std::time::Instant::now() < deadline, "{tag}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ------------------------------------------------ Grpc-Timeout on streams

both_backends!(stream_deadline_ends_every_mode, gateway(), |env| {
    // SSE: a `failure` event with DEADLINE_EXCEEDED, then the end.
    let tag = format!("deadline-sse-{:?}", std::thread::current().id());
    let answer = raw(
        &env,
        &request(
            &format!("GET /streaming/server/notifications?delayMs=100&tag={tag} HTTP/1.1\nAccept: text/event-stream\ngrpc-timeout: 350m"),
            "",
        ),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.ends_with(
            "event: failure\ndata: {\"code\":4,\"message\":\"deadline exceeded\",\"details\":[]}\n\n"
        ),
        "{}",
        answer.body
    );
    assert!(
        answer.body.starts_with("data: {\"text\":\"note 0"),
        "{}",
        answer.body
    );
    wait_for(&tag, |r| r.dropped).await;

    // NDJSON: the error line.
    let tag = format!("deadline-ndjson-{:?}", std::thread::current().id());
    let answer = raw(
        &env,
        &request(
            &format!("GET /streaming/server/notifications-ndjson?delayMs=100&tag={tag} HTTP/1.1\ngrpc-timeout: 350m"),
            "",
        ),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.ends_with(
            "\n{\"error\":{\"code\":4,\"message\":\"deadline exceeded\",\"details\":[]}}\n"
        ),
        "{}",
        answer.body
    );
    wait_for(&tag, |r| r.dropped).await;

    // WebSocket: the error frame, then close 1011.
    let tag = format!("deadline-ws-{:?}", std::thread::current().id());
    let mut tcp = raw_websocket(
        &env,
        "/streaming/server/notifications",
        "grpc-timeout: 350m\r\n",
    )
    .await;
    tcp.write_all(&client_frame(
        0x81,
        format!(r#"{{"tag":"{tag}","delayMs":100}}"#).as_bytes(),
    ))
    .await
    .unwrap();
    let frames = server_frames(&mut tcp).await;
    let (opcode, error) = &frames[frames.len() - 2];
    assert_eq!(
        (*opcode, String::from_utf8_lossy(error).as_ref()),
        (
            1,
            r#"{"code":4,"message":"deadline exceeded","details":[]}"#
        )
    );
    assert_eq!(close_of(&frames), (1011, "deadline exceeded".to_owned()));
    wait_for(&tag, |r| r.dropped).await;

    // Bidi over NDJSON whose requests never end: the same error line.
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(b"POST /streaming/bidi/bulk-capitalize HTTP/1.1\r\nHost: x\r\nConnection: close\r\ngrpc-timeout: 300m\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"text\":\r\n6\r\n\"abc\"}\r\n1\r\n\n\r\n")
        .await
        .unwrap();
    // The response ends (last chunk) while the request body is still open.
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    while !bytes.ends_with(b"\r\n0\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(20), tcp.read(&mut buf))
            .await
            .expect("the response ends")
            .unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..n]);
    }
    let answer = parse_answer(&bytes);
    assert_eq!(
        answer.body,
        "{\"text\":\"ABC\"}\n{\"error\":{\"code\":4,\"message\":\"deadline exceeded\",\"details\":[]}}\n"
    );
});

both_backends!(deadline_of_request_streams, gateway(), |env| {
    // Client streaming whose body never ends: the deadline comes before the
    // one response, a plain 504.
    let mut tcp = TcpStream::connect(env.addr).await.unwrap();
    tcp.write_all(b"POST /streaming/client/add HTTP/1.1\r\nHost: x\r\nConnection: close\r\ngrpc-timeout: 300m\r\nTransfer-Encoding: chunked\r\n\r\nc\r\n{\"value\":1}\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    while !bytes.ends_with(b"\"details\":[]}") {
        let n = tokio::time::timeout(Duration::from_secs(20), tcp.read(&mut buf))
            .await
            .expect("the answer comes")
            .unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..n]);
    }
    let answer = parse_answer(&bytes);
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            504,
            r#"{"code":4,"message":"deadline exceeded","details":[]}"#
        )
    );

    // A WebSocket bidi chat that stays open: error frame, close 1011.
    let mut tcp = raw_websocket(&env, "/streaming/bidi/chat", "grpc-timeout: 300m\r\n").await;
    tcp.write_all(&client_frame(0x81, br#"{"text":"hi"}"#))
        .await
        .unwrap();
    let frames = server_frames(&mut tcp).await;
    let texts: Vec<String> = frames
        .iter()
        .filter(|(opcode, _)| *opcode == 1)
        .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert_eq!(
        texts,
        [
            r#"{"user":"bot","text":"echo: hi"}"#,
            r#"{"code":4,"message":"deadline exceeded","details":[]}"#
        ]
    );
    assert_eq!(close_of(&frames), (1011, "deadline exceeded".to_owned()));
});

// ------------------------------------------------ HTTP/2 extended CONNECT

/// Sends an extended CONNECT over h2c; returns status, a header and body.
async fn h2_connect(
    env: &Env,
    path: &str,
    protocol: Option<&'static str>,
    version: Option<&str>,
) -> (u16, Option<String>, String) {
    use http_body_util::BodyExt;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let tcp = TcpStream::connect(env.addr).await.unwrap();
    let (mut send, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = || {
        let mut b = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(format!("http://{}{path}", env.addr));
        if let Some(v) = version {
            b = b.header("sec-websocket-version", v);
        }
        if let Some(p) = protocol {
            b = b.extension(hyper::ext::Protocol::from_static(p));
        }
        b.body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap()
    };
    // The client refuses extended CONNECT until the server's SETTINGS came.
    let mut response = None;
    for _ in 0..100 {
        match send.send_request(request()).await {
            Ok(r) => {
                response = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let response = response.expect("sent");
    let status = response.status().as_u16();
    let version = response
        .headers()
        .get("sec-websocket-version")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, version, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn http2_connect_refusals() {
    let env = Env::start(Backend::InProcess, gateway()).await;
    assert_eq!(
        h2_connect(&env, "/streaming/bidi/chat", Some("foo"), Some("13")).await,
        (
            400,
            None,
            r#"{"code":3,"message":"invalid WebSocket handshake: extended CONNECT for protocol \"foo\"; only \"websocket\" is supported","details":[]}"#.to_owned()
        )
    );
    assert_eq!(
        h2_connect(
            &env,
            "/streaming/server/notifications-ndjson",
            Some("foo"),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        h2_connect(&env, "/streaming/bidi/chat", Some("websocket"), Some("8")).await,
        (
            426,
            Some("13".to_owned()),
            r#"{"code":3,"message":"invalid WebSocket handshake: Sec-WebSocket-Version must be 13","details":[]}"#.to_owned()
        )
    );
    assert_eq!(
        h2_connect(&env, "/streaming/bidi/chat", Some("websocket"), None)
            .await
            .0,
        426
    );
}
