//! The example's HTTP endpoints without a browser: the unary calls, the
//! subscribe stream in each mode (SSE, NDJSON, WebSocket), the batch upload
//! (client stream) and the WebSocket chat (bidi), with both backends.

#![allow(missing_docs)]

mod common;

use std::time::Duration;

use chat_example::pb::chat::v1::PostMessageRequest;
use chat_example::pb::chat::v1::chat_service_client::ChatServiceClient;
use common::{Backend, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(20);

/// Reads a streamed body until it contains `needle` (or ends).
async fn read_until(response: &mut reqwest::Response, text: &mut String, needle: &str) {
    while !text.contains(needle) {
        let chunk = tokio::time::timeout(TIMEOUT, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("stream stalled before {needle:?}; got {text:?}"))
            .unwrap();
        match chunk {
            Some(chunk) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
            None => break,
        }
    }
}

/// The `data:` payloads of an SSE body, as JSON.
fn sse_data(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect()
}

async fn unary(backend: Backend) {
    let server = Server::start(backend).await;
    let (status, body) = server
        .post("/v1/rooms/r1/messages", r#"{"user":"ann","text":"hi"}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    let posted: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        posted,
        json!({"id":"1","room":"r1","user":"ann","text":"hi","source":"post"})
    );
    // The additional binding from chat_gateway.yaml: the room in the body.
    let (status, body) = server
        .post("/v1/messages", r#"{"room":"r1","text":"again"}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    // GetRoom, bound only in chat_gateway.yaml.
    let room = server.get_json("/v1/rooms/r1").await;
    assert_eq!(room["messageCount"], 2);
    assert_eq!(room["listenerCount"], 0);
    assert_eq!(texts(room["recent"].as_array().unwrap()), ["hi", "again"]);
    assert_eq!(room["recent"][1]["user"], "anonymous");
    // Validation errors are gRPC INVALID_ARGUMENT, HTTP 400.
    let (status, body) = server
        .post("/v1/rooms/r1/messages", r#"{"text":"  "}"#)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":3,"message":"text is empty","details":[]}"#)
    );
}

#[tokio::test]
async fn unary_in_process() {
    unary(Backend::InProcess).await;
}

#[tokio::test]
async fn unary_remote() {
    unary(Backend::Remote).await;
}

async fn sse(backend: Backend) {
    let server = Server::start(backend).await;
    for text in ["one", "two", "three"] {
        server
            .post("/v1/rooms/s/messages", &format!(r#"{{"text":"{text}"}}"#))
            .await;
    }
    // Replay from `?since=` (the alias from chat_gateway.yaml), ended by
    // `limit`: event ids, the retry hint and the EOS event.
    let response = server
        .client
        .get(server.url("/v1/rooms/s/events?since=1&limit=2"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("retry: 1000\n\nid: 2\ndata: {"), "{body}");
    assert!(body.contains("\n\nid: 3\ndata: {"), "{body}");
    assert!(body.ends_with("id: EOS\nevent: EOS\ndata: \n\n"), "{body}");
    assert_eq!(texts(&sse_data(&body)), ["two", "three"]);
    // A reconnecting EventSource sends Last-Event-ID: it wins over `since`.
    let body = server
        .client
        .get(server.url("/v1/rooms/s/events?since=0&limit=1"))
        .header("Accept", "text/event-stream")
        .header("Last-Event-ID", "2")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&sse_data(&body)), ["three"]);
    // Live: a message posted after subscribing arrives at once.
    let mut response = server
        .client
        .get(server.url("/v1/rooms/s/events"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    server.wait_for_listeners("s", 1).await;
    server
        .post("/v1/rooms/s/messages", r#"{"user":"live","text":"now"}"#)
        .await;
    let mut body = String::new();
    read_until(&mut response, &mut body, "\"now\"").await;
    assert_eq!(texts(&sse_data(&body)), ["now"]);
    drop(response);
    // Leaving drops the listener.
    server.wait_for_listeners("s", 0).await;
}

#[tokio::test]
async fn sse_in_process() {
    sse(Backend::InProcess).await;
}

#[tokio::test]
async fn sse_remote() {
    sse(Backend::Remote).await;
}

#[tokio::test]
async fn ndjson() {
    let server = Server::start(Backend::InProcess).await;
    let mut response = server
        .client
        .get(server.url("/v1/rooms/n/events?limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    server.wait_for_listeners("n", 1).await;
    for text in ["a", "b"] {
        server
            .post("/v1/rooms/n/messages", &format!(r#"{{"text":"{text}"}}"#))
            .await;
    }
    let mut body = String::new();
    read_until(&mut response, &mut body, "\"b\"").await;
    // The limit was reached: the stream ends after the second line.
    while let Some(chunk) = tokio::time::timeout(TIMEOUT, response.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(texts(&lines), ["a", "b"]);
    assert_eq!(lines[0]["id"], "1");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws(server: &Server, path: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{}{}", server.http, path))
        .await
        .unwrap()
        .0
}

/// The next text frame as JSON, or the close code as `Err`.
async fn next(ws: &mut Ws) -> Result<Value, u16> {
    loop {
        match tokio::time::timeout(TIMEOUT, ws.next())
            .await
            .expect("a frame")
            .expect("open")
            .unwrap()
        {
            Message::Text(t) => return Ok(serde_json::from_str(&t).unwrap()),
            Message::Close(frame) => return Err(frame.map_or(1005, |f| u16::from(f.code))),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn websocket_subscribe() {
    let server = Server::start(Backend::InProcess).await;
    let mut ws = ws(&server, "/v1/rooms/w/events?limit=1").await;
    // A server stream over WebSocket starts with one request frame, merged
    // over the query; an empty object keeps the query's values.
    ws.send(Message::text("{}")).await.unwrap();
    server.wait_for_listeners("w", 1).await;
    server
        .post("/v1/rooms/w/messages", r#"{"text":"over ws"}"#)
        .await;
    assert_eq!(next(&mut ws).await.unwrap()["text"], "over ws");
    assert_eq!(next(&mut ws).await, Err(1000));
}

async fn chat(backend: Backend) {
    let server = Server::start(backend).await;
    let mut ws = ws(&server, "/v1/rooms/c/chat").await;
    // The first frame joins (no text: nothing else is posted).
    ws.send(Message::text(r#"{"user":"bob"}"#)).await.unwrap();
    let joined = next(&mut ws).await.unwrap();
    assert_eq!(
        (&joined["user"], &joined["source"], &joined["room"]),
        (&json!("bob"), &json!("join"), &json!("c"))
    );
    ws.send(Message::text(r#"{"user":"bob","text":"hello"}"#))
        .await
        .unwrap();
    let echoed = next(&mut ws).await.unwrap();
    assert_eq!(
        (&echoed["text"], &echoed["source"]),
        (&json!("hello"), &json!("chat"))
    );
    // Others' messages reach the chat: HTTP and gRPC.
    server
        .post(
            "/v1/rooms/c/messages",
            r#"{"user":"ann","text":"from http"}"#,
        )
        .await;
    assert_eq!(next(&mut ws).await.unwrap()["text"], "from http");
    let mut grpc = ChatServiceClient::connect(format!("http://{}", server.grpc))
        .await
        .unwrap();
    grpc.post_message(PostMessageRequest {
        room: "c".into(),
        user: "carl".into(),
        text: "from grpc".into(),
    })
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["text"], "from grpc");
    // An empty frame ends the requests: the chat ends, close 1000.
    ws.send(Message::text("")).await.unwrap();
    assert_eq!(next(&mut ws).await, Err(1000));
    let room = server.get_json("/v1/rooms/c").await;
    let last = room["recent"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["user"], &last["source"]),
        (&json!("bob"), &json!("leave"))
    );
}

#[tokio::test]
async fn chat_in_process() {
    chat(Backend::InProcess).await;
}

#[tokio::test]
async fn chat_remote() {
    chat(Backend::Remote).await;
}

#[tokio::test]
async fn chat_error_closes_1011() {
    let server = Server::start(Backend::InProcess).await;
    let mut ws = ws(&server, "/v1/rooms/e/chat").await;
    ws.send(Message::text(r#"{"user":"x"}"#)).await.unwrap();
    next(&mut ws).await.unwrap();
    let long = "x".repeat(501);
    ws.send(Message::text(format!(r#"{{"text":"{long}"}}"#)))
        .await
        .unwrap();
    let error = next(&mut ws).await.unwrap();
    assert_eq!(error["code"], 3, "{error}");
    assert_eq!(next(&mut ws).await, Err(1011));
}

#[tokio::test]
async fn batch_upload() {
    let server = Server::start(Backend::InProcess).await;
    let (status, body) = server
        .post(
            "/v1/rooms/b/messages:batch",
            "{\"user\":\"u\",\"text\":\"1\"}\n{\"text\":\"2\"}\n{\"text\":\"3\"}\n",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"count":3,"ids":["1","2","3"]})
    );
    let room = server.get_json("/v1/rooms/b").await;
    assert_eq!(room["recent"][0]["source"], "upload");
    assert_eq!(room["recent"][2]["room"], "b");
}

#[tokio::test]
async fn page_and_fallbacks() {
    let server = Server::start(Backend::InProcess).await;
    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(page.contains("<script src=\"/app.js\">"));
    assert!(page.contains("<a id=\"openapi\" href=\"/openapi.json\">"));
    let script = server
        .client
        .get(server.url("/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript");
    // The page links the OpenAPI document, which the app serves.
    let openapi = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(openapi.headers()["content-type"], "application/json");
    let openapi: Value = serde_json::from_str(&openapi.text().await.unwrap()).unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert_eq!(
        openapi["paths"]["/v1/rooms/{room}/events"]["get"]["operationId"],
        "ChatService_Subscribe"
    );
    let missing = server.client.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.text().await.unwrap(),
        r#"{"code":5,"message":"Not Found","details":[]}"#
    );
    // Bidi chat is WebSocket only (chat_gateway.yaml): SSE says why not.
    let refused = server
        .client
        .get(server.url("/v1/rooms/x/chat"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 501);
}

/// Reading creates no room, and the number of rooms is capped with a clear
/// error: memory stays bounded whatever names clients send.
async fn rooms_are_bounded(backend: Backend) {
    let rooms = chat_example::ChatRooms::with_limits(3, std::time::Duration::from_secs(600));
    let server = Server::start_with(backend, rooms).await;
    for i in 0..200 {
        let room = server.get_json(&format!("/v1/rooms/never-{i}")).await;
        assert_eq!(
            room,
            json!({"name":format!("never-{i}"),"messageCount":0,"listenerCount":0,"recent":[]})
        );
    }
    assert_eq!(server.rooms.room_count(), 0, "GET created rooms");
    for room in ["a", "b", "c"] {
        let (status, body) = server
            .post(&format!("/v1/rooms/{room}/messages"), r#"{"text":"hi"}"#)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = server
        .post("/v1/rooms/d/messages", r#"{"text":"hi"}"#)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            429,
            r#"{"code":8,"message":"too many rooms: at most 3 at once; try again later or use an existing room","details":[]}"#
        )
    );
    // Existing rooms still work; over-long names are refused.
    let (status, _) = server
        .post("/v1/rooms/a/messages", r#"{"text":"again"}"#)
        .await;
    assert_eq!(status, 200);
    let long = "x".repeat(65);
    let (status, body) = server
        .post(&format!("/v1/rooms/{long}/messages"), r#"{"text":"hi"}"#)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"code":3,"message":"room name is longer than 64 bytes","details":[]}"#
        )
    );
    assert_eq!(server.rooms.room_count(), 3);
}

#[tokio::test]
async fn rooms_are_bounded_in_process() {
    rooms_are_bounded(Backend::InProcess).await;
}

#[tokio::test]
async fn rooms_are_bounded_remote() {
    rooms_are_bounded(Backend::Remote).await;
}

/// The document the example serves passes the official OpenAPI 3.1 schema
/// (the validator of the repository's tests, `tests/tools/openapi-validate.sh`).
#[test]
fn served_openapi_document_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.v1.openapi.json");
    std::fs::write(&path, chat_example::OPENAPI).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/tools/openapi-validate.sh");
    let output = std::process::Command::new(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
