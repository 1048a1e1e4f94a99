//! WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with
//! `:protocol websocket` on an h2c connection, then frames over the
//! stream, against the real tonic streaming service.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Backend, Env, next_text};
use futures_util::SinkExt;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Opens `path` with an extended CONNECT over h2c: the WebSocket on
/// success, else the status and body.
async fn connect(env: &Env, path: &str) -> Result<Ws, (u16, String)> {
    let tcp = tokio::net::TcpStream::connect(env.addr).await.unwrap();
    let (mut send, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = || {
        http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(format!("http://{}{path}", env.addr))
            .header("sec-websocket-version", "13")
            .extension(hyper::ext::Protocol::from_static("websocket"))
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap()
    };
    // The server's SETTINGS (with ENABLE_CONNECT_PROTOCOL) may not have
    // arrived yet; the client refuses extended CONNECT until they have.
    let mut response = None;
    for _ in 0..50 {
        match send.send_request(request()).await {
            Ok(r) => {
                response = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let response = response.expect("extended CONNECT accepted by the client");
    let status = response.status().as_u16();
    if status != 200 {
        use http_body_util::BodyExt;
        let body = response.into_body().collect().await.unwrap().to_bytes();
        return Err((status, String::from_utf8(body.to_vec()).unwrap()));
    }
    let upgraded = hyper::upgrade::on(response).await.unwrap();
    Ok(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, None).await)
}

fn ws_gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .build()
}

both_backends!(bidi_chat_over_http2, ws_gateway(), |env| {
    let mut ws = connect(&env, "/streaming/bidi/chat").await.unwrap();
    ws.send(Message::text(r#"{"user":"me","text":"hi"}"#))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"user":"bot","text":"echo: hi"}"#
    );
    ws.send(Message::text("")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
});

both_backends!(server_stream_over_http2, ws_gateway(), |env| {
    let mut ws = connect(&env, "/streaming/server/generate?count=2")
        .await
        .unwrap();
    ws.send(Message::text("")).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"index":0,"id":"c0","kind":"even","lastEventId":""}"#
    );
    assert_eq!(
        next_text(&mut ws).await.unwrap(),
        r#"{"index":1,"id":"c1","kind":"odd","lastEventId":""}"#
    );
    assert_eq!(next_text(&mut ws).await, Err((1000, String::new())));
});

#[tokio::test]
async fn refusals_are_json_errors() {
    // WebSocket not enabled: 501, as over HTTP/1.1.
    let env = Env::start(Backend::InProcess, Gateway::default()).await;
    assert_eq!(
        connect(&env, "/streaming/bidi/chat").await.err().unwrap(),
        (
            501,
            r#"{"code":12,"message":"WebSocket streaming is not available for this endpoint: WebSocket is not enabled in the gateway settings","details":[]}"#
                .to_owned()
        )
    );
    // A unary GET path does not take CONNECT.
    let env = Env::start(Backend::InProcess, ws_gateway()).await;
    let (status, body) = connect(&env, "/v1/echo/hi").await.err().unwrap();
    assert_eq!(
        (status, body.as_str()),
        (
            405,
            r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
        )
    );
}
