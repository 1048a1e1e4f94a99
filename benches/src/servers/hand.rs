//! The hand-written baseline: what one would write with axum, serde_json
//! and the tonic client without a generator, for the bindings the
//! benchmark drives (unary, SSE, WebSocket, NDJSON down and up). Same paths, same backend, same JSON as the generated
//! gateway; none of its generality (no path templates, query binding,
//! header↔metadata mapping, error mapping or deadlines).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use gateway_e2e::e2e::echo::v1::Kitchen;
use gateway_e2e::e2e::echo::v1::echo_service_client::EchoServiceClient;
use gateway_e2e::e2e::stream::v1::streaming_test_client::StreamingTestClient;
use gateway_e2e::e2e::stream::v1::{AddRequest, ChatMessage, GenerateRequest};
use http::{HeaderMap, StatusCode, Uri, header};
use tonic::transport::Channel;

use crate::payload::{AddBody, ChatBody, EchoBody, GenerateBody, SumBody, TextBody};

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
        .route("/streaming/server/generate", get(generate))
        .route("/streaming/client/add", post(add))
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

/// The integer query parameter `name` (`delayMs` of the SSE scenario,
/// `count` of the NDJSON one).
fn query_int(uri: &Uri, name: &str, default: i32) -> i32 {
    uri.query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SSE: the tonic server stream as `data:` events, with axum's default
/// 15 s keep-alive (the gateway's default heartbeat is the same).
async fn notifications(State(clients): State<Clients>, uri: Uri) -> Response {
    let request = GenerateRequest {
        delay_ms: query_int(&uri, "delayMs", 1000),
        ..GenerateRequest::default()
    };
    match clients.streams.clone().notify_me(request).await {
        Ok(response) => sse_events(response.into_inner(), TextBody::from),
        Err(status) => upstream_error(status),
    }
}

/// A tonic server stream as SSE: each message's serde `body` as a `data:`
/// event, an error as a `failure` event, axum's default keep-alive.
fn sse_events<M, B: serde::Serialize + 'static>(
    messages: tonic::Streaming<M>,
    body: fn(M) -> B,
) -> Response
where
    M: Send + 'static,
{
    let events = messages.map(move |item| {
        Ok::<_, std::convert::Infallible>(match item {
            Ok(message) => {
                Event::default().data(serde_json::to_string(&body(message)).expect("serializable"))
            }
            Err(status) => Event::default().event("failure").data(status.message()),
        })
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// NDJSON down: the tonic server stream as one serde JSON line per message;
/// as SSE events (axum's `Sse`, default keep-alive) when the client
/// accepts `text/event-stream` (the short-streams scenario).
async fn generate(State(clients): State<Clients>, headers: HeaderMap, uri: Uri) -> Response {
    let request = GenerateRequest {
        count: query_int(&uri, "count", 0),
        ..GenerateRequest::default()
    };
    let sse = headers
        .get(header::ACCEPT)
        .is_some_and(|accept| accept.as_bytes().starts_with(b"text/event-stream"));
    match clients.streams.clone().generate(request).await {
        Ok(response) if sse => sse_events(response.into_inner(), GenerateBody::from),
        Ok(response) => {
            let lines = response.into_inner().map(|item| {
                let message = item.map_err(|status| std::io::Error::other(status.to_string()))?;
                let mut line =
                    serde_json::to_vec(&GenerateBody::from(message)).expect("serializable");
                line.push(b'\n');
                Ok::<_, std::io::Error>(Bytes::from(line))
            });
            (
                [(header::CONTENT_TYPE, "application/x-ndjson")],
                Body::from_stream(lines),
            )
                .into_response()
        }
        Err(status) => upstream_error(status),
    }
}

/// NDJSON up: each line of the body, a serde `AddBody`, as a message of the
/// tonic client stream (a bad line ends the stream); the reply as JSON.
async fn add(State(clients): State<Clients>, body: Body) -> Response {
    match clients.streams.clone().add(add_requests(body)).await {
        Ok(reply) => {
            let json =
                serde_json::to_vec(&SumBody::from(reply.into_inner())).expect("serializable");
            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        Err(status) => upstream_error(status),
    }
}

/// The lines of `body` as `AddRequest`s, parsed as the chunks arrive.
fn add_requests(body: Body) -> impl futures_util::Stream<Item = AddRequest> + Send + 'static {
    let state = (body.into_data_stream(), Vec::<u8>::new(), 0usize);
    futures_util::stream::unfold(state, |(mut data, mut buf, mut start)| async move {
        loop {
            if let Some(end) = buf[start..].iter().position(|&b| b == b'\n') {
                let line = &buf[start..start + end];
                start += end + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let body: AddBody = serde_json::from_slice(line).ok()?;
                return Some((AddRequest { value: body.value }, (data, buf, start)));
            }
            buf.drain(..start);
            start = 0;
            match data.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                // The last line may lack its line break.
                _ if buf.iter().all(u8::is_ascii_whitespace) => return None,
                _ => {
                    let body: AddBody = serde_json::from_slice(&std::mem::take(&mut buf)).ok()?;
                    return Some((AddRequest { value: body.value }, (data, buf, start)));
                }
            }
        }
    })
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
