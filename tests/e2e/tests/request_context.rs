//! Request context: HTTP request extensions reach an in-process service
//! (inserted by a real tower layer; tonic in process and direct calls alike), the metadata annotator adds metadata,
//! the response hook turns response metadata into a cookie and a status,
//! and W3C trace context is forwarded, in every mode.

mod common;

use common::{Backend, app};
use futures_util::{SinkExt, StreamExt};
use gateway_e2e::Caller;
use gateway_e2e::serve::spawn_http;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use http::StatusCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The gateway under test: an annotator that turns the `X-User` header
/// (which the default header rules drop) into `x-caller` metadata, and a
/// response hook that renews a session cookie from the `x-session`
/// response metadata and answers 201 when the service sent `x-reply`.
fn gateway() -> Gateway {
    Gateway::builder()
        .websocket(WebSocketConfig::default())
        .metadata_annotator(|parts, metadata| {
            if let Some(user) = parts.headers.get("x-user").and_then(|v| v.to_str().ok())
                && let Ok(value) = format!("user:{user}").parse()
            {
                metadata.insert("x-caller", value);
            }
        })
        .response_hook(|metadata, response| {
            if let Some(session) = metadata.get("x-session").and_then(|v| v.to_str().ok())
                && let Ok(cookie) = format!("session={session}; HttpOnly").parse()
            {
                response
                    .headers_mut()
                    .append(http::header::SET_COOKIE, cookie);
            }
            if metadata.contains_key("x-reply") {
                *response.status_mut() = StatusCode::CREATED;
            }
        })
        .build()
}

/// An auth layer as a tower layer: a bearer token becomes a [`Caller`] in
/// the request's extensions.
fn auth_layer() -> tower::util::MapRequestLayer<fn(axum::extract::Request) -> axum::extract::Request>
{
    fn authenticate(mut request: axum::extract::Request) -> axum::extract::Request {
        let caller = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|token| Caller(format!("token {token}")));
        if let Some(caller) = caller {
            request.extensions_mut().insert(caller);
        }
        request
    }
    tower::util::MapRequestLayer::new(authenticate)
}

async fn start(backend: Backend) -> std::net::SocketAddr {
    spawn_http(app(backend, &gateway()).await.layer(auth_layer())).await
}

const WHO: &str = "/streaming/server/whoami";

#[tokio::test]
async fn unary_sees_extensions_annotations_and_hook_in_process() {
    unary_sees_extensions_annotations_and_hook(Backend::InProcess).await;
}

#[tokio::test]
async fn unary_sees_extensions_annotations_and_hook_direct() {
    unary_sees_extensions_annotations_and_hook(Backend::Direct).await;
}

async fn unary_sees_extensions_annotations_and_hook(backend: Backend) {
    let addr = start(backend).await;
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/v1/metadata"))
        .header("authorization", "Bearer abc")
        .header("x-user", "ann")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "congo=t61rcWkgMzE")
        .send()
        .await
        .unwrap();
    // The hook: the service's `x-reply` metadata made it 201.
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let md = &body["metadata"];
    assert_eq!(md["(extension) caller"], "token abc");
    assert_eq!(md["x-caller"], "user:ann");
    assert_eq!(
        md["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(md["tracestate"], "congo=t61rcWkgMzE");
}

#[tokio::test]
async fn remote_backend_gets_annotations_but_not_extensions() {
    // Extensions live in the process: over a network hop only metadata
    // travels.
    let addr = start(Backend::Remote).await;
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/v1/metadata"))
        .header("authorization", "Bearer abc")
        .header("x-user", "ann")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["metadata"]["x-caller"], "user:ann");
    assert!(body["metadata"].get("(extension) caller").is_none());
}

#[tokio::test]
async fn sse_and_ndjson_see_extensions_annotations_and_hook_in_process() {
    sse_and_ndjson_see_extensions_annotations_and_hook(Backend::InProcess).await;
}

