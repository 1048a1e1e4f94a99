//! Direct calls (`foo_gateway::direct_router`) with an interceptor: it
//! runs on every call, in every mode; a refusal is the HTTP error (or
//! WebSocket close) the tonic path gives for the same interceptor on
//! `FooServer::with_interceptor`; what it adds reaches the service. Each
//! case is sent to both and the answers compared, byte for byte.

mod common;

use common::{Env, next_text};
use futures_util::SinkExt;
use gateway_e2e::Caller;
use gateway_e2e::e2e::echo::v1::echo_service_gateway;
use gateway_e2e::e2e::echo::v1::echo_service_server::EchoServiceServer;
use gateway_e2e::e2e::stream::v1::streaming_test_gateway;
use gateway_e2e::e2e::stream::v1::streaming_test_server::StreamingTestServer;
use gateway_e2e::serve::spawn_http;
use gateway_e2e::services::Echo;
use gateway_e2e::streaming::Streams;
use gateway_runtime::streaming::WebSocketConfig;
use gateway_runtime::{Direct, Gateway, RouterExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// An authentication check as a tonic interceptor: the same function
/// serves `FooServer::with_interceptor` and `Direct::with_interceptor`.
fn check(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let token = request.metadata().get("authorization");
    if token.is_none_or(|t| t != "Bearer good") {
        return Err(tonic::Status::unauthenticated("no good token"));
    }
    request
        .extensions_mut()
        .insert(Caller("interceptor".into()));
    request
        .metadata_mut()
        .insert("x-caller", "checked".parse().unwrap());
    Ok(request)
}

/// The echo service called directly, its check kept.
fn echo_routes(gateway: &Gateway) -> axum::Router {
    echo_service_gateway::direct_router(Direct::new(Echo).with_interceptor(check), gateway)
}

/// The gateway with both services, called directly or through tonic.
async fn start(direct: bool) -> Env {
    let gateway = Gateway::builder()
        .websocket(WebSocketConfig::default())
        .build();
    let (echo, streams) = if direct {
        (
            echo_routes(&gateway),
            streaming_test_gateway::direct_router(
                Direct::new(Streams).with_interceptor(check),
                &gateway,
            ),
        )
    } else {
        (
            echo_service_gateway::router(
                EchoServiceServer::with_interceptor(Echo, check),
                &gateway,
            ),
            streaming_test_gateway::router(
                StreamingTestServer::with_interceptor(Streams, check),
                &gateway,
            ),
        )
    };
    let app = axum::Router::new()
        .merge(echo)
        .merge(streams)
        .with_gateway_fallbacks(&gateway);
    Env {
        addr: spawn_http(app).await,
        http: reqwest::Client::new(),
        truth: true,
    }
}

/// Status, the headers that are not per-connection, and body.
type Answer = (u16, Vec<(String, String)>, String);

async fn answer(env: &Env, method: &str, path: &str, body: Option<&str>, token: bool) -> Answer {
    let mut headers = vec![("accept", "application/json")];
    if path.contains("whoami") {
        headers[0].1 = "text/event-stream";
    }
    if token {
        headers.push(("authorization", "Bearer good"));
    }
    let (status, map, mut text) = env.send(method, path, body, &headers).await;
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(metadata) = value["metadata"].as_object_mut()
    {
        // What differs: the port, and the headers of tonic's transport
        // (a direct call has no HTTP/2 request, so no `content-type: application/grpc`
        // and `te: trailers`).
        for key in ["grpcgateway-host", "x-forwarded-host", "content-type", "te"] {
            metadata.remove(key);
        }
        text = value.to_string();
    }
    let mut headers: Vec<(String, String)> = map
        .iter()
        .filter(|(k, _)| *k != "date" && *k != "content-length")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
        .collect();
    headers.sort();
    (status, headers, text)
}

/// Every streaming shape, with and without the token.
const CASES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/v1/metadata", None),
    ("GET", "/streaming/server/whoami", None),
    (
        "POST",
        "/streaming/client/add",
        Some("{\"value\":2}\n{\"value\":3}\n"),
    ),
    (
        "POST",
        "/streaming/bidi/bulk-capitalize",
        Some("{\"text\":\"a\"}\n{\"text\":\"b\"}\n"),
    ),
];

#[tokio::test]
async fn interceptor_answers_like_the_tonic_path() {
    let (tonic, direct) = (start(false).await, start(true).await);
    for &(method, path, body) in CASES {
        for token in [false, true] {
            let expected = answer(&tonic, method, path, body, token).await;
            let got = answer(&direct, method, path, body, token).await;
            assert_eq!(got, expected, "{method} {path} token={token}");
            if !token {
                assert_eq!(got.0, 401, "{path}");
                assert!(got.2.contains("no good token"), "{path}: {}", got.2);
            } else {
                assert_eq!(got.0, 200, "{path}: {}", got.2);
            }
        }
    }
}

#[tokio::test]
async fn interceptor_refusal_is_401_with_the_status() {
    let env = start(true).await;
    let (status, _, body) = answer(&env, "GET", "/v1/metadata", None, false).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        r#"{"code":16,"message":"no good token","details":[]}"#
    );
}

#[tokio::test]
async fn interceptor_metadata_and_extensions_reach_the_service() {
    let env = start(true).await;
    let (status, _, body) = answer(&env, "GET", "/v1/metadata", None, true).await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["metadata"]["x-caller"], "checked");
    assert_eq!(body["metadata"]["(extension) caller"], "interceptor");
    assert_eq!(body["metadata"]["authorization"], "Bearer good");
    let (status, _, body) = answer(&env, "GET", "/streaming/server/whoami", None, true).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "data: {\"text\":\"extension: interceptor\"}\n\n\
         data: {\"text\":\"metadata: checked\"}\n\n\
         data: {\"text\":\"authorization: Bearer good\"}\n\n\
         id: EOS\nevent: EOS\ndata: \n\n"
    );
}

/// A WebSocket chat: refused, the socket closes as the tonic path closes
/// it; allowed, it chats.
#[tokio::test]
async fn interceptor_on_websocket_matches_the_tonic_path() {
    async fn chat(env: &Env, token: bool) -> Vec<Result<String, (u16, String)>> {
        let mut request = format!("ws://{}/streaming/bidi/chat", env.addr)
            .into_client_request()
            .unwrap();
        if token {
            request
                .headers_mut()
                .insert("authorization", "Bearer good".parse().unwrap());
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        ws.send(Message::text(r#"{"text":"hi"}"#)).await.unwrap();
        if token {
            // Half-close: the chat answers and ends.
            ws.send(Message::text("")).await.unwrap();
        }
        let mut seen = Vec::new();
        loop {
            let frame = next_text(&mut ws).await;
            let end = frame.is_err();
            seen.push(frame);
            if end {
                return seen;
            }
        }
    }
    let (tonic, direct) = (start(false).await, start(true).await);
    for token in [false, true] {
        let expected = chat(&tonic, token).await;
        assert_eq!(chat(&direct, token).await, expected, "token={token}");
    }
    assert_eq!(
        chat(&direct, true).await,
        [
            Ok(r#"{"user":"bot","text":"echo: hi"}"#.to_string()),
            Err((1000, String::new()))
        ]
    );
    let refused = chat(&direct, false).await;
    assert!(
        format!("{refused:?}").contains("no good token"),
        "{refused:?}"
    );
}
