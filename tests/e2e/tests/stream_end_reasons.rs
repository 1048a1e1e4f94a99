//! Every stream ends with a `stream ended` event carrying its reason, on
//! the request's span with the OpenTelemetry field names: completed, gRPC
//! error, client gone, slow consumer, idle (ping) timeout.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, Env};
use futures_util::SinkExt;
use gateway_runtime::Gateway;
use gateway_runtime::streaming::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// `name=value` pairs of a span or an event, as text.
#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!("{}={value} ", field.name()));
    }
}

/// Each `stream ended` event: its fields, then its span's.
#[derive(Clone, Default)]
struct Ends(Arc<Mutex<Vec<String>>>);

impl<S> tracing_subscriber::Layer<S> for Ends
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<Fields>() {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if !fields.0.contains("message=stream ended") {
            return;
        }
        if let Some(span) = ctx.event_span(event)
            && let Some(span_fields) = span.extensions().get::<Fields>()
        {
            fields.0.push_str("| ");
            fields.0.push_str(&span_fields.0);
        }
        self.0.lock().unwrap().push(fields.0);
    }
}

impl Ends {
    /// Waits for the next `stream ended` event.
    async fn next(&self, seen: &mut usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.0.lock().unwrap().get(*seen).cloned() {
                *seen += 1;
                return line;
            }
            assert!(Instant::now() < deadline, "no stream ended");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn each_end_reason_is_reported() {
    let ends = Ends::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ends.clone()))
        .unwrap();
    let gateway = Gateway::builder()
        .websocket(
            WebSocketConfig::default()
                .ping_interval(Some(Duration::from_millis(100)))
                .pong_timeout(Duration::from_millis(100)),
        )
        .stall_timeout(Some(Duration::from_millis(300)))
        .build();
    let env = Env::start(Backend::InProcess, gateway).await;
    let mut seen = 0;

    let sse = [("accept", "text/event-stream")];
    env.send("GET", "/streaming/server/generate?count=2", None, &sse)
        .await;
    let end = ends.next(&mut seen).await;
    for part in [
        "reason=completed",
        "mode=sse",
        "http.route=/streaming/server/generate",
        "rpc.system=grpc",
        "rpc.service=e2e.stream.v1.StreamingTest",
        "rpc.method=Generate",
        "http.request.method=GET",
        "gateway.stream.mode=sse",
        "http.response.status_code=200",
        "rpc.grpc.status_code=0",
    ] {
        assert!(end.contains(part), "{part} in {end}");
    }
    // The path, never the query (it may carry an access token).
    assert!(
        end.contains("url.path=/streaming/server/generate "),
        "{end}"
    );
    assert!(!end.contains("count=2"), "{end}");

    env.send(
        "GET",
        "/streaming/server/generate?count=3&failAfter=1&failCode=5",
        None,
        &[],
    )
    .await;
    let end = ends.next(&mut seen).await;
    assert!(end.contains("reason=grpc_error"), "{end}");
    assert!(end.contains("mode=chunked"), "{end}");
    assert!(end.contains("rpc.grpc.status_code=5"), "{end}");

    // The client reads the first message and goes away.
    let mut response = env
        .http
        .get(env.url("/streaming/server/notifications-ndjson?delayMs=10000"))
        .send()
        .await
        .unwrap();
    response.chunk().await.unwrap();
    drop(response);
    let end = ends.next(&mut seen).await;
    assert!(end.contains("reason=client_gone"), "{end}");

    // A client that grants no HTTP/2 window: a slow consumer.
    {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        let tcp = tokio::net::TcpStream::connect(env.addr).await.unwrap();
        let (mut send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(0)
            .handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = http::Request::get(format!(
            "http://{}/streaming/server/generate?count=2000000000",
            env.addr
        ))
        .header("accept", "text/event-stream")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
        let response = send.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let end = ends.next(&mut seen).await;
        assert!(end.contains("reason=slow_consumer"), "{end}");
        drop(response);
    }

    // A WebSocket peer that never answers pings (it never reads).
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/streaming/bidi/chat", env.addr))
            .await
            .unwrap();
    ws.send(Message::text(r#"{"text":"hi"}"#)).await.unwrap();
    let end = ends.next(&mut seen).await;
    assert!(end.contains("reason=idle_timeout"), "{end}");
    assert!(end.contains("mode=websocket"), "{end}");
    assert!(end.contains("http.response.status_code=101"), "{end}");
    drop(ws);
}