#[tokio::test]
async fn sse_and_ndjson_see_extensions_annotations_and_hook_direct() {
    sse_and_ndjson_see_extensions_annotations_and_hook(Backend::Direct).await;
}

async fn sse_and_ndjson_see_extensions_annotations_and_hook(backend: Backend) {
    let addr = start(backend).await;
    for accept in ["text/event-stream", "application/x-ndjson"] {
        let response = reqwest::Client::new()
            .get(format!("http://{addr}{WHO}"))
            .header("accept", accept)
            .header("authorization", "Bearer xyz")
            .header("x-user", "bob")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(
            response.headers()["set-cookie"],
            "session=renewed; HttpOnly",
            "{accept}"
        );
        let text = response.text().await.unwrap();
        let expected = if accept == "text/event-stream" {
            "data: {\"text\":\"extension: token xyz\"}\n\n\
             data: {\"text\":\"metadata: user:bob\"}\n\n\
             data: {\"text\":\"authorization: Bearer xyz\"}\n\n\
             id: EOS\nevent: EOS\ndata: \n\n"
        } else {
            "{\"text\":\"extension: token xyz\"}\n{\"text\":\"metadata: user:bob\"}\n\
             {\"text\":\"authorization: Bearer xyz\"}\n"
        };
        assert_eq!(text, expected, "{accept}");
    }
    // Without the token and the header, neither is there.
    let (status, _, text) = common::Env {
        addr,
        http: reqwest::Client::new(),
        truth: true,
    }
    .send("GET", WHO, None, &[])
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        text,
        "{\"text\":\"extension: none\"}\n{\"text\":\"metadata: none\"}\n"
    );
}

#[tokio::test]
async fn client_streams_see_extensions_in_process() {
    client_streams_see_extensions(Backend::InProcess).await;
}

#[tokio::test]
async fn client_streams_see_extensions_direct() {
    client_streams_see_extensions(Backend::Direct).await;
}

/// A client stream (NDJSON up, and its raw-body binding) reaches the
/// service with the extensions the auth layer inserted.
async fn client_streams_see_extensions(backend: Backend) {
    let addr = start(backend).await;
    for (path, body, reply) in [
        (
            "/streaming/client/add",
            "{\"value\":2}\n{\"value\":3}\n",
            "{\"sum\":5,\"count\":2}",
        ),
        ("/streaming/client/add-raw", "4", "4"),
    ] {
        let response = reqwest::Client::new()
            .post(format!("http://{addr}{path}"))
            .header("authorization", "Bearer xyz")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["grpc-metadata-x-caller-extension"],
            "token xyz",
            "{path}"
        );
        assert_eq!(response.text().await.unwrap(), reply, "{path}");
    }
}

#[tokio::test]
async fn websocket_sees_extensions_and_annotations_in_process() {
    websocket_sees_extensions_and_annotations(Backend::InProcess).await;
}

#[tokio::test]
async fn websocket_sees_extensions_and_annotations_direct() {
    websocket_sees_extensions_and_annotations(Backend::Direct).await;
}

async fn websocket_sees_extensions_and_annotations(backend: Backend) {
    let addr = start(backend).await;
    let mut request = format!("ws://{addr}{WHO}").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer ws1".parse().unwrap());
    request
        .headers_mut()
        .insert("x-user", "cat".parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    // The 101 goes out before the call: the response hook has nothing to
    // work on there.
    assert!(response.headers().get("set-cookie").is_none());
    ws.send(Message::text("")).await.unwrap();
    let mut texts = Vec::new();
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(text) => texts.push(text.to_string()),
            Message::Close(frame) => {
                assert_eq!(u16::from(frame.unwrap().code), 1000);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(
        texts,
        [
            r#"{"text":"extension: token ws1"}"#,
            r#"{"text":"metadata: user:cat"}"#,
            r#"{"text":"authorization: Bearer ws1"}"#
        ]
    );
}
