//! The hand-written baseline: what one would write with axum, serde_json
//! and the tonic client without a generator, for the three bindings the
//! benchmark drives. Same paths, same backend, same JSON as the generated
//! gateway; none of its generality (no path templates, query binding,
//! header↔metadata mapping, error mapping or deadlines).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use gateway_e2e::e2e::echo::v1::Kitchen;
use gateway_e2e::e2e::echo::v1::echo_service_client::EchoServiceClient;
use gateway_e2e::e2e::stream::v1::streaming_test_client::StreamingTestClient;
use gateway_e2e::e2e::stream::v1::{ChatMessage, GenerateRequest};
use http::{StatusCode, Uri, header};
use tonic::transport::Channel;

use crate::payload::{ChatBody, EchoBody, TextBody};

#[derive(Clone)]
struct Clients {
    echo: EchoServiceClient<Channel>,
    streams: StreamingTestClient<Channel>,
}

pub fn router(channel: Channel) -> axum::Router {
    axum::Router::new()
        .route("/v1/echo", post(echo))
        .route("/streaming/server/notifications", get(notifications))
        .route("/streaming/bidi/chat", get(chat))
        .with_state(Clients {
            echo: EchoServiceClient::new(channel.clone()),
            streams: StreamingTestClient::new(channel),
        })
}

fn upstream_error(status: tonic::Status) -> Response {
    (StatusCode::BAD_GATEWAY, status.message().to_string()).into_response()
}

/// Unary: JSON body → serde struct → `Kitchen` → tonic → serde → JSON.
async fn echo(State(clients): State<Clients>, body: Bytes) -> Response {
    let request: EchoBody = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match clients.echo.clone().echo(Kitchen::from(request)).await {
        Ok(reply) => {
            let json =
                serde_json::to_vec(&EchoBody::from(reply.into_inner())).expect("serializable");
            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        Err(status) => upstream_error(status),
    }
}

/// `?delayMs=N`, the one query parameter the SSE scenario sends.
fn delay_ms(uri: &Uri) -> i32 {
    uri.query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("delayMs="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// SSE: the tonic server stream as `data:` events, with axum's default
/// 15 s keep-alive (the gateway's default heartbeat is the same).
async fn notifications(State(clients): State<Clients>, uri: Uri) -> Response {
    let request = GenerateRequest {
        delay_ms: delay_ms(&uri),
        ..GenerateRequest::default()
    };
    match clients.streams.clone().notify_me(request).await {
        Ok(response) => {
            let events = response.into_inner().map(|item| {
                Ok::<_, std::convert::Infallible>(match item {
                    Ok(message) => Event::default().data(
                        serde_json::to_string(&TextBody::from(message)).expect("serializable"),
                    ),
                    Err(status) => Event::default().event("failure").data(status.message()),
                })
            });
            Sse::new(events)
                .keep_alive(KeepAlive::default())
                .into_response()
        }
        Err(status) => upstream_error(status),
    }
}

/// WebSocket → tonic bidi stream: text frames in, text frames out; an empty
/// frame half-closes the request stream.
async fn chat(State(clients): State<Clients>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| chat_session(clients.streams, socket))
}

pub(super) async fn chat_session(mut client: StreamingTestClient<Channel>, socket: WebSocket) {
    let (mut sink, mut source) = socket.split();
    let (requests, queue) = tokio::sync::mpsc::channel::<ChatMessage>(16);
    // Frames → request messages, on their own task so that requests and
    // responses flow independently.
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = source.next().await {
            let text = match frame {
                Message::Text(text) => text,
                Message::Close(_) => break,
                _ => continue,
            };
            if text.is_empty() {
                break;
            }
            let Ok(body) = serde_json::from_str::<ChatBody>(&text) else {
                break;
            };
            if requests.send(body.into()).await.is_err() {
                break;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(queue);
    if let Ok(response) = client.chat(stream).await {
        let mut responses = response.into_inner();
        while let Ok(Some(message)) = responses.message().await {
            let json = serde_json::to_string(&ChatBody::from(message)).expect("serializable");
            if sink.send(Message::Text(json.into())).await.is_err() {
                break;
            }
        }
    }
    reader.abort();
    let _ = sink.send(Message::Close(None)).await;
}
