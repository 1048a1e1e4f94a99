//! gRPC trailers of a streamed response as HTTP trailers: byte for byte over
//! HTTP/1.1 (which needs them announced) and over h2c (which does not),
//! from a real tonic server that ends its calls with custom trailers; and
//! trailers that carry status details which are not base64.

use std::net::SocketAddr;

use bytes::Bytes;
use gateway_e2e::e2e::stream::v1::streaming_test_gateway;
use gateway_e2e::serve::spawn_http;
use gateway_e2e::trailers::spawn_grpc_with_trailers;
use gateway_runtime::streaming::ChunkedConfig;
use gateway_runtime::{Gateway, RouterExt};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/streaming/server/generate?count=2";

fn line(index: i32, kind: &str) -> String {
    format!("{{\"index\":{index},\"id\":\"c{index}\",\"kind\":\"{kind}\",\"lastEventId\":\"\"}}\n")
}

/// The gateway in front of a server whose calls end with the trailers
/// `x-cost: 7` and `x-shard: eu-1`.
async fn start(gateway: Gateway) -> SocketAddr {
    let mut extra = http::HeaderMap::new();
    extra.insert("x-cost", http::HeaderValue::from_static("7"));
    extra.insert("x-shard", http::HeaderValue::from_static("eu-1"));
    start_with(extra, gateway).await
}

/// The gateway in front of a server whose calls' trailers also carry `extra`.
async fn start_with(extra: http::HeaderMap, gateway: Gateway) -> SocketAddr {
    let grpc = spawn_grpc_with_trailers(extra).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let app = streaming_test_gateway::router(channel, &gateway).with_gateway_fallbacks(&gateway);
    spawn_http(app).await
}

fn declaring(keys: &[&str]) -> Gateway {
    Gateway::builder()
        .chunked(ChunkedConfig::default().declare_trailers(keys.iter().copied()))
        .build()
}

/// One HTTP/1.1 exchange on a raw connection: the response head's lines
/// (without the date) and the raw, still chunk-encoded body.
async fn http1(addr: SocketAddr, extra_headers: &str) -> (Vec<String>, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra_headers}\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let head = head
        .lines()
        .filter(|l| !l.starts_with("date:"))
        .map(str::to_owned)
        .collect();
    (head, body.to_owned())
}

fn chunk(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n", data.len())
}

#[tokio::test]
async fn http1_sends_announced_trailers_to_clients_that_accept_them() {
    let addr = start(declaring(&["x-cost", "X-Absent"])).await;
    let (head, body) = http1(addr, "TE: trailers\r\n").await;
    assert_eq!(
        head,
        [
            "HTTP/1.1 200 OK",
            "content-type: application/x-ndjson",
            "trailer: grpc-trailer-x-cost, grpc-trailer-x-absent",
            "cache-control: no-cache",
            "x-accel-buffering: no",
            "connection: close",
            "transfer-encoding: chunked",
        ]
    );
    // x-shard was not announced: HTTP/1.1 may not carry it.
    assert_eq!(
        body,
        format!(
            "{}{}0\r\ngrpc-trailer-x-cost: 7\r\n\r\n",
            chunk(&line(0, "even")),
            chunk(&line(1, "odd"))
        )
    );
}

#[tokio::test]
async fn http1_sends_no_trailers_unless_asked_and_announced() {
    let plain_end = format!(
        "{}{}0\r\n\r\n",
        chunk(&line(0, "even")),
        chunk(&line(1, "odd"))
    );
    // Announced, but the client did not send `TE: trailers`.
    let addr = start(declaring(&["x-cost"])).await;
    let (head, body) = http1(addr, "").await;
    assert!(!head.iter().any(|l| l.starts_with("trailer:")), "{head:?}");
    assert_eq!(body, plain_end);
    // Asked for, but nothing announced.
    let addr = start(Gateway::default()).await;
    let (head, body) = http1(addr, "TE: trailers\r\n").await;
    assert!(!head.iter().any(|l| l.starts_with("trailer:")), "{head:?}");
    assert_eq!(body, plain_end);
}

/// A GET over h2c (prior knowledge): the data, and the trailers if any.
async fn h2(addr: SocketAddr, te_trailers: bool) -> (Bytes, Option<http::HeaderMap>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::get(format!("http://{addr}{PATH}"));
    if te_trailers {
        request = request.header("te", "trailers");
    }
    let response = send
        .send_request(request.body(http_body_util::Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    (collected.to_bytes(), trailers)
}

#[tokio::test]
async fn h2_sends_every_trailer_to_clients_that_accept_them() {
    let addr = start(Gateway::default()).await;
    let lines = format!("{}{}", line(0, "even"), line(1, "odd"));

    let (data, trailers) = h2(addr, true).await;
    assert_eq!(data, lines.as_bytes());
    let trailers = trailers.expect("trailers");
    let mut fields: Vec<(String, String)> = trailers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    fields.sort();
    // The gRPC status fields are not metadata and stay behind.
    assert_eq!(
        fields,
        [
            ("grpc-trailer-x-cost".to_owned(), "7".to_owned()),
            ("grpc-trailer-x-shard".to_owned(), "eu-1".to_owned()),
        ]
    );

    let (data, trailers) = h2(addr, false).await;
    assert_eq!(data, lines.as_bytes());
    assert_eq!(trailers, None);
}

/// A backend (or a proxy before it) whose status details are not base64:
/// tonic's client panics on them, which would drop the client's connection
/// without an answer. The gateway ends the call with INTERNAL, as JSON, on
/// the calls it reads itself (server streams) and on those tonic reads
/// (client and bidi streams).
#[tokio::test]
async fn status_details_that_are_not_base64_end_calls_with_internal() {
    let mut extra = http::HeaderMap::new();
    extra.insert(
        "grpc-status-details-bin",
        http::HeaderValue::from_static("not base64!"),
    );
    let addr = start_with(extra, Gateway::default()).await;
    let http = reqwest::Client::new();
    let error = r#"{"code":13,"message":"protocol error: grpc-status-details-bin is not base64 (the backend's grpc-status 0, grpc-message \"\")","details":[]}"#;

    // Server stream: the messages, then the error as the last line.
    let response = http
        .get(format!("http://{addr}{PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!(
            "{}{}{{\"error\":{error}}}\n",
            line(0, "even"),
            line(1, "odd")
        )
    );

    // Client stream: the call's answer is the error.
    let response = http
        .post(format!("http://{addr}/streaming/client/add"))
        .body("{\"value\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await.unwrap(), error);

    // Bidi stream: the messages, then the error as the last line.
    let response = http
        .post(format!("http://{addr}/streaming/bidi/bulk-capitalize"))
        .body("{\"text\":\"ab\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!("{{\"text\":\"AB\"}}\n{{\"error\":{error}}}\n")
    );
}
